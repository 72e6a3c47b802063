//! The embedding job end to end: real files, a real catalog, and the
//! committed tiny CLIP model (real architecture, random weights).

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use shoebox_engine::embed::{EmbedOptions, LoadedModel};
use shoebox_engine::ingest::ScanOptions;
use shoebox_engine::model::DeviceChoice;
use shoebox_engine::Library;
use support::*;

use support::library::{offline, tiny_model_spec as tiny_model_dir, LibraryFixture as Fixture};

fn fixture_with<S: AsRef<str>>(files: &[(S, Vec<u8>)]) -> Fixture {
    let f = Fixture::with_files(files);
    f.scan();
    f
}

fn distinct_jpegs(n: u32) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            (
                format!("p{i:03}.jpg"),
                encode_jpeg(&synthetic(320, 240, i), 85),
            )
        })
        .collect()
}

fn load(lib: &Library) -> LoadedModel {
    lib.load_model(Some(&tiny_model_dir()), DeviceChoice::Cpu, &offline())
        .unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

fn vector_of(lib: &Library, model: &LoadedModel, path: &std::path::Path) -> Vec<f32> {
    let id = lib.resolve_photo(path.to_str().unwrap()).unwrap();
    lib.catalog()
        .embedding(id, model.row.id)
        .unwrap()
        .expect("photo has a vector")
}

#[test]
fn every_photo_gets_a_unit_vector_equal_to_the_single_file_path() {
    let mut files: Vec<(String, Vec<u8>)> = cc0_images()
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(p).unwrap())
        })
        .collect();
    files.push(("broken.jpg".into(), b"not a jpeg at all".to_vec()));
    let f = fixture_with(&files);
    let model = load(&f.lib);
    let before = f.lib.status().unwrap();
    assert_eq!(before.pending_embeddings, before.photos);

    let report = f
        .lib
        .embed(&model, &EmbedOptions::default(), &|_| {})
        .unwrap();
    let status = f.lib.status().unwrap();
    assert_eq!(report.embedded as i64, status.photos);
    assert_eq!((report.failed, report.remaining), (0, 0));
    assert_eq!(status.embedded, status.photos);
    assert_eq!((status.pending_embeddings, status.pending), (0, 0));
    assert_eq!(status.model.as_deref(), Some(model.row.key.as_str()));

    for image in cc0_images() {
        let path = f.photos.join(image.file_name().unwrap());
        let stored = vector_of(&f.lib, &model, &path);
        assert_eq!(stored.len(), model.row.dim);
        let norm: f32 = stored.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{}: norm {norm}", path.display());
        // Batched inference in the job equals the one-file path.
        let single = f.lib.embed_file(&model, &path, false).unwrap();
        let cos = cosine(&stored, &single);
        assert!(cos > 0.99999, "{}: cos {cos}", path.display());
    }

    // Nothing left: a second run is a no-op.
    let again = f
        .lib
        .embed(&model, &EmbedOptions::default(), &|_| {})
        .unwrap();
    assert_eq!((again.embedded, again.failed), (0, 0));
}

#[test]
fn cancelled_job_keeps_its_work_and_the_next_run_finishes() {
    let files = distinct_jpegs(24);
    let f = fixture_with(&files);
    let model = load(&f.lib);
    let cancel = Arc::new(AtomicBool::new(false));
    let opts = EmbedOptions {
        batch_size: 4,
        workers: 1,
        cancel: Some(cancel.clone()),
        retry_failed: false,
        ..Default::default()
    };
    let seen = std::sync::Mutex::new(Vec::new());
    let report = f
        .lib
        .embed(&model, &opts, &|p| {
            let p = &p.progress;
            seen.lock().unwrap().push((p.done, p.total, p.eta_seconds));
            cancel.store(true, Ordering::SeqCst);
        })
        .unwrap();
    assert!(report.cancelled);
    assert!(report.embedded >= 4 && report.embedded < 24, "{report:?}");
    assert_eq!(report.remaining, 24 - report.embedded);
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen[0].1, 24, "progress reports the total");
    assert!(seen[0].2.is_some(), "progress has an ETA");
    assert_eq!(
        f.lib.status().unwrap().pending_embeddings as u64,
        report.remaining
    );

    let rest = f
        .lib
        .embed(&model, &EmbedOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(rest.embedded, report.remaining);
    assert_eq!(f.lib.status().unwrap().embedded, 24);
}

