//! The tagging math, on plain vectors: prototypes from prompt embeddings,
//! blending with confirmed and rejected examples, per-concept score
//! statistics, and the decision rule (threshold, margin, abstention,
//! hierarchy). Nothing here touches the catalog or a model, so the tests
//! drive it with constructed vectors whose right answers are known.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use shoebox_model::Calibration;

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(mut v: Vec<f32>) -> Vec<f32> {
    let n = dot(&v, &v).sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

/// The unit-length weighted mean of unit-normalised vectors: CLIP's prompt
/// ensembling (normalise each prompt embedding, average, normalise).
pub fn weighted_mean(vectors: &[Vec<f32>], weights: &[f32]) -> Vec<f32> {
    let dim = vectors.first().map_or(0, Vec::len);
    let mut acc = vec![0f32; dim];
    for (v, w) in vectors.iter().zip(weights) {
        let v = normalize(v.clone());
        acc.iter_mut().zip(&v).for_each(|(a, x)| *a += w * x);
    }
    normalize(acc)
}

/// How confirmed (positive) and rejected (negative) examples move a
/// concept's prototype. Training-free, in the spirit of Tip-Adapter and
/// "A Hard-to-Beat Baseline for Training-free CLIP-based Adaptation": the
/// text prototype is blended with the mean of the confirmed image
/// embeddings, weighted by how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlendParams {
    /// Examples at which text and images weigh the same (λ = n / (n + κ)).
    pub kappa: f32,
    /// Upper bound for λ: the text keeps at least 1 − max_weight.
    pub max_weight: f32,
    /// How strongly the mean of rejected examples is subtracted (scaled by
    /// m / (m + κ) for m rejections).
    pub negative_weight: f32,
}

impl Default for BlendParams {
    fn default() -> Self {
        BlendParams {
            kappa: 4.0,
            max_weight: 0.8,
            negative_weight: 0.5,
        }
    }
}

/// `text` (unit) blended with the confirmed examples and pushed away from
/// the rejected ones:
/// p = normalise((1 − λ)·t + λ·mean⁺) with λ = min(n/(n+κ), max_weight),
/// then p' = normalise(p − γ·m/(m+κ)·mean⁻).
pub fn blend(
    text: &[f32],
    positives: &[&[f32]],
    negatives: &[&[f32]],
    params: &BlendParams,
) -> Vec<f32> {
    let mean = |vs: &[&[f32]]| {
        let mut acc = vec![0f32; text.len()];
        for v in vs {
            acc.iter_mut().zip(v.iter()).for_each(|(a, x)| *a += x);
        }
        normalize(acc)
    };
    let mut p = text.to_vec();
    if !positives.is_empty() {
        let n = positives.len() as f32;
        let lambda = (n / (n + params.kappa)).min(params.max_weight);
        let pos = mean(positives);
        p = p
            .iter()
            .zip(&pos)
            .map(|(t, e)| (1.0 - lambda) * t + lambda * e)
            .collect();
    }
    p = normalize(p);
    if !negatives.is_empty() {
        let m = negatives.len() as f32;
        let gamma = params.negative_weight * m / (m + params.kappa);
        let neg = mean(negatives);
        p = normalize(p.iter().zip(&neg).map(|(x, e)| x - gamma * e).collect());
    }
    p
}

/// Where a concept's scores lie over the library: "unrelated" is most of
/// it, so the median and the robust spread describe a photo that does not
/// show the concept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConceptStats {
    pub median: f32,
    pub spread: f32,
}

/// What is assumed before the library has many photos; the library's own
/// statistics take over as it grows (shrinkage with `weight` pseudo-photos).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prior {
    pub median: f32,
    pub spread: f32,
    /// Pseudo-photos the prior counts as.
    pub weight: f32,
    /// Take median and spread from the model itself: the pooled scores of
    /// every concept on the sampled photos (see `pooled_prior`), so a
    /// small library starts from "how this model scores unrelated pairs"
    /// rather than from numbers written for another model.
    #[serde(default)]
    pub auto: bool,
}

/// The prior's median and spread from all scores of all concepts on the
/// sampled photos: most (photo, concept) pairs are unrelated, so this is
/// the model's "unrelated" level. The pooled spread also holds the
/// differences between concepts, which makes it a cautious start.
pub fn pooled_prior(prior: &Prior, scores: &[f32]) -> Prior {
    if !prior.auto || scores.is_empty() {
        return *prior;
    }
    let st = fit_stats(
        scores,
        &Prior {
            weight: 0.0,
            ..*prior
        },
    );
    Prior {
        median: st.median,
        spread: st.spread,
        ..*prior
    }
}

