//! The embedding commands as a user or script runs them: parity with the
//! Python reference through the CLI, kill -9 during the job, and a model
//! downloaded from a local stand-in for the Hugging Face hub.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{kill_repeatedly, stdout_of, tiny_model, Shell};
use crate::support::hub::Hub;
use crate::support::*;

/// A `shoebox` command with its own library and an empty, offline HF cache.
type Shoebox = Shell;

fn normalized(v: &[f64]) -> Vec<f64> {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let (a, b) = (normalized(a), normalized(b));
    a.iter().zip(&b).map(|(x, y)| x * y).sum()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn expected() -> Value {
    // The parity fixture of the family under test (SHOEBOX_TEST_FAMILY).
    let name = tiny_model();
    let name = name.file_name().unwrap();
    let path = repo_root()
        .join("tests/fixtures/parity")
        .join(name)
        .join("expected.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn embed_text_matches_the_reference() {
    let sb = Shoebox::new();
    let expected = expected();
    let cases = expected["texts"].as_array().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let model = tiny_model();
    let args = [
        &["--model", model.to_str().unwrap(), "embed-text"],
        texts.as_slice(),
    ]
    .concat();
    let got = sb.json(&args);
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), cases.len());
    for (case, row) in cases.iter().zip(got) {
        assert_eq!(row["text"], case["text"]);
        let cos = cosine(&floats(&row["embedding"]), &floats(&case["embedding"]));
        assert!(cos >= 0.9999, "{:?}: cos {cos}", case["text"]);
    }
}

