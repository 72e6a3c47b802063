//! `dispatch` without a transport, as the Tauri shell calls it: a real
//! library of generated JPEGs, added and scanned through the commands,
//! events from the bus, error codes and their HTTP statuses.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::{json, Value};
use shoebox_api::{dispatch, ApiOptions, ApiState, ImageKind, COMMANDS};

fn state(tmp: &tempfile::TempDir) -> ApiState {
    let mut opts = ApiOptions::new(tmp.path().join("library"));
    opts.resolve.offline = true;
    opts.resolve.cache_dir = tmp.path().join("hf");
    ApiState::open(opts).unwrap()
}

fn wait_idle(events: &crossbeam_channel::Receiver<Value>) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let e = events
            .recv_timeout(Duration::from_secs(30))
            .expect("an idle event");
        let idle = e["event"] == "idle";
        seen.push(e);
        if idle {
            return seen;
        }
    }
}

#[test]
fn folders_scan_timeline_tags_and_images_through_dispatch() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    for i in 0..6 {
        support::write(
            &photos.join(format!("p{i}.jpg")),
            &support::encode_jpeg(&support::synthetic(96, 64, i + 10), 90),
        );
    }
    let st = state(&tmp);
    let events = st.events().subscribe();

    let first = dispatch(&st, "first_run", Value::Null).unwrap();
    assert_eq!(first["needed"], true);
    assert_eq!(first["folders"], 0);

    let root = dispatch(&st, "folders_add", json!({"path": photos})).unwrap();
    assert!(root["id"].as_i64().is_some());
    let seen = wait_idle(&events);
    assert!(seen
        .iter()
        .any(|e| e["event"] == "changed" && e["what"] == "folders"));
    assert!(
        seen.iter()
            .any(|e| e["event"] == "progress" && e["kind"] == "scan" && e["done"] == 6),
        "{seen:?}"
    );

    let t = dispatch(&st, "timeline", json!({})).unwrap();
    assert_eq!(t["total"], 6);
    let id = t["photos"][0]["id"].as_i64().unwrap();
    let edit = dispatch(&st, "tag_add", json!({"id": id, "tag": "beach"})).unwrap();
    assert_eq!(edit["tag"], "beach");
    let by_tag = dispatch(&st, "tag_photos", json!({"tag": "beach"})).unwrap();
    assert_eq!(by_tag["total"], 1);

    let img = shoebox_api::image(&st, ImageKind::Thumb, id, None, None).unwrap();
    assert_eq!((img.status, img.content_type), (200, "image/jpeg"));
    let again = shoebox_api::image(&st, ImageKind::Thumb, id, None, Some(&img.etag)).unwrap();
    assert_eq!(again.status, 304);

    // No model in this library: search says so, with the code the UI
    // switches on; browsing works regardless.
    let e = dispatch(&st, "search", json!({"q": "beach"})).unwrap_err();
    assert_eq!((e.code(), e.http_status()), ("no_model", 409));
    let e = dispatch(&st, "search", json!({"q": "colour:red"})).unwrap_err();
    assert_eq!((e.code(), e.http_status()), ("bad_query", 400));
    let d = dispatch(&st, "dupes", json!({"tier": "exact"})).unwrap();
    assert_eq!(d["groups"], json!([]));
}

#[test]
fn errors_have_stable_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let st = state(&tmp);
    let cases = [
        ("nope", json!({}), "unknown_command", 404),
        ("photo", json!([1]), "bad_request", 400),
        ("photo", json!({}), "bad_request", 400),
        ("photo", json!({"id": 5}), "not_found", 404),
        ("reveal", json!({"id": 5}), "not_found", 404),
        ("folders_remove", json!({"id": 5}), "not_found", 404),
        ("dupes_resolve", json!({"group": "x1"}), "not_found", 404),
        ("dupes", json!({"tier": "fuzzy"}), "invalid", 422),
        ("timeline", json!({"limit": 100000}), "invalid", 422),
        (
            "model_choose",
            json!({"name": "no-such-model"}),
            "no_model",
            409,
        ),
    ];
    for (name, args, code, status) in cases {
        let e = dispatch(&st, name, args.clone()).unwrap_err();
        assert_eq!(
            (e.code(), e.http_status()),
            (code, status),
            "{name} {args}: {e}"
        );
        let body = e.to_json();
        assert_eq!(body["error"]["code"], code);
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    // Every argument-less read answers on an empty library.
    for c in COMMANDS.iter().filter(|c| c.get) {
        dispatch(&st, c.name, Value::Null).unwrap_or_else(|e| panic!("{}: {e}", c.name));
    }
}

#[test]
fn the_device_is_a_library_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let st = state(&tmp);
    let s = dispatch(&st, "settings_get", Value::Null).unwrap();
    assert_eq!(s["device_choice"], "auto");
    assert_eq!(s["devices"], json!(["auto", "cpu", "cuda", "metal"]));
    assert_eq!(s["device_locked"], false);

    let s = dispatch(&st, "settings_set", json!({"device": "cpu"})).unwrap();
    assert_eq!(
        (&s["device_choice"], &s["device"]),
        (&json!("cpu"), &json!("cpu"))
    );
    // Kept in the catalog: another process on the library sees it.
    drop(st);
    let st = state(&tmp);
    let s = dispatch(&st, "settings_get", Value::Null).unwrap();
    assert_eq!(s["device_choice"], "cpu");

    // An accelerator this build or machine lacks falls back to the CPU and
    // says why.
    let s = dispatch(&st, "settings_set", json!({"device": "cuda"})).unwrap();
    assert_eq!(s["device_choice"], "cuda");
    if s["device"] == "cpu" {
        assert!(
            s["device_reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{s}"
        );
    }

    let err = dispatch(&st, "settings_set", json!({"device": "tpu"})).unwrap_err();
    assert_eq!(err.code(), "invalid");
}

/// docs/api.md's index is the command table: every row, nothing else.
#[test]
fn the_api_doc_indexes_the_command_table() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md")).unwrap();
    let start = "<!-- command index: made from crates/api/src/commands/mod.rs -->\n";
    let begin = doc
        .find(start)
        .expect("docs/api.md has the command index marker")
        + start.len();
    let end = begin + doc[begin..].find("\n\n").unwrap_or(doc.len() - begin) + 1;
    assert_eq!(
        &doc[begin..end],
        shoebox_api::index_markdown(),
        "docs/api.md's command index differs from the table; paste the right side there"
    );
    for c in COMMANDS {
        assert!(
            doc.contains(&format!("#### `{}`", c.name)) || doc.contains(&format!("`{}`", c.name)),
            "docs/api.md does not describe {}",
            c.name
        );
    }
}
