//! The download path against a local stand-in for the Hugging Face hub:
//! `GET /{org}/{name}/resolve/{revision}/{file}` with the headers hf-hub
//! relies on (`ETag`, `X-Repo-Commit`, `Content-Range` for `Range`
//! requests). Options are passed in `ResolveOptions`, never through the
//! process environment, so these tests can run in parallel.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use shoebox_model::{
    resolve_model, DownloadEvent, EmbeddingModel, Error, ResolveOptions, REQUIRED_FILES,
};

#[path = "../../../tests/support/hub.rs"]
mod hub;
use hub::{etag, Hub, COMMIT};
use std::net::TcpListener;

fn tiny_model_files() -> HashMap<String, Vec<u8>> {
    model_files("clip-tiny")
}

fn model_files(name: &str) -> HashMap<String, Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/models")
        .join(name);
    REQUIRED_FILES
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
        .collect()
}

type Events = Arc<Mutex<Vec<String>>>;

fn options(endpoint: &str, cache: &Path, offline: bool) -> (ResolveOptions, Events) {
    let events: Events = Arc::default();
    let sink = events.clone();
    let opts = ResolveOptions {
        endpoint: endpoint.to_string(),
        cache_dir: cache.to_path_buf(),
        offline,
        token: None,
        progress: None,
        retries: 3,
        cancel: None,
    }
    .with_progress(move |e: DownloadEvent<'_>| {
        let line = match e {
            DownloadEvent::Cached { file } => format!("cached {file}"),
            DownloadEvent::Started { file, total, done } => format!("start {file} {done}/{total}"),
            DownloadEvent::Progress { file, done, total } => {
                format!("progress {file} {done}/{total}")
            }
            DownloadEvent::Finished { file } => format!("finish {file}"),
        };
        sink.lock().unwrap().push(line);
    });
    (opts, events)
}

fn assert_same_files(dir: &Path, files: &HashMap<String, Vec<u8>>) {
    for (name, bytes) in files {
        let got = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(got == *bytes, "{name} differs after download");
    }
}

/// The registry's default (SigLIP 2 on a CPU) downloads and loads as a
/// SigLIP model: the stand-in hub serves the tiny SigLIP's files under the
/// default's repo name.
#[test]
fn the_default_siglip_model_downloads_and_loads() {
    let files = model_files("siglip-tiny");
    let hub = Hub::start(files.clone(), &[]);
    let tmp = tempfile::tempdir().unwrap();
    let (opts, _) = options(&hub.endpoint, &tmp.path().join("hub"), false);
    let dir = resolve_model("default", &opts).unwrap();
    assert_eq!(dir.id, "google/siglip2-base-patch32-256@main");
    assert_eq!(dir.family, shoebox_model::Family::Siglip);
    assert_same_files(&dir.path, &files);
    let model = EmbeddingModel::load(&dir, &candle_core::Device::Cpu).unwrap();
    assert!(model.calibration().is_some());
    // A repo outside the registry is recognised by its config.
    let other = resolve_model("someone/siglip-finetune", &opts).unwrap();
    assert_eq!(other.family, shoebox_model::Family::Siglip);
}

#[test]
fn downloads_into_the_hf_cache_then_works_offline() {
    let files = tiny_model_files();
    let hub = Hub::start(files.clone(), &[]);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");

    let (opts, events) = options(&hub.endpoint, &cache, false);
    let dir = resolve_model("test-org/clip-tiny@main", &opts).unwrap();
    assert_eq!(dir.id, "test-org/clip-tiny@main");
    assert_eq!(dir.commit.as_deref(), Some(COMMIT));
    assert_eq!(
        dir.path,
        cache
            .join("models--test-org--clip-tiny/snapshots")
            .join(COMMIT)
    );
    assert_same_files(&dir.path, &files);

    let events = events.lock().unwrap().clone();
    let total = files["model.safetensors"].len();
    for f in REQUIRED_FILES {
        assert!(
            events
                .iter()
                .any(|e| e.starts_with(&format!("start {f} 0/"))),
            "{f}: {events:?}"
        );
        assert!(events.contains(&format!("finish {f}")), "{f}: {events:?}");
    }
    assert!(
        events.contains(&format!("progress model.safetensors {total}/{total}")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .filter(|e| e.starts_with("progress model.safetensors"))
            .count()
            > 5,
        "progress is reported during the transfer"
    );

    // The downloaded snapshot loads and embeds.
    let model = EmbeddingModel::load(&dir, &candle_core::Device::Cpu).unwrap();
    assert_eq!(model.embed_texts(&["a cat"]).unwrap()[0].len(), 48);

    // Second resolve: cache-first, no network even when online.
    let requests = hub.log().len();
    let again = resolve_model("test-org/clip-tiny", &opts).unwrap();
    assert_eq!(again, dir);
    assert_eq!(
        hub.log().len(),
        requests,
        "a cached model needs no requests"
    );

    // Offline: still resolves from the cache.
    let (offline, _) = options(&hub.endpoint, &cache, true);
    assert_eq!(
        resolve_model("test-org/clip-tiny@main", &offline).unwrap(),
        dir
    );
    assert_eq!(hub.log().len(), requests);
}

#[test]
fn offline_without_cache_explains_how_to_provide_a_model() {
    let tmp = tempfile::tempdir().unwrap();
    let (opts, _) = options("http://127.0.0.1:9", &tmp.path().join("hub"), true);
    let err = resolve_model("openai/clip-vit-base-patch32", &opts).unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    let msg = err.to_string();
    for needle in [
        "HF_HUB_OFFLINE",
        "--model DIR",
        "SHOEBOX_MODEL",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "preprocessor_config.json",
        "https://huggingface.co/openai/clip-vit-base-patch32",
    ] {
        assert!(msg.contains(needle), "{needle} missing from: {msg}");
    }
    // Registry names resolve to their repo before failing the same way.
    let msg = resolve_model("clip-vit-b-16", &opts)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("openai/clip-vit-base-patch16"), "{msg}");
}

