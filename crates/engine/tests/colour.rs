//! Colour and alpha exactly as the reference preprocessors see them: each
//! input in tests/fixtures/colour, decoded at full size and turned into RGB
//! for the model, must equal PIL's `convert("RGB")` of the same file
//! (tests/fixtures/colour/expected, written by
//! tools/reference/colour_fixtures.py).

use std::path::{Path, PathBuf};

use shoebox_engine::ingest::decode::load_full_upright;
use shoebox_model::preprocess::to_rgb_like_pil;
use shoebox_model::{resolve_model, select_device, DeviceChoice, EmbeddingModel, ResolveOptions};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/colour")
}

fn inputs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (e.file_type().unwrap().is_file() && name != "README.md").then_some(name)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 10, "fixtures missing: {names:?}");
    names
}

fn is_jpeg(name: &str) -> bool {
    name.ends_with(".jpg")
}

/// Lossless inputs must match PIL exactly. JPEGs may differ where
/// jpeg-decoder's IDCT and chroma upsampling round differently from
/// libjpeg-turbo's (the same few levels as plain RGB JPEGs in the parity
/// test); the colour conversion itself must add nothing.
fn compare(name: &str) -> Result<(), String> {
    let dir = fixtures();
    let ours = load_full_upright(&dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
    let ours = to_rgb_like_pil(&ours);
    let expected = image::open(dir.join("expected").join(format!("{name}.png")))
        .unwrap()
        .to_rgb8();
    if (ours.width as u32, ours.height as u32) != expected.dimensions() {
        return Err(format!(
            "{name}: {}x{} but the reference is {:?}",
            ours.width,
            ours.height,
            expected.dimensions()
        ));
    }
    let diffs: Vec<u8> = ours
        .data
        .iter()
        .zip(expected.as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .collect();
    let differing = diffs.iter().filter(|d| **d > 0).count();
    let max = *diffs.iter().max().unwrap();
    let allowed = if is_jpeg(name) {
        max <= 6 && differing * 10 <= diffs.len()
    } else {
        differing == 0
    };
    if !allowed {
        return Err(format!(
            "{name}: {differing} of {} values differ from PIL, by up to {}",
            diffs.len(),
            max
        ));
    }
    Ok(())
}

#[test]
fn every_mode_converts_to_rgb_like_pil() {
    let failures: Vec<String> = inputs().iter().filter_map(|n| compare(n).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

/// The full-decode embedding (`shoebox embed --full-decode`) of every
/// input against clip-tiny's reference embedding of PIL's pixels.
#[test]
fn every_mode_embeds_like_the_reference() {
    let expected: std::collections::HashMap<String, Vec<f32>> = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("expected/clip-tiny.json")).unwrap(),
    )
    .unwrap();
    let model_dir = fixtures().join("../models/clip-tiny");
    let dir = resolve_model(model_dir.to_str().unwrap(), &ResolveOptions::default()).unwrap();
    let model = EmbeddingModel::load(&dir, &select_device(DeviceChoice::Cpu).0).unwrap();
    let mut failures = Vec::new();
    for name in inputs() {
        let image = load_full_upright(&fixtures().join(&name)).unwrap();
        let ours = &model.embed_images(std::slice::from_ref(&image)).unwrap()[0];
        let c = cosine(ours, &expected[&name]);
        eprintln!("{name:24} 1-cos {:.2e}", 1.0 - c);
        if c < 0.999 {
            failures.push(format!("{name}: cosine {c}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Thumbnails and previews are for people: a Display P3 photo is shown in
/// sRGB, as a colour-managed viewer (LittleCMS) shows it
/// (tests/fixtures/colour/expected/display.json), while its model input
/// above keeps the file's numbers.
#[test]
fn previews_show_wide_gamut_photos_in_srgb() {
    let expected: std::collections::HashMap<String, Vec<(u32, u32, [u8; 3])>> =
        serde_json::from_str(
            &std::fs::read_to_string(fixtures().join("expected/display.json")).unwrap(),
        )
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for name in expected.keys() {
        std::fs::copy(fixtures().join(name), photos.join(name)).unwrap();
    }
    let lib = shoebox_engine::Library::open(&tmp.path().join("library")).unwrap();
    lib.add_folder(&photos).unwrap();
    lib.scan(&Default::default(), &|_| {}).unwrap();
    for (name, points) in expected {
        let id = lib
            .resolve_photo(photos.join(&name).to_str().unwrap())
            .unwrap();
        // The preview keeps this small image's size, so points map 1:1.
        let preview = image::open(lib.thumbnail(id, 1024).unwrap())
            .unwrap()
            .to_rgb8();
        for (x, y, want) in points {
            let got = preview.get_pixel(x, y).0;
            let off = (0..3).map(|c| got[c].abs_diff(want[c])).max().unwrap();
            // JPEG quality 85 on a flat patch moves a level or two.
            assert!(off <= 3, "{name} at ({x}, {y}): {got:?}, want {want:?}");
        }
    }
}
