//! The accuracy harness (`shoebox eval tags --labels labels.csv DIR`): for
//! whoever has real weights and a labelled folder. Reports zero-shot top-1
//! and top-5 over the vocabulary, and precision / recall of the tags the
//! decision rule assigns; `--fit` also fits per-concept thresholds and saves
//! them as the library's calibration file for the model.
//!
//! labels.csv: one image per line, `relative/path.jpg,tag;tag;...` (tags by
//! name or synonym; a header line starting with `file,` is skipped). A
//! labelled tag's ancestors count as correct too, since a tagged child
//! implies its parents.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::calibration::Calibration;
use super::job::RetagProgress;
use super::prototypes::{text_prototypes, TextEncoder};
use super::scoring::{
    dot, fit_stats, pooled_prior, ConceptRule, ConceptStats, ScoredConcept, Scorer,
};
use super::vocab::Vocabulary;
use crate::catalog::Catalog;
use crate::error::{EngineError, Result};

/// Concepts need this many positive images before `--fit` sets a threshold.
const MIN_POSITIVES_TO_FIT: usize = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Counts {
    fn finish(&mut self) {
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        self.precision = p;
        self.recall = r;
        self.f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TagEval {
    pub tag: String,
    /// Images labelled with it (directly or through a descendant).
    pub support: usize,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub model: String,
    pub images: usize,
    pub concepts: usize,
    /// Share of images whose best-scoring concept is one of its labels
    /// (or their ancestors).
    pub top1: f64,
    pub top5: f64,
    /// Micro-averaged over all assigned tags.
    pub assigned: Counts,
    /// Images that got no tag at all.
    pub abstained: usize,
    pub per_tag: Vec<TagEval>,
    pub skipped: Vec<Skipped>,
    /// Labels that name no concept (not scored).
    pub unknown_labels: Vec<String>,
    pub calibration_fitted: bool,
    pub calibration_path: Option<String>,
    pub fitted_concepts: usize,
}

/// Parses labels.csv into (file, labels).
pub fn parse_labels(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (n == 0 && line.starts_with("file,")) {
            continue;
        }
        let (file, tags) = line.rsplit_once(',').unwrap_or((line, ""));
        let tags = tags
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        out.push((file.trim().trim_matches('"').to_string(), tags));
    }
    out
}

/// Runs the harness. `embed_image` gives a file's unit vector the way the
/// embedding job computes it.
#[allow(clippy::too_many_arguments)]
pub fn run_eval(
    catalog: &Catalog,
    model_id: i64,
    model_key: &str,
    encoder: &dyn TextEncoder,
    embed_image: &dyn Fn(&Path) -> Result<Vec<f32>>,
    vocab: &Vocabulary,
    calibration: &Calibration,
    labels_path: &Path,
    dir: &Path,
    on_progress: &dyn Fn(&RetagProgress),
) -> Result<(EvalReport, Option<Calibration>)> {
    let text = std::fs::read_to_string(labels_path)
        .map_err(|e| EngineError::io(format!("cannot read {}", labels_path.display()), e))?;
    let rows = parse_labels(&text);
    if rows.is_empty() {
        return Err(EngineError::Invalid(format!(
            "{} has no `file,tag;tag` rows",
            labels_path.display()
        )));
    }
    let protos = text_prototypes(catalog, model_id, encoder, vocab, &|done, total| {
        on_progress(&RetagProgress {
            stage: "prototypes",
            done,
            total,
        })
    })?;
    let concepts: Vec<usize> = vocab
        .taggable()
        .filter(|&i| protos.vectors.contains_key(&vocab.concepts()[i].tag))
        .collect();

    let mut unknown: Vec<String> = Vec::new();
    let mut skipped = Vec::new();
    let mut images: Vec<(Vec<f32>, HashSet<usize>)> = Vec::new();
    for (k, (file, labels)) in rows.iter().enumerate() {
        let mut truth = HashSet::new();
        for l in labels {
            match vocab.lookup(l).and_then(|c| vocab.index(&c.tag)) {
                Some(i) => {
                    truth.insert(i);
                    // Groups are never assigned, so they are not truths.
                    truth.extend(
                        vocab
                            .ancestors(i)
                            .into_iter()
                            .filter(|&a| !vocab.concepts()[a].group),
                    );
                }
                None => {
                    if !unknown.contains(l) {
                        unknown.push(l.clone());
                    }
                }
            }
        }
        match embed_image(&dir.join(file)) {
            Ok(v) => images.push((v, truth)),
            Err(e) => skipped.push(Skipped {
                file: file.clone(),
                reason: e.to_string(),
            }),
        }
        on_progress(&RetagProgress {
            stage: "photos",
            done: k + 1,
            total: rows.len(),
        });
    }
    if images.is_empty() {
        return Err(EngineError::Invalid(
            "no labelled image could be read".into(),
        ));
    }

    // Scores of every image against every concept.
    let scores: Vec<Vec<f32>> = images
        .iter()
        .map(|(v, _)| {
            (0..vocab.len())
                .map(|i| match protos.vectors.get(&vocab.concepts()[i].tag) {
                    Some(p) if concepts.contains(&i) => dot(v, p),
                    _ => f32::NAN,
                })
                .collect()
        })
        .collect();

    // Statistics from this set (standing in for a library).
    let pooled: Vec<f32> = scores
        .iter()
        .flatten()
        .copied()
        .filter(|x| !x.is_nan())
        .collect();
    let prior = pooled_prior(&calibration.prior, &pooled);
    let stats: Vec<ConceptStats> = (0..vocab.len())
        .map(|i| {
            let col: Vec<f32> = scores
                .iter()
                .map(|s| s[i])
                .filter(|x| !x.is_nan())
                .collect();
            fit_stats(&col, &prior)
        })
        .collect();

    let mut fitted = calibration.clone();
    let mut fitted_concepts = 0;
    for &i in &concepts {
        let tag = &vocab.concepts()[i].tag;
        let positives = images.iter().filter(|(_, t)| t.contains(&i)).count();
        if positives < MIN_POSITIVES_TO_FIT {
            continue;
        }
        if let Some(t) = best_threshold(&scores, &images, i) {
            fitted.concepts.insert(
                tag.clone(),
                ConceptRule {
                    threshold: Some(t),
                    z: None,
                },
            );
            fitted_concepts += 1;
        }
    }

    let scorer = Scorer::new(
        (0..vocab.len())
            .map(|i| ScoredConcept {
                prototype: protos
                    .vectors
                    .get(&vocab.concepts()[i].tag)
                    .cloned()
                    .unwrap_or_default(),
                stats: stats[i],
                rule: calibration.concept_rule(&vocab.concepts()[i].tag),
                group: !concepts.contains(&i),
                ancestors: vocab.ancestors(i),
            })
            .collect(),
        calibration.rule,
    );

    let mut top1 = 0;
    let mut top5 = 0;
    let mut micro = Counts::default();
    let mut per: BTreeMap<usize, (usize, Counts)> = BTreeMap::new();
    let mut abstained = 0;
    for ((_, truth), s) in images.iter().zip(&scores) {
        let mut ranked: Vec<usize> = concepts.clone();
        ranked.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
        if ranked.first().is_some_and(|c| truth.contains(c)) {
            top1 += 1;
        }
        if ranked.iter().take(5).any(|c| truth.contains(c)) {
            top5 += 1;
        }
        let assigned: HashSet<usize> = scorer
            .decide(s, &HashSet::new())
            .iter()
            .map(|a| a.concept)
            .collect();
        if assigned.is_empty() {
            abstained += 1;
        }
        for &c in assigned.union(truth) {
            let entry = per.entry(c).or_default();
            if truth.contains(&c) {
                entry.0 += 1;
            }
            match (assigned.contains(&c), truth.contains(&c)) {
                (true, true) => {
                    micro.tp += 1;
                    entry.1.tp += 1;
                }
                (true, false) => {
                    micro.fp += 1;
                    entry.1.fp += 1;
                }
                (false, true) => {
                    micro.fn_ += 1;
                    entry.1.fn_ += 1;
                }
                (false, false) => {}
            }
        }
    }
    micro.finish();
    let mut per_tag: Vec<TagEval> = per
        .into_iter()
        .map(|(c, (support, mut counts))| {
            counts.finish();
            TagEval {
                tag: vocab.concepts()[c].tag.clone(),
                support,
                counts,
            }
        })
        .collect();
    per_tag.sort_by(|a, b| b.support.cmp(&a.support).then(a.tag.cmp(&b.tag)));
    let n = images.len() as f64;
    let fit_out = (fitted_concepts > 0).then(|| {
        fitted.fitted = true;
        fitted.model = Some(model_key.to_string());
        fitted.note = format!(
            "Per-concept thresholds fitted by `shoebox eval tags --fit` on {} labelled images ({} concepts with at least {MIN_POSITIVES_TO_FIT} positives): the cosine that maximises F1 on this set.",
            images.len(),
            fitted_concepts
        );
        fitted
    });
    Ok((
        EvalReport {
            model: model_key.to_string(),
            images: images.len(),
            concepts: concepts.len(),
            top1: top1 as f64 / n,
            top5: top5 as f64 / n,
            assigned: micro,
            abstained,
            per_tag,
            skipped,
            unknown_labels: unknown,
            calibration_fitted: false,
            calibration_path: None,
            fitted_concepts,
        },
        fit_out,
    ))
}

/// The cosine threshold for concept `i` with the best F1 on the set (ties:
/// the higher threshold, for precision).
fn best_threshold(
    scores: &[Vec<f32>],
    images: &[(Vec<f32>, HashSet<usize>)],
    i: usize,
) -> Option<f32> {
    let mut pairs: Vec<(f32, bool)> = scores
        .iter()
        .zip(images)
        .map(|(s, (_, t))| (s[i], t.contains(&i)))
        .filter(|(s, _)| !s.is_nan())
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = pairs.iter().filter(|p| p.1).count();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut best: Option<(f64, f32)> = None;
    for (s, pos) in &pairs {
        if *pos {
            tp += 1;
        } else {
            fp += 1;
        }
        let p = tp as f64 / (tp + fp) as f64;
        let r = tp as f64 / positives.max(1) as f64;
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        if best.is_none_or(|(b, _)| f1 > b) {
            best = Some((f1, *s));
        }
    }
    best.filter(|(f1, _)| *f1 > 0.0).map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse() {
        let rows = parse_labels("file,tags\na.jpg,dog;beach\n\n\"b, c.jpg\",Sunset\nd.jpg,\n");
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            ("a.jpg".to_string(), vec!["dog".into(), "beach".into()])
        );
        assert_eq!(rows[1].0, "b, c.jpg");
        assert!(rows[2].1.is_empty());
    }
}