/// The smallest spread used, so a concept that scores the same on every
/// photo does not divide by zero.
pub const MIN_SPREAD: f32 = 1e-3;

fn median(sorted: &[f32]) -> f32 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Median and 1.4826 × median absolute deviation of `scores`, shrunk
/// towards the prior: each is (n·library + w·prior) / (n + w).
pub fn fit_stats(scores: &[f32], prior: &Prior) -> ConceptStats {
    let n = scores.len() as f32;
    let (lib_median, lib_spread) = if scores.is_empty() {
        (prior.median, prior.spread)
    } else {
        let mut s = scores.to_vec();
        s.sort_by(f32::total_cmp);
        let m = median(&s);
        let mut dev: Vec<f32> = s.iter().map(|x| (x - m).abs()).collect();
        dev.sort_by(f32::total_cmp);
        (m, 1.4826 * median(&dev))
    };
    let w = prior.weight.max(0.0);
    let shrink = |lib: f32, pri: f32| {
        if n + w == 0.0 {
            pri
        } else {
            (n * lib + w * pri) / (n + w)
        }
    };
    ConceptStats {
        median: shrink(lib_median, prior.median),
        spread: shrink(lib_spread, prior.spread).max(MIN_SPREAD),
    }
}

/// The decision rule, per model (from the calibration file).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// No tag below this cosine, whatever the statistics say.
    pub floor: f32,
    /// Standard scores a concept needs over its library distribution.
    pub z: f32,
    /// How far above the photo's own median concept score it must be.
    pub margin: f32,
    /// At most this many tags from the photo's own evidence (best first).
    pub max_tags: usize,
}

/// A concept's own threshold (fitted on labelled data), overriding the
/// library-relative rule for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ConceptRule {
    /// An absolute cosine threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f32>,
    /// A z for this concept instead of the global one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z: Option<f32>,
}

/// One concept as the scorer sees it.
#[derive(Debug, Clone)]
pub struct ScoredConcept {
    /// Unit prototype; empty for groups (never scored).
    pub prototype: Vec<f32>,
    pub stats: ConceptStats,
    pub rule: ConceptRule,
    /// Groups are never assigned (neither on evidence nor as ancestors).
    pub group: bool,
    /// Indices of all ancestors.
    pub ancestors: Vec<usize>,
}

/// A tag the rule assigns to a photo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assigned {
    pub concept: usize,
    /// The concept's cosine, or for a parent implied by a child the larger
    /// of its own and the child's.
    pub score: f32,
    /// Assigned because a descendant was, not on its own evidence.
    pub implied: bool,
}

/// A tag a calibrated model (SigLIP) gives a photo: its own probability
/// that the concept's text matches the photo is at least this.
pub const TAG_PROBABILITY: f32 = 0.5;

/// Scores photos against a fixed set of concepts.
pub struct Scorer {
    concepts: Vec<ScoredConcept>,
    rule: Rule,
    calibration: Option<Calibration>,
}

impl Scorer {
    pub fn new(concepts: Vec<ScoredConcept>, rule: Rule) -> Self {
        Scorer {
            concepts,
            rule,
            calibration: None,
        }
    }

    /// Decide with the model's own probabilities: a concept passes when
    /// `calibration.probability(cos) >= TAG_PROBABILITY`, and the floor,
    /// margin, z and fitted thresholds (fitted to CLIP scores) do not
    /// apply. The cap on tags per photo and the hierarchy still do.
    pub fn with_calibration(mut self, calibration: Option<Calibration>) -> Self {
        self.calibration = calibration;
        self
    }

    /// The order in which a photo's passing concepts are kept.
    fn rank(&self, k: usize, s: f32) -> f32 {
        match self.calibration {
            Some(_) => s,
            None => self.z(k, s),
        }
    }

    pub fn concepts(&self) -> &[ScoredConcept] {
        &self.concepts
    }

    /// Cosine of the (unit) photo vector with every concept; NaN for groups.
    pub fn scores(&self, photo: &[f32]) -> Vec<f32> {
        self.concepts
            .iter()
            .map(|c| {
                if c.group || c.prototype.is_empty() {
                    f32::NAN
                } else {
                    dot(photo, &c.prototype)
                }
            })
            .collect()
    }