#[test]
fn embed_image_matches_the_reference() {
    let sb = Shoebox::new();
    let expected = expected();
    let images = repo_root().join("tests/fixtures/parity/images");
    let cases = expected["images"].as_array().unwrap();
    let files: Vec<String> = cases
        .iter()
        .map(|c| {
            images
                .join(c["file"].as_str().unwrap())
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let model = tiny_model();
    let mut args = vec![
        "--model",
        model.to_str().unwrap(),
        "embed-image",
        "--full-decode",
    ];
    args.extend(files.iter().map(String::as_str));
    let got = sb.json(&args);
    for (case, row) in cases.iter().zip(got.as_array().unwrap()) {
        let cos = cosine(&floats(&row["embedding"]), &floats(&case["embedding"]));
        assert!(cos >= 0.999, "{}: cos {cos}", case["file"]);
    }
    // The job's reduced decode stays close to the full decode.
    let reduced = sb.json(
        &[
            &["--model", model.to_str().unwrap(), "embed-image"],
            &[files[0].as_str()][..],
        ]
        .concat(),
    );
    let cos = cosine(
        &floats(&reduced[0]["embedding"]),
        &floats(&got[0]["embedding"]),
    );
    assert!(cos >= 0.999, "reduced vs full decode: cos {cos}");
}

#[test]
fn kill_during_embed_leaves_a_consistent_catalog() {
    let sb = Shoebox::new();
    let photos = sb.tmp.path().join("photos");
    let bases: Vec<Vec<u8>> = (0..3)
        .map(|s| encode_jpeg(&synthetic_large(1600, 1200, s), 85))
        .collect();
    const N: usize = 120;
    for i in 0..N {
        let jpeg = with_comment(&bases[i % bases.len()], &format!("copy {i}"));
        write(&photos.join(format!("img-{i:03}.jpg")), &jpeg);
    }
    let model = tiny_model();
    let model = model.to_str().unwrap();
    sb.json(&["add", photos.to_str().unwrap()]);
    sb.json(&["scan"]);

    let (killed_mid_job, finished) = kill_repeatedly(
        || sb.command(&["--model", model, "embed", "--batch", "4"]),
        3,
        Duration::from_millis(450),
    );
    assert!(killed_mid_job > 0, "no kill landed while the job ran");
    if finished == 0 {
        let partial = sb.json(&["status"]);
        assert!(partial["embedded"].as_i64().unwrap() < N as i64);
    }

    let report = sb.json(&["--model", model, "embed"]);
    assert_eq!(report["failed"], 0);
    let status = sb.json(&["status"]);
    assert_eq!(status["embedded"], N);
    assert_eq!(status["pending_embeddings"], 0);
    assert_eq!(status["pending"], 0);
    let catalog =
        shoebox_engine::catalog::Catalog::open(&sb.library.join("catalog.sqlite")).unwrap();
    assert_eq!(catalog.integrity_check().unwrap(), "ok");
}

fn tiny_model_files() -> HashMap<String, Vec<u8>> {
    shoebox_engine::model::REQUIRED_FILES
        .iter()
        .map(|f| (f.to_string(), std::fs::read(tiny_model().join(f)).unwrap()))
        .collect()
}

#[test]
fn model_use_downloads_from_the_hub_and_then_works_offline() {
    let sb = Shoebox::new();
    let hub = Hub::start(tiny_model_files(), &["model.safetensors"]);
    let photos = sb.tmp.path().join("photos");
    write(
        &photos.join("a.jpg"),
        &encode_jpeg(&synthetic(320, 240, 1), 85),
    );
    sb.json(&["add", photos.to_str().unwrap()]);
    sb.json(&["scan"]);

    // Offline with an empty cache: a clear error that says what to do.
    let out = sb.run(&["model", "use", "shoebox-test/clip-tiny"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--model DIR"), "{err}");

    // Online against the local hub; the weights' connection drops halfway
    // once, and the download resumes.
    let out = sb
        .command(&["model", "use", "shoebox-test/clip-tiny", "--json"])
        .env("HF_HUB_OFFLINE", "0")
        .env("HF_ENDPOINT", &hub.endpoint)
        .output()
        .unwrap();
    let used: Value = serde_json::from_str(&stdout_of(out)).unwrap();
    assert_eq!(used["model"], "shoebox-test/clip-tiny@main");
    assert_eq!(used["active"], true);
    assert!(
        hub.log()
            .iter()
            .any(|l| l.starts_with("model.safetensors bytes=")),
        "{:?}",
        hub.log()
    );

    // Offline again: the active model comes from the cache.
    let report = sb.json(&["embed"]);
    assert_eq!(report["embedded"], 1);
    let list = sb.json(&["model", "list"]);
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["active"] == true)
        .expect("an active model");
    assert_eq!(mine["name"], "shoebox-test/clip-tiny");
    assert_eq!(
        (mine["downloaded"].as_bool(), mine["embedded"].as_i64()),
        (Some(true), Some(1))
    );

    let doctor = sb.json(&["doctor"]);
    assert_eq!(doctor["model"], "shoebox-test/clip-tiny@main");
    assert_eq!(doctor["device"], "cpu");
    assert!(doctor["threads"].as_u64().unwrap() >= 1);
    assert!(doctor["features"].is_array());
    assert_eq!(doctor["offline"], true);
}

/// File name of a result or an `embed-image` row.
fn file_name(path: &Value) -> String {
    PathBuf::from(path.as_str().unwrap())
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Names ranked by cosine with `query`, best first: the brute-force f32
/// reference that `search` and `similar` must reproduce.
fn brute_force(images: &Value, query: &[f64]) -> Vec<(String, f64)> {
    let mut ranked: Vec<(String, f64)> = images
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                file_name(&row["file"]),
                cosine(&floats(&row["embedding"]), query),
            )
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked
}

#[test]
fn search_and_similar_rank_like_brute_force() {
    let sb = Shoebox::new();
    let photos = sb.tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("tests/fixtures/cc0")).unwrap() {
        let path = entry.unwrap().path();
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("png" | "jpg")
        ) {
            let copy = photos.join(path.file_name().unwrap());
            std::fs::copy(&path, &copy).unwrap();
            files.push(copy.to_string_lossy().into_owned());
        }
    }
    let model = tiny_model();
    let model = model.to_str().unwrap();
    sb.json(&["add", photos.to_str().unwrap()]);
    sb.json(&["scan"]);
    sb.json(&["--model", model, "embed"]);
    let images = sb.json(
        &[
            &["--model", model, "embed-image"][..],
            &files.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    let text = sb.json(&["--model", model, "embed-text", "a cat on a sofa"]);
    let reference = brute_force(&images, &floats(&text[0]["embedding"]));

    let all = sb.json(&[
        "--model",
        model,
        "search",
        "a cat on a sofa",
        "--all",
        "--limit",
        "100",
    ]);
    assert_eq!(all["query"]["text"], "a cat on a sofa");
    let results = all["results"].as_array().unwrap();
    assert_eq!(results.len(), files.len());
    for (hit, (name, cos)) in results.iter().zip(&reference) {
        assert_eq!(&file_name(&hit["path"]), name, "{all}");
        let score = hit["score"].as_f64().unwrap();
        assert!((score - cos).abs() < 1e-4, "{name}: score {score} vs {cos}");
        assert!(hit["id"].as_i64().is_some() && hit.get("taken_at").is_some());
    }
    // Pages are slices of the same ranking.
    let page = sb.json(&[
        "--model",
        model,
        "search",
        "a cat on a sofa",
        "--all",
        "--limit",
        "2",
        "--offset",
        "2",
    ]);
    let page: Vec<&Value> = page["results"].as_array().unwrap().iter().collect();
    assert_eq!(page, results[2..4].iter().collect::<Vec<_>>());
    // A filter narrows the same ranking.
    let pngs = sb.json(&[
        "--model",
        model,
        "search",
        "a cat on a sofa type:png",
        "--all",
    ]);
    assert_eq!(pngs["query"]["text"], "a cat on a sofa");
    let want: Vec<&String> = reference
        .iter()
        .map(|(n, _)| n)
        .filter(|n| n.ends_with(".png"))
        .collect();
    let got: Vec<String> = pngs["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| file_name(&h["path"]))
        .collect();
    assert_eq!(got.iter().collect::<Vec<_>>(), want);

    // Similar: by path, the source excluded, ranked by image cosine.
    let source = &images[0];
    let like = sb.json(&[
        "--model",
        model,
        "similar",
        source["file"].as_str().unwrap(),
        "--all",
    ]);
    let expected: Vec<String> = brute_force(&images, &floats(&source["embedding"]))
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| *n != file_name(&source["file"]))
        .collect();
    let got: Vec<String> = like["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| file_name(&h["path"]))
        .collect();
    assert_eq!(got, expected);

    // An unknown filter key fails with a message naming it.
    let out = sb.run(&["--model", model, "search", "colour:red"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown filter 'colour:'"), "{err}");
}