#[test]
fn a_photo_that_cannot_be_read_records_an_error_and_can_be_retried() {
    let files = distinct_jpegs(3);
    let f = fixture_with(&files);
    let model = load(&f.lib);
    let victim = f.photos.join("p001.jpg");
    let saved = std::fs::read(&victim).unwrap();
    // Corrupted after the scan: the job must not stop, and must say why.
    std::fs::write(&victim, &saved[..saved.len() / 3]).unwrap();

    let report = f
        .lib
        .embed(&model, &EmbedOptions::default(), &|_| {})
        .unwrap();
    assert_eq!((report.embedded, report.failed), (2, 1));
    let errors = f.lib.errors().unwrap();
    let entry = errors
        .iter()
        .find(|e| e.kind == "embed")
        .expect("embed error listed");
    assert!(entry.path.ends_with("p001.jpg"), "{entry:?}");
    assert!(entry.reason.contains("truncated"), "{entry:?}");
    let status = f.lib.status().unwrap();
    assert_eq!((status.errors, status.pending_embeddings), (1, 0));

    // Failures are not retried by default...
    std::fs::write(&victim, &saved).unwrap();
    let quiet = f
        .lib
        .embed(&model, &EmbedOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(quiet.embedded, 0);
    // ...but are on request.
    let retry = EmbedOptions {
        retry_failed: true,
        ..Default::default()
    };
    let again = f.lib.embed(&model, &retry, &|_| {}).unwrap();
    assert_eq!((again.embedded, again.failed), (1, 0));
    assert_eq!(f.lib.status().unwrap().errors, 0);
}

#[test]
fn exif_orientation_is_applied_before_the_model() {
    // The same scene stored upright, and stored sideways with orientation 6
    // (rotate 90° clockwise to view): users expect the same embedding.
    let upright = synthetic(300, 200, 7);
    let sideways = image::imageops::rotate270(&upright);
    let tagged = jpeg_with_exif(
        &sideways,
        &ExifSpec {
            orientation: Some(6),
            ..Default::default()
        },
    );
    let f = fixture_with(&[
        ("upright.jpg", encode_jpeg(&upright, 95)),
        ("tagged.jpg", tagged),
        ("untagged.jpg", encode_jpeg(&sideways, 95)),
    ]);
    let model = load(&f.lib);
    f.lib
        .embed(&model, &EmbedOptions::default(), &|_| {})
        .unwrap();
    let a = vector_of(&f.lib, &model, &f.photos.join("upright.jpg"));
    let b = vector_of(&f.lib, &model, &f.photos.join("tagged.jpg"));
    let c = vector_of(&f.lib, &model, &f.photos.join("untagged.jpg"));
    let same = 1.0 - cosine(&a, &b);
    let rotated = 1.0 - cosine(&a, &c);
    assert!(
        same < rotated / 10.0,
        "orientation not applied: 1-cos upright/tagged {same}, upright/sideways {rotated}"
    );
}

#[test]
fn offline_photos_are_not_embedded_and_come_back_pending() {
    let files = distinct_jpegs(2);
    let f = fixture_with(&files);
    let model = load(&f.lib);
    let moved = f.photos.with_file_name("photos-unplugged");
    std::fs::rename(&f.photos, &moved).unwrap();
    f.lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
    let report = f
        .lib
        .embed(&model, &EmbedOptions::default(), &|_| {})
        .unwrap();
    assert_eq!((report.embedded, report.failed), (0, 0));
    std::fs::rename(&moved, &f.photos).unwrap();
    f.lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
    assert_eq!(f.lib.status().unwrap().pending_embeddings, 2);
}

#[test]
fn texts_embed_to_unit_vectors_and_an_unknown_model_is_a_clear_error() {
    let f = fixture_with::<&str>(&[]);
    let model = load(&f.lib);
    let v = f
        .lib
        .embed_texts(&model, &["a dog on a beach", ""])
        .unwrap();
    for row in &v {
        let norm: f32 = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    let err = f
        .lib
        .load_model(Some("laion-b32"), DeviceChoice::Cpu, &offline())
        .err()
        .expect("no cached weights offline")
        .to_string();
    assert!(err.contains("--model DIR"), "{err}");
}