    /// The standard score of concept `k` at cosine `s`.
    pub fn z(&self, k: usize, s: f32) -> f32 {
        let st = &self.concepts[k].stats;
        (s - st.median) / st.spread.max(MIN_SPREAD)
    }

    /// Whether concept `k` passes on its own evidence, given the photo's
    /// median concept score.
    fn passes(&self, k: usize, s: f32, photo_median: f32) -> bool {
        let c = &self.concepts[k];
        if c.group || s.is_nan() {
            return false;
        }
        if let Some(cal) = self.calibration {
            return cal.probability(s) >= TAG_PROBABILITY;
        }
        if s < self.rule.floor {
            return false;
        }
        if s - photo_median < self.rule.margin {
            return false;
        }
        match c.rule.threshold {
            Some(t) => s >= t,
            None => self.z(k, s) >= c.rule.z.unwrap_or(self.rule.z),
        }
    }

    /// The tags for one photo. A concept is assigned on its own evidence
    /// when its cosine is at least the floor, at least `margin` above the
    /// photo's median concept score, and either above its fitted threshold
    /// or `z` spreads above its library median. At most `max_tags` such
    /// concepts are kept (highest standard score first); none passing is a
    /// valid answer (abstention). Each assigned concept implies its
    /// ancestors (groups excepted), as in CHiLS. `rejected` concepts are
    /// never assigned, not even as ancestors.
    pub fn decide(&self, scores: &[f32], rejected: &HashSet<usize>) -> Vec<Assigned> {
        self.decide_with(scores, rejected, &HashSet::new())
    }

    /// `decide`, where `confirmed` concepts (the user's or imported tags of
    /// the photo) also imply their ancestors, with the ancestors' own
    /// scores. The confirmed concepts themselves are not returned: they are
    /// on the photo already.
    pub fn decide_with(
        &self,
        scores: &[f32],
        rejected: &HashSet<usize>,
        confirmed: &HashSet<usize>,
    ) -> Vec<Assigned> {
        let mut finite: Vec<f32> = scores.iter().copied().filter(|s| !s.is_nan()).collect();
        if finite.is_empty() {
            return Vec::new();
        }
        finite.sort_by(f32::total_cmp);
        let photo_median = median(&finite);
        let mut own: Vec<(usize, f32)> = scores
            .iter()
            .enumerate()
            .filter(|&(k, &s)| !rejected.contains(&k) && self.passes(k, s, photo_median))
            .map(|(k, &s)| (k, s))
            .collect();
        own.sort_by(|a, b| self.rank(b.0, b.1).total_cmp(&self.rank(a.0, a.1)));
        own.truncate(self.rule.max_tags);
        let mut out: Vec<Assigned> = own
            .iter()
            .map(|&(concept, score)| Assigned {
                concept,
                score,
                implied: false,
            })
            .collect();
        for &(k, s) in &own {
            for &a in &self.concepts[k].ancestors {
                if self.concepts[a].group || rejected.contains(&a) {
                    continue;
                }
                match out.iter_mut().find(|x| x.concept == a) {
                    Some(existing) => existing.score = existing.score.max(s),
                    None => out.push(Assigned {
                        concept: a,
                        score: s.max(scores[a]),
                        implied: true,
                    }),
                }
            }
        }
        for &c in confirmed {
            for &a in &self.concepts[c].ancestors {
                if self.concepts[a].group
                    || rejected.contains(&a)
                    || confirmed.contains(&a)
                    || out.iter().any(|x| x.concept == a)
                {
                    continue;
                }
                let own = scores.get(a).copied().filter(|s| !s.is_nan());
                out.push(Assigned {
                    concept: a,
                    score: own.unwrap_or(0.0),
                    implied: true,
                });
            }
        }
        out.retain(|x| !confirmed.contains(&x.concept));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_mean_is_unit_and_weighted() {
        let m = weighted_mean(&[vec![2.0, 0.0], vec![0.0, 1.0]], &[3.0, 1.0]);
        assert!((dot(&m, &m) - 1.0).abs() < 1e-6);
        assert!(m[0] > m[1]);
    }

    #[test]
    fn stats_shrink_to_prior() {
        let prior = Prior {
            median: 0.2,
            spread: 0.05,
            weight: 10.0,
            auto: false,
        };
        assert_eq!(fit_stats(&[], &prior).median, 0.2);
        let many: Vec<f32> = (0..1000).map(|i| 0.5 + (i % 3) as f32 * 0.01).collect();
        let st = fit_stats(&many, &prior);
        assert!((st.median - 0.5).abs() < 0.01, "{st:?}");
    }
}
