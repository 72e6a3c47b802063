//! One engine, every shell the same answer (issue 15's regressions): the
//! CLI's `--json` and the API send the same structs, the CLI follows the
//! device chosen in Settings, tag edits report `was_on` and keep the
//! user's spelling, and a change made in a terminal reaches an open app.

use serde_json::{json, Value};

use crate::harness::Shell;
use crate::serve::{open_events, wait_event};

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn the_cli_and_the_api_send_the_same_answers() {
    let env = Shell::with_tiny_model();
    env.index_duplicates();
    let served = env.serve(&["--no-watch"]);

    let cli = env.json(&["search", "a photo", "--limit", "5", "--all"]);
    let api = served.ok("search", json!({"q": "a photo", "limit": 5, "all": true}));
    assert_eq!(cli, api, "search");
    for key in ["chips", "more", "query_text", "candidates", "cutoff"] {
        assert!(cli.get(key).is_some(), "search --json lacks {key}: {cli}");
    }
    assert_eq!(cli["query_text"], "a photo");

    let id = cli["results"][0]["id"].as_i64().unwrap();
    let cli = env.json(&["similar", &id.to_string(), "--limit", "5", "--all"]);
    let api = served.ok("similar", json!({"id": id, "limit": 5, "all": true}));
    assert_eq!(cli, api, "similar");

    let cli = env.json(&["dupes"]);
    let api = served.ok("dupes", json!({}));
    assert_eq!(cli, api, "dupes");
    assert!(cli["counts"]["exact"].as_u64().unwrap() >= 1, "{cli}");
    let group = &cli["groups"][0];
    let kept: Vec<&Value> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["keep"] == true)
        .collect();
    assert_eq!(kept.len(), 1, "one member is marked to keep: {group}");
    assert_eq!(kept[0]["id"], group["keep"]);
    assert!(group["differs"].is_array());

    // The page limit is the engine's, for both.
    let err = env.fails(&["search", "a photo", "--limit", "5000"]);
    assert!(err.contains("at most 2000"), "{err}");
    served.fails(
        "search",
        json!({"q": "a photo", "limit": 5000}),
        "invalid",
        422,
    );

    // Tag edits: the same answer, was_on from the engine (synonyms
    // included), the user's spelling kept.
    let cli = env.json(&["tag", "add", &id.to_string(), "beach"]);
    assert_eq!(cli["was_on"], false, "{cli}");
    assert_eq!(
        (cli["tag"].as_str(), cli["name"].as_str()),
        (Some("beach"), Some("Beach"))
    );
    let api = served.ok("tag_add", json!({"id": id, "tag": "seaside"}));
    assert_eq!(api["tag"], "beach");
    assert_eq!(api["was_on"], true, "a synonym of a tag already on: {api}");
    assert_eq!(keys(&cli), keys(&api));
    let again = env.json(&["tag", "add", &id.to_string(), "beach"]);
    assert_eq!(
        again["was_on"], true,
        "the CLI reports what was on: {again}"
    );
    let named = env.json(&["tag", "add", &id.to_string(), "our", "cat", "Chelsea"]);
    assert_eq!(named["name"], "our cat Chelsea");
    let photo = served.ok("photo", json!({"id": id}));
    assert!(
        photo["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "our cat Chelsea"),
        "{photo}"
    );
    let removed = served.ok("tag_remove", json!({"id": id, "tag": "Our Cat Chelsea"}));
    assert_eq!(removed["was_on"], true);
}

#[test]
fn the_cli_runs_models_on_the_device_chosen_in_settings() {
    let env = Shell::with_tiny_model();
    let doctor = env.json(&["doctor"]);
    assert_eq!(doctor["device_requested"], "auto");
    {
        let served = env.serve(&["--no-watch"]);
        let s = served.ok("settings_set", json!({"device": "cpu"}));
        assert_eq!(s["device_choice"], "cpu");
    }
    let doctor = env.json(&["doctor"]);
    assert_eq!(doctor["device_requested"], "cpu", "{doctor}");
    // A flag (or SHOEBOX_DEVICE) still wins over the setting.
    let doctor = env.json(&["--device", "cuda", "doctor"]);
    assert_eq!(doctor["device_requested"], "cuda", "{doctor}");
}

#[test]
fn a_change_made_in_a_terminal_reaches_an_open_app() {
    let env = Shell::with_tiny_model();
    std::fs::copy(
        crate::support::cc0_images()[0].clone(),
        env.photos.join("one.png"),
    )
    .unwrap();
    env.ok(&["add", env.photos_arg()]);
    env.ok(&["scan"]);
    let served = env.serve(&["--no-watch"]);
    let mut events = open_events(&served);
    let id = env.json(&["info", &env.photo("one.png")])["id"]
        .as_i64()
        .unwrap();
    env.ok(&["tag", "add", &id.to_string(), "sunset"]);
    let event = wait_event(&mut events, |e| {
        e["event"] == "changed"
            && e["what"] == "tags"
            && e["ids"]
                .as_array()
                .is_some_and(|ids| ids.contains(&json!(id)))
    });
    assert_eq!(event["what"], "tags");
}