#[test]
fn unreachable_hub_explains_how_to_provide_a_model() {
    // Bind then drop a listener: the port is closed, so connecting fails fast.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tmp = tempfile::tempdir().unwrap();
    let (mut opts, _) = options(
        &format!("http://127.0.0.1:{port}"),
        &tmp.path().join("hub"),
        false,
    );
    opts.retries = 0;
    let err = resolve_model("test-org/clip-tiny", &opts).unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("--model DIR"), "{err}");
}

#[test]
fn resumes_partial_files_and_dropped_connections() {
    let files = tiny_model_files();
    let weights = files["model.safetensors"].clone();
    let hub = Hub::start(files.clone(), &["tokenizer.json"]);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");

    // A previous run died after 1000 bytes of the weights.
    let blobs: PathBuf = cache.join("models--test-org--clip-tiny/blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(
        blobs.join(format!("{}.part", etag(&weights))),
        &weights[..1000],
    )
    .unwrap();

    let (opts, events) = options(&hub.endpoint, &cache, false);
    let dir = resolve_model("test-org/clip-tiny", &opts).unwrap();
    assert_same_files(&dir.path, &files);

    let log = hub.log();
    assert!(
        log.contains(&"model.safetensors bytes=1000-".to_string()),
        "resumed with a Range request: {log:?}"
    );
    let tok_gets: Vec<_> = log
        .iter()
        .filter(|l| l.starts_with("tokenizer.json") && !l.ends_with("bytes=0-0"))
        .collect();
    assert_eq!(tok_gets.len(), 2, "{log:?}");
    assert_eq!(tok_gets[0], "tokenizer.json bytes=0-");
    assert_ne!(
        tok_gets[1], "tokenizer.json bytes=0-",
        "retry resumes mid-file"
    );
    let events = events.lock().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("start model.safetensors 1000/")),
        "{events:?}"
    );
}

#[test]
fn missing_repo_and_pytorch_fallback() {
    let mut files = tiny_model_files();
    let hub = Hub::start(HashMap::new(), &[]);
    let tmp = tempfile::tempdir().unwrap();
    let (opts, _) = options(&hub.endpoint, &tmp.path().join("hub"), false);
    let err = resolve_model("test-org/nothing", &opts).unwrap_err();
    assert!(matches!(err, Error::Download { .. }), "{err:?}");
    assert!(err.to_string().contains("not found"), "{err}");

    // Without model.safetensors the PyTorch weights are fetched instead.
    let st = files.remove("model.safetensors").unwrap();
    files.insert("pytorch_model.bin".into(), st);
    let hub = Hub::start(files, &[]);
    let (opts, _) = options(&hub.endpoint, &tmp.path().join("hub2"), false);
    let dir = resolve_model("test-org/old-style", &opts).unwrap();
    assert!(dir.path.join("pytorch_model.bin").is_file());
    assert!(!dir.path.join("model.safetensors").exists());
}

#[test]
fn a_cancelled_download_stops_and_a_later_one_resumes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let files = tiny_model_files();
    let hub = Hub::start(files.clone(), &[]);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let opts = ResolveOptions {
        endpoint: hub.endpoint.clone(),
        cache_dir: cache.clone(),
        offline: false,
        token: None,
        progress: None,
        retries: 0,
        cancel: Some(Arc::clone(&cancel)),
    }
    .with_progress(move |e: DownloadEvent<'_>| {
        // Cancel as soon as the weights start: the next chunk stops it.
        if let DownloadEvent::Started { file, .. } = e {
            if file == "model.safetensors" {
                flag.store(true, Ordering::SeqCst);
            }
        }
    });
    let err = resolve_model("test-org/clip-tiny@main", &opts).unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    assert!(err.to_string().contains("cancelled"));

    // Without the flag, the same call completes (and loads).
    cancel.store(false, Ordering::SeqCst);
    let (again, _) = options(&hub.endpoint, &cache, false);
    let dir = resolve_model("test-org/clip-tiny@main", &again).unwrap();
    assert_same_files(&dir.path, &files);
}
