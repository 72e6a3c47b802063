//! The re-tag job: runs after embedding, incrementally.
//!
//! 1. Text prototypes come from the cache; only new or edited concepts are
//!    embedded (see `prototypes`).
//! 2. Each prototype is blended with the tag's confirmed examples and pushed
//!    away from its rejected ones (`scoring::blend`).
//! 3. Per-concept statistics (median and robust spread of its scores over a
//!    sample of the library, shrunk towards the calibration prior) are
//!    refitted when the library has grown by a quarter since the last fit,
//!    or for a concept whose prototype or rule changed.
//! 4. A concept whose prototype, rule or statistics changed is "changed";
//!    concepts that disappeared lose their auto tags. With nothing changed,
//!    only photos never scored with this model are visited; otherwise every
//!    photo is re-decided, and only rows that differ are written.
//!
//! User and imported tags and rejections are never overwritten.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::calibration::Calibration;
use super::prototypes::{text_prototypes, TextEncoder};
use super::scoring::{
    blend, dot, fit_stats, pooled_prior, ConceptStats, Prior, ScoredConcept, Scorer,
};
use super::vocab::Vocabulary;
use crate::catalog::Catalog;
use crate::error::Result;

/// Photos scored per transaction.
const PAGE: usize = 512;
/// Photos sampled for the per-concept statistics.
const STATS_SAMPLE: usize = 2000;
/// Refit statistics when the library has grown by this factor.
const REFIT_GROWTH: f64 = 1.25;

