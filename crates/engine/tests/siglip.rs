//! A SigLIP model in a real library: embedding, search in other languages
//! with the model's own probabilities bounding the cut-off, tags decided by
//! those probabilities, and similar photos. The committed random-weight
//! `siglip-tiny` (real architecture, Gemma-type tokenizer) stands in for
//! SigLIP 2; its parity with transformers is proven in shoebox-model.

#[path = "../../../tests/support/mod.rs"]
mod support;

use shoebox_engine::embed::EmbedOptions;
use shoebox_engine::ingest::ScanOptions;
use shoebox_engine::model::{DeviceChoice, Family};
use shoebox_engine::search::{
    calibrated_text_cutoff, SearchOptions, MIN_TEXT_PROBABILITY, SURE_TEXT_PROBABILITY,
};
use shoebox_engine::tags::scoring::TAG_PROBABILITY;
use shoebox_engine::tags::RetagOptions;
use shoebox_engine::Library;
use support::*;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn siglip_searches_tags_and_finds_similar_photos() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for src in cc0_images() {
        std::fs::copy(&src, photos.join(src.file_name().unwrap())).unwrap();
    }
    let lib = Library::open(&tmp.path().join("library")).unwrap();
    lib.add_folder(&photos).unwrap();
    lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
    let spec = tiny_siglip_dir().to_string_lossy().into_owned();
    let model = lib
        .load_model(Some(&spec), DeviceChoice::Cpu, &library::offline())
        .unwrap();
    assert_eq!(model.model.family(), Family::Siglip);
    let cal = model.model.calibration().unwrap();
    let report = lib
        .embed(&model, &EmbedOptions::default(), &|_| {})
        .unwrap();
    let photos_n = cc0_images().len();
    assert_eq!(report.embedded, photos_n as u64);

    // A German query, ranked exactly by the text tower's cosine.
    let query = "Oma mit Geburtstagskuchen";
    let all = SearchOptions {
        all: true,
        limit: 100,
        ..Default::default()
    };
    let ranked = lib.search(&model, query, &all).unwrap();
    assert_eq!(ranked.results.len(), photos_n);
    let text = lib.embed_texts(&model, &[query]).unwrap().pop().unwrap();
    let best = ranked.results[0].id;
    let best_cos = dot(
        &text,
        &lib.catalog()
            .embedding(best, model.row.id)
            .unwrap()
            .unwrap(),
    );
    assert!((ranked.results[0].score.unwrap() - best_cos).abs() < 0.02);
    // Lowercased as in training: the case of the query does not matter.
    let upper = lib.search(&model, &query.to_uppercase(), &all).unwrap();
    assert_eq!(upper.results[0].id, best);

    // The cut-off sits between the cosines of the model's own 0.1 % and 50 %.
    let cut = lib
        .search(&model, query, &SearchOptions::default())
        .unwrap();
    let cutoff = cut.cutoff.unwrap();
    let min = cutoff.min_score.unwrap();
    assert!(min >= cal.cosine_at(MIN_TEXT_PROBABILITY) - 1e-6);
    assert!(min <= cal.cosine_at(SURE_TEXT_PROBABILITY) + 1e-6);
    let adaptive = cutoff.median + 3.0 * cutoff.spread;
    assert!((min - calibrated_text_cutoff(cal, adaptive)).abs() < 1e-6);
    assert!(cut.results.iter().all(|h| h.score.unwrap() >= min));

    // Tags: every automatic tag is one the model gives at least 50 %.
    let tagged = lib
        .retag(&model, &RetagOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(tagged.photos_scored, photos_n);
    for hit in &ranked.results {
        for t in lib.photo_tags(hit.id).unwrap() {
            if t.source == "auto" {
                let p = cal.probability(t.score.unwrap() as f32);
                assert!(p >= TAG_PROBABILITY, "{} at p {p}", t.tag);
            }
        }
    }

    // Similar photos run on the same vectors.
    let similar = lib.similar(&model, best, &all).unwrap();
    assert_eq!(similar.results.len(), photos_n - 1);
}

/// Switching from CLIP to SigLIP: search keeps answering with CLIP's
/// vectors while SigLIP embeds, and SigLIP takes over when it has them all.
#[test]
fn switching_models_keeps_search_until_the_new_vectors_are_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for src in cc0_images() {
        std::fs::copy(&src, photos.join(src.file_name().unwrap())).unwrap();
    }
    let lib = Library::open(&tmp.path().join("library")).unwrap();
    lib.add_folder(&photos).unwrap();
    lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
    let n = cc0_images().len();
    let clip_dir = repo_root().join("tests/fixtures/models/clip-tiny");
    let clip = lib
        .use_model(
            clip_dir.to_str().unwrap(),
            DeviceChoice::Cpu,
            &library::offline(),
        )
        .unwrap();
    lib.embed(&clip, &EmbedOptions::default(), &|_| {}).unwrap();
    let all = SearchOptions {
        all: true,
        limit: 100,
        ..Default::default()
    };
    let before = lib.search(&clip, "a cat", &all).unwrap();
    assert_eq!(before.results.len(), n);

    // Choosing SigLIP makes it the next model; CLIP stays in effect.
    let siglip = lib
        .use_model(
            tiny_siglip_dir().to_str().unwrap(),
            DeviceChoice::Cpu,
            &library::offline(),
        )
        .unwrap();
    let status = lib.status().unwrap();
    assert_eq!(status.model.as_deref(), Some(clip.row.key.as_str()));
    assert_eq!(
        status.switching_to.as_deref(),
        Some(siglip.row.key.as_str())
    );
    assert_eq!(status.switch_remaining, n as i64);
    let slot = lib
        .model_slot(None, DeviceChoice::Cpu, library::offline())
        .unwrap()
        .unwrap();
    assert_eq!(slot.get().unwrap().row.id, clip.row.id);
    assert_eq!(slot.embed_target().unwrap().row.id, siglip.row.id);

    // Half way through the re-embed, search still answers fully with CLIP.
    let half = EmbedOptions {
        limit: Some(2),
        ..Default::default()
    };
    let target = lib
        .load_embedding_model(None, DeviceChoice::Cpu, &library::offline())
        .unwrap();
    assert_eq!(target.row.id, siglip.row.id);
    lib.embed(&target, &half, &|_| {}).unwrap();
    let in_effect = lib
        .load_model(None, DeviceChoice::Cpu, &library::offline())
        .unwrap();
    assert_eq!(in_effect.row.id, clip.row.id);
    let during = lib.search(&in_effect, "a cat", &all).unwrap();
    assert_eq!(during.results.len(), n);
    assert_eq!(lib.status().unwrap().switch_remaining, n as i64 - 2);

    // The rest: SigLIP takes over, with its own cut-off and tags.
    lib.embed(&target, &EmbedOptions::default(), &|_| {})
        .unwrap();
    let status = lib.status().unwrap();
    assert_eq!(status.model.as_deref(), Some(siglip.row.key.as_str()));
    assert_eq!(status.switching_to, None);
    assert_eq!(slot.get().unwrap().row.id, siglip.row.id);
    let after = lib
        .load_model(None, DeviceChoice::Cpu, &library::offline())
        .unwrap();
    assert_eq!(after.model.family(), Family::Siglip);
    assert_eq!(lib.search(&after, "a cat", &all).unwrap().results.len(), n);
}
