//! Parity of the SigLIP family with the Python reference (transformers
//! `SiglipModel`, `SiglipImageProcessorPil`, `Siglip2Tokenizer`), on
//! fixtures written by tools/reference/generate_siglip.py.
//!
//! The tiny random-weight `siglip-tiny` is committed and always checked.
//! A full-size model (SigLIP 2 B/32-256 or B/16-224 shapes, 256k-token
//! table) is checked the same way with `SHOEBOX_SIGLIP_PARITY_DIR` (the
//! generated root holding model/ and parity/), e.g. after
//! `tools/reference/.venv/bin/python tools/reference/generate_siglip.py --config b32-256`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde_json::Value;
use sha2::{Digest, Sha256};
use shoebox_model::{resolve_model, EmbeddingModel, Family, ResolveOptions};

mod common;
use common::{check_rel_l2, cosine, fixtures, floats, ids};

struct Report {
    min_text_cos: f64,
    min_image_cos: f64,
    max_rel_l2: f64,
    max_probability_diff: f32,
}

fn sha256_of(px: &[f32]) -> String {
    let mut h = Sha256::new();
    for v in px {
        h.update(v.to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn run(model_dir: &Path, parity_dir: &Path, images_dir: &Path) -> Report {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(parity_dir.join("expected.json")).expect("expected.json"),
    )
    .expect("valid json");
    let dir = resolve_model(model_dir.to_str().unwrap(), &ResolveOptions::default()).unwrap();
    let model = EmbeddingModel::load(&dir, &Device::Cpu).expect("load model");
    assert_eq!(model.family(), Family::Siglip);
    let cal = model
        .calibration()
        .expect("SigLIP carries logit scale and bias");
    let mc = &expected["model_config"];
    assert_eq!(
        cal.scale,
        (mc["logit_scale"].as_f64().unwrap() as f32).exp()
    );
    assert_eq!(cal.bias, mc["logit_bias"].as_f64().unwrap() as f32);
    let max = model.max_tokens();
    let mut max_rel = 0f64;

    // Texts: the padded row must equal the reference's; embeddings match.
    let texts = expected["texts"].as_array().expect("texts");
    let strings: Vec<&str> = texts.iter().map(|t| t["text"].as_str().unwrap()).collect();
    for (t, text) in texts.iter().zip(&strings) {
        let mut got = model.tokenize(text).unwrap();
        got.resize(max, 0);
        assert_eq!(got, ids(&t["input_ids"]), "token ids for {text:?}");
    }
    let batch = model.embed_texts_raw(&strings).unwrap();
    let mut min_text_cos = 1f64;
    for (i, t) in texts.iter().enumerate() {
        let want = floats(&t["embedding"]);
        let c = cosine(&batch[i], &want);
        assert!(c >= 0.9999, "text {:?}: cosine {c}", strings[i]);
        max_rel = max_rel.max(check_rel_l2(
            &format!("text {:?}", strings[i]),
            &batch[i],
            &want,
        ));
        min_text_cos = min_text_cos.min(c);
    }
    // A row alone gives what it gives in a batch: padding is per row.
    let single = model.embed_texts_raw(&strings[..1]).unwrap();
    assert!(cosine(&single[0], &batch[0]) > 0.999_999);

    // Images: lossless inputs give bit-identical pixels; JPEGs are checked
    // on the reference's own pixels too.
    let ref_pixels: HashMap<String, Tensor> =
        candle_core::safetensors::load(parity_dir.join("pixels.safetensors"), &Device::Cpu)
            .expect("pixels.safetensors");
    let images = expected["images"].as_array().expect("images");
    let mut pixels = Vec::new();
    // What the reference embedded: our pixels where they are identical,
    // the reference's for the JPEGs.
    let mut same_input = Vec::new();
    for entry in images {
        let file = entry["file"].as_str().unwrap();
        let img = image::open(images_dir.join(file)).expect("decode image");
        let px = model.preprocess(&img);
        if let Some(reference) = ref_pixels.get(file) {
            let reference: Vec<f32> = reference.flatten_all().unwrap().to_vec1().unwrap();
            let mean = px
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs() as f64)
                .sum::<f64>()
                / px.len() as f64;
            // libjpeg-turbo vs zune-jpeg rounding (see parity.rs).
            assert!(mean <= 0.0075, "{file}: mean pixel diff {mean}");
            let on_ref = model.embed_preprocessed_raw(&[reference]).unwrap();
            let want = floats(&entry["embedding"]);
            max_rel = max_rel.max(check_rel_l2(
                &format!("{file} (reference pixels)"),
                &on_ref[0],
                &want,
            ));
            same_input.push(Some(on_ref[0].clone()));
        } else {
            assert_eq!(
                sha256_of(&px),
                entry["pixel_sha256"].as_str().unwrap(),
                "{file}: pixels differ from SiglipImageProcessorPil's"
            );
            same_input.push(None);
        }
        pixels.push(px);
    }
    let emb = model.embed_preprocessed_raw(&pixels).unwrap();
    let mut min_image_cos = 1f64;
    for (i, entry) in images.iter().enumerate() {
        let file = entry["file"].as_str().unwrap();
        let want = floats(&entry["embedding"]);
        let c = cosine(&emb[i], &want);
        assert!(c >= 0.999, "{file}: image cosine {c}");
        if !ref_pixels.contains_key(file) {
            max_rel = max_rel.max(check_rel_l2(file, &emb[i], &want));
        }
        min_image_cos = min_image_cos.min(c);
    }

    // The model's own probabilities, text x image, as SiglipModel.forward,
    // on the inputs the reference saw.
    let mut max_probability_diff = 0f32;
    let probs = expected["probabilities"].as_array().unwrap();
    for (t, row) in probs.iter().enumerate() {
        for (i, want) in floats(row).into_iter().enumerate() {
            let image = same_input[i].as_ref().unwrap_or(&emb[i]);
            let p = cal.probability(cosine(&batch[t], image) as f32);
            max_probability_diff = max_probability_diff.max((p - want).abs());
        }
    }
    assert!(
        max_probability_diff <= 1e-3,
        "probability differs by {max_probability_diff}"
    );
    Report {
        min_text_cos,
        min_image_cos,
        max_rel_l2: max_rel,
        max_probability_diff,
    }
}

fn print(name: &str, r: &Report) {
    eprintln!(
        "{name}: text 1-cos max {:.2e}, image 1-cos max {:.2e}, relative L2 max {:.2e}, \
         probability diff max {:.2e}",
        1.0 - r.min_text_cos,
        1.0 - r.min_image_cos,
        r.max_rel_l2,
        r.max_probability_diff
    );
}

#[test]
fn tiny_siglip_matches_reference() {
    let f = fixtures();
    let r = run(
        &f.join("models/siglip-tiny"),
        &f.join("parity/siglip-tiny"),
        &f.join("parity/images"),
    );
    print("siglip-tiny", &r);
}

/// Full-size check, run only when pointed at generated fixtures.
#[test]
fn full_size_siglip_matches_reference_when_configured() {
    let Ok(root) = std::env::var("SHOEBOX_SIGLIP_PARITY_DIR") else {
        eprintln!("SHOEBOX_SIGLIP_PARITY_DIR not set; skipping");
        return;
    };
    let root = PathBuf::from(root);
    let r = run(
        &root.join("model"),
        &root.join("parity"),
        &fixtures().join("parity/images"),
    );
    print(&root.display().to_string(), &r);
}