#[derive(Debug, Clone, Default)]
pub struct RetagOptions {
    /// Refit statistics and re-decide every photo.
    pub full: bool,
    pub cancel: Option<Arc<AtomicBool>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetagProgress {
    /// `prototypes` or `photos`.
    pub stage: &'static str,
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RetagReport {
    /// Concepts that can be assigned (built-in and custom).
    pub concepts: usize,
    /// Text prototypes computed now (the rest came from the cache).
    pub prototypes_built: usize,
    pub prompts_embedded: usize,
    pub prototype_seconds: f64,
    /// Concepts whose prototype, rule or statistics changed.
    pub changed_concepts: usize,
    pub removed_concepts: usize,
    pub stats_refit: bool,
    /// Photos scored now.
    pub photos_scored: usize,
    pub tags_added: usize,
    pub tags_removed: usize,
    pub cancelled: bool,
    pub seconds: f64,
    pub photos_per_second: f64,
    /// Photos whose tags changed (for sidecar writing).
    #[serde(skip)]
    pub changed_photos: Vec<i64>,
}

fn stats_setting(model_id: i64) -> String {
    format!("tags.stats_photos.{model_id}")
}

fn concept_signature(prototype: &[f32], calibration: &Calibration, tag: &str) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    for x in prototype {
        h.update(&x.to_le_bytes());
    }
    let rules = serde_json::to_string(&(
        &calibration.rule,
        &calibration.prior,
        calibration.concept_rule(tag),
    ))
    .expect("rules serialise");
    h.update(rules.as_bytes());
    h.finalize().as_bytes().to_vec()
}

/// Runs the job for `model_id` with `encoder` (its text tower).
pub fn run_retag(
    catalog: &Catalog,
    model_id: i64,
    encoder: &dyn TextEncoder,
    vocab: &Vocabulary,
    calibration: &Calibration,
    opts: &RetagOptions,
    on_progress: &dyn Fn(&RetagProgress),
) -> Result<RetagReport> {
    let started = Instant::now();
    let cancelled = || {
        opts.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    let mut report = RetagReport::default();

    let texts = text_prototypes(catalog, model_id, encoder, vocab, &|done, total| {
        on_progress(&RetagProgress {
            stage: "prototypes",
            done,
            total,
        })
    })?;
    report.prototypes_built = texts.built;
    report.prompts_embedded = texts.prompts;
    report.prototype_seconds = texts.seconds;

    // Final prototypes: text blended with examples.
    let examples = catalog.tag_examples(model_id)?;
    let mut prototypes: Vec<Vec<f32>> = vec![Vec::new(); vocab.len()];
    for i in vocab.taggable() {
        let tag = &vocab.concepts()[i].tag;
        let Some(text) = texts.vectors.get(tag) else {
            continue;
        };
        prototypes[i] = match examples.get(tag) {
            Some(ex) => {
                let pos: Vec<&[f32]> = ex
                    .positives
                    .iter()
                    .filter(|v| v.len() == text.len())
                    .map(Vec::as_slice)
                    .collect();
                let neg: Vec<&[f32]> = ex
                    .negatives
                    .iter()
                    .filter(|v| v.len() == text.len())
                    .map(Vec::as_slice)
                    .collect();
                blend(text, &pos, &neg, &calibration.blend)
            }
            None => text.clone(),
        };
    }
    report.concepts = prototypes.iter().filter(|p| !p.is_empty()).count();

    // Statistics, and which concepts changed.
    let photos = catalog.count_embeddings(model_id)?.max(0) as usize;
    let fitted_on: Option<usize> = catalog
        .setting(&stats_setting(model_id))?
        .and_then(|v| v.parse().ok());
    let refit = opts.full
        || match fitted_on {
            None => true,
            Some(0) => photos > 0,
            Some(n) => photos as f64 >= n as f64 * REFIT_GROWTH,
        };
    report.stats_refit = refit;
    let states = catalog.tag_concept_states(model_id)?;
    let mut sample: Option<Vec<Vec<f32>>> = None;
    let mut prior: Option<Prior> = None;
    let mut stats = vec![
        ConceptStats {
            median: 0.0,
            spread: 1.0
        };
        vocab.len()
    ];
    let mut signatures: Vec<Vec<u8>> = vec![Vec::new(); vocab.len()];
    let mut changed = 0;
    for (i, proto) in prototypes.iter().enumerate() {
        if proto.is_empty() {
            continue;
        }
        let tag = &vocab.concepts()[i].tag;
        let sig = concept_signature(proto, calibration, tag);
        let reuse = match states.get(tag) {
            Some((old_sig, median, spread)) if !refit && *old_sig == sig => Some(ConceptStats {
                median: *median,
                spread: *spread,
            }),
            _ => None,
        };
        stats[i] = match reuse {
            Some(s) => s,
            None => {
                changed += 1;
                let sample = match &mut sample {
                    Some(s) => s,
                    None => sample.insert(catalog.sample_embeddings(model_id, STATS_SAMPLE)?),
                };
                let prior = *prior.get_or_insert_with(|| {
                    let pooled: Vec<f32> = sample
                        .iter()
                        .flat_map(|v| {
                            prototypes
                                .iter()
                                .filter(|p| !p.is_empty() && p.len() == v.len())
                                .map(move |p| dot(v, p))
                        })
                        .collect();
                    pooled_prior(&calibration.prior, &pooled)
                });
                let scores: Vec<f32> = sample
                    .iter()
                    .filter(|v| v.len() == proto.len())
                    .map(|v| dot(v, proto))
                    .collect();
                fit_stats(&scores, &prior)
            }
        };
        signatures[i] = sig;
    }
    report.changed_concepts = changed;
    let current: HashSet<&str> = prototypes
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
        .map(|(i, _)| vocab.concepts()[i].tag.as_str())
        .collect();
    let removed: Vec<String> = states
        .keys()
        .filter(|t| !current.contains(t.as_str()))
        .cloned()
        .collect();
    report.removed_concepts = removed.len();
    let mut changed_photos: HashSet<i64> = HashSet::new();
    if !removed.is_empty() {
        let (ids, rows) = catalog.remove_auto_tags(&removed)?;
        changed_photos.extend(ids);
        report.tags_removed += rows;
    }

    let scorer = Scorer::new(
        (0..vocab.len())
            .map(|i| ScoredConcept {
                prototype: prototypes[i].clone(),
                stats: stats[i],
                rule: calibration.concept_rule(&vocab.concepts()[i].tag),
                group: vocab.concepts()[i].group || prototypes[i].is_empty(),
                ancestors: vocab.ancestors(i),
            })
            .collect(),
        calibration.rule,
    )
    .with_calibration(encoder.calibration());

    // Photos.
    let only_unscored = changed == 0 && removed.is_empty();
    let total = if only_unscored {
        catalog.count_tag_unscored(model_id)?.max(0) as usize
    } else {
        photos
    };
    let scoring_started = Instant::now();
    let mut after = 0i64;
    loop {
        if cancelled() {
            report.cancelled = true;
            break;
        }
        let page = catalog.tag_work_page(model_id, after, PAGE, only_unscored)?;
        let Some(last) = page.last() else { break };
        after = last.0;
        let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
        let rejections = catalog.rejections_for(&ids)?;
        let confirmations = catalog.confirmed_for(&ids)?;
        let mut batch = Vec::with_capacity(page.len());
        for (id, vector) in &page {
            let rejected: HashSet<usize> = rejections
                .get(id)
                .map(|tags| tags.iter().filter_map(|t| vocab.index(t)).collect())
                .unwrap_or_default();
            let scores = if vector.len() == scorer_dim(&prototypes) {
                scorer.scores(vector)
            } else {
                vec![f32::NAN; vocab.len()]
            };
            let confirmed: HashSet<usize> = confirmations
                .get(id)
                .map(|tags| tags.iter().filter_map(|t| vocab.index(t)).collect())
                .unwrap_or_default();
            let desired: Vec<(String, f32)> = scorer
                .decide_with(&scores, &rejected, &confirmed)
                .into_iter()
                .map(|a| (vocab.concepts()[a.concept].tag.clone(), a.score))
                .collect();
            batch.push((*id, desired));
        }
        let diff = catalog.apply_auto_tags(model_id, &batch)?;
        report.tags_added += diff.added;
        report.tags_removed += diff.removed;
        changed_photos.extend(diff.changed_photos);
        report.photos_scored += page.len();
        on_progress(&RetagProgress {
            stage: "photos",
            done: report.photos_scored,
            total,
        });
    }
    if !report.cancelled {
        let rows: Vec<(String, Vec<u8>, f32, f32)> = (0..vocab.len())
            .filter(|&i| !prototypes[i].is_empty())
            .map(|i| {
                (
                    vocab.concepts()[i].tag.clone(),
                    signatures[i].clone(),
                    stats[i].median,
                    stats[i].spread,
                )
            })
            .collect();
        catalog.store_tag_concept_states(model_id, &rows)?;
        if refit {
            catalog.set_setting(&stats_setting(model_id), &photos.to_string())?;
        }
    }
    let scoring_seconds = scoring_started.elapsed().as_secs_f64();
    report.seconds = started.elapsed().as_secs_f64();
    report.photos_per_second = if scoring_seconds > 0.0 {
        report.photos_scored as f64 / scoring_seconds
    } else {
        0.0
    };
    let mut ids: Vec<i64> = changed_photos.into_iter().collect();
    ids.sort_unstable();
    report.changed_photos = ids;
    Ok(report)
}

fn scorer_dim(prototypes: &[Vec<f32>]) -> usize {
    prototypes
        .iter()
        .map(Vec::len)
        .find(|&n| n > 0)
        .unwrap_or(0)
}
