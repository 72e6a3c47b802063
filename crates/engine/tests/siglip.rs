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
