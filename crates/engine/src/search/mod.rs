//! Search: a typed query (see [`query`]) against the in-memory index, with
//! a relevance cut-off, exact re-ranking, date sort and pagination.

mod chips;
mod index;
mod quant;

use serde::Serialize;

pub use crate::query::{parse, today, Filters, Query, QueryError};
pub use chips::{chips, Chip};
pub use index::{Predicate, Scored, VectorIndex};

use crate::catalog::Catalog;
use crate::error::{EngineError, Result};
use quant::dot_f32;
pub use shoebox_model::{Calibration, RelevancePolicy};

/// How much of each negative concept is subtracted from the query.
const NEGATIVE_WEIGHT: f32 = 0.5;
/// Candidates re-ranked with exact vectors beyond the page asked for.
const RERANK_EXTRA: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Best match first (date first for queries without text).
    #[default]
    Relevance,
    /// Newest first.
    Date,
}

impl std::str::FromStr for Sort {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "relevance" | "score" => Ok(Sort::Relevance),
            "date" | "newest" => Ok(Sort::Date),
            other => Err(EngineError::Invalid(format!(
                "unknown sort '{other}': use relevance or date"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub limit: usize,
    pub offset: usize,
    pub sort: Sort,
    /// Return everything that passes the filters, ignoring the cut-off.
    pub all: bool,
    /// A fixed minimum score instead of the adaptive cut-off.
    pub min_score: Option<f32>,
    /// The model's cut-off rule (`Library::search` fills it in from the
    /// model registry).
    pub relevance: RelevancePolicy,
    /// The model's own probability scale (SigLIP), which bounds the
    /// cut-off of a text query (`calibrated_text_cutoff`).
    pub calibration: Option<Calibration>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            limit: 50,
            offset: 0,
            sort: Sort::Relevance,
            all: false,
            min_score: None,
            relevance: RelevancePolicy::default(),
            calibration: None,
        }
    }
}

/// The query vectors a search needs, produced by the caller's model so
/// this module stays independent of inference.
#[derive(Debug, Clone, Default)]
pub struct QueryVectors {
    /// Unit vector of the positive text, if any.
    pub text: Option<Vec<f32>>,
    /// Unit vector of the `like:` photo (or the photo of a similar search).
    pub like: Option<Vec<f32>>,
    /// Unit vectors of the negative concepts.
    pub negative: Vec<Vec<f32>>,
}

/// Why the result list ends where it does.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cutoff {
    /// The minimum score a result needed (null: no cut-off applied).
    pub min_score: Option<f32>,
    /// Median score over the filtered candidates: what "unrelated" scores.
    pub median: f32,
    /// Robust spread (1.4826 × median absolute deviation) of those scores.
    pub spread: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: i64,
    pub path: String,
    /// Cosine similarity to the query (null for filter-only searches).
    pub score: Option<f32>,
    pub taken_at: Option<String>,
    /// Upright size in pixels.
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub query: Query,
    pub results: Vec<Hit>,
    /// Results in all pages (above the cut-off, after filters).
    pub total: usize,
    /// Photos that passed the filters before the cut-off.
    pub candidates: usize,
    pub cutoff: Option<Cutoff>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    /// The filters as removable chips, in the order the query names them.
    pub chips: Vec<chips::Chip>,
    /// Photos passed the filters but fell below the cut-off: "show more"
    /// (with `all`) would find them.
    pub more: bool,
    /// The query in the query language (what a search box shows for it).
    pub query_text: String,
}

fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let n = dot_f32(&v, &v).sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= n);
    v
}

/// The single vector ranked against: positives added, negatives
/// subtracted. `None` when the query has no positive part.
pub fn combine(vectors: &QueryVectors) -> Option<Vec<f32>> {
    let positive = match (&vectors.text, &vectors.like) {
        (Some(t), Some(l)) => normalized(t.iter().zip(l).map(|(a, b)| a + b).collect()),
        (Some(v), None) | (None, Some(v)) => v.clone(),
        (None, None) => return None,
    };
    let mut w = positive;
    for n in &vectors.negative {
        w.iter_mut()
            .zip(n)
            .for_each(|(a, b)| *a -= NEGATIVE_WEIGHT * b);
    }
    Some(normalized(w))
}

fn median(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1
}

/// Median and robust spread of a sample of scores: the bulk of a library
/// is unrelated to any one query, so the median and MAD describe
/// "unrelated" even when a third of the photos match.
fn score_stats(sample: &mut [f32]) -> (f32, f32) {
    let med = median(sample);
    let mut dev: Vec<f32> = sample.iter().map(|s| (s - med).abs()).collect();
    (med, 1.4826 * median(&mut dev))
}

/// A text match the model itself calls likely (SigLIP's sigmoid
/// probability) is always shown...
pub const SURE_TEXT_PROBABILITY: f32 = 0.5;
/// ...and one it calls this unlikely never is, however it ranks in the
/// library: a query that matches nothing finds nothing.
pub const MIN_TEXT_PROBABILITY: f32 = 0.001;

/// The cut-off of a text-only query with a calibrated model: the adaptive
/// cut-off, raised to the cosine of `MIN_TEXT_PROBABILITY` and lowered to
/// that of `SURE_TEXT_PROBABILITY`. The probabilities are the model's own,
/// so the rule carries over to real weights without fitting.
pub fn calibrated_text_cutoff(cal: Calibration, adaptive: f32) -> f32 {
    adaptive
        .max(cal.cosine_at(MIN_TEXT_PROBABILITY))
        .min(cal.cosine_at(SURE_TEXT_PROBABILITY))
}

/// Photos scored to estimate a query's score distribution.
const STATS_SAMPLE: usize = 20_000;
/// Fewer filtered photos than this in the sample (a narrow filter on a
/// large library): estimate from every candidate instead.
const MIN_STATS_SAMPLE: usize = 1_000;

/// Runs a parsed query. `exclude` drops one photo (the source of a
/// similar-photo search).
pub fn execute(
    index: &VectorIndex,
    catalog: &Catalog,
    query: Query,
    vectors: &QueryVectors,
    opts: &SearchOptions,
    exclude: Option<i64>,
) -> Result<SearchResults> {
    if opts.limit > crate::browse::MAX_PAGE {
        return Err(EngineError::Invalid(format!(
            "a page holds at most {} results (asked for {})",
            crate::browse::MAX_PAGE,
            opts.limit
        )));
    }
    let pred = index.compile(&query.filters);
    let ranked = combine(vectors);
    // The cut-off for a ranked query, from its score distribution.
    let cutoff_from = |sample: &mut [f32]| {
        let (median, spread) = score_stats(sample);
        let min_score = if opts.all {
            None
        } else {
            let adaptive = median + opts.relevance.z * spread;
            let mut floor = match (&vectors.text, opts.relevance.text_floor) {
                (Some(_), Some(floor)) => adaptive.max(floor),
                _ => adaptive,
            };
            let text_only =
                vectors.text.is_some() && vectors.like.is_none() && vectors.negative.is_empty();
            if let (Some(cal), true) = (opts.calibration, text_only) {
                floor = calibrated_text_cutoff(cal, floor);
            }
            Some(opts.min_score.unwrap_or(floor))
        };
        Cutoff {
            min_score,
            median,
            spread,
        }
    };
    let (mut scored, mut candidates, cutoff) = match &ranked {
        None => {
            let (scored, candidates) = index.score_min(&pred, None, f32::NEG_INFINITY);
            (scored, candidates, None)
        }
        Some(q) => {
            let (mut sample, complete) = index.sample_scores(&pred, q, STATS_SAMPLE);
            if complete || sample.len() >= MIN_STATS_SAMPLE {
                let cutoff = cutoff_from(&mut sample);
                let min = cutoff.min_score.unwrap_or(f32::NEG_INFINITY);
                let (scored, candidates) = index.score_min(&pred, Some(q), min);
                (scored, candidates, Some(cutoff))
            } else {
                let (mut scored, candidates) = index.score_min(&pred, Some(q), f32::NEG_INFINITY);
                let mut all: Vec<f32> = scored.iter().map(|s| s.score).collect();
                let cutoff = cutoff_from(&mut all);
                if let Some(min) = cutoff.min_score {
                    scored.retain(|s| s.score >= min);
                }
                (scored, candidates, Some(cutoff))
            }
        }
    };
    if let Some(x) = exclude {
        let before = scored.len();
        scored.retain(|s| s.photo_id != x);
        candidates -= before - scored.len();
    }

    // Negative-only queries: drop photos that clearly show the concept.
    if ranked.is_none() && !vectors.negative.is_empty() {
        let neg = normalized(
            vectors
                .negative
                .iter()
                .fold(vec![0.0; index.dim()], |mut acc, n| {
                    acc.iter_mut().zip(n).for_each(|(a, b)| *a += b);
                    acc
                }),
        );
        let with_neg = index.score(&pred, Some(&neg));
        let mut all: Vec<f32> = with_neg.iter().map(|s| s.score).collect();
        let (med, spread) = score_stats(&mut all);
        let shows: std::collections::HashSet<i64> = with_neg
            .iter()
            .filter(|s| s.score >= med + opts.relevance.z * spread)
            .map(|s| s.photo_id)
            .collect();
        scored.retain(|s| !shows.contains(&s.photo_id));
    }
    let total = scored.len();
    let page_end = (opts.offset + opts.limit).min(total);
    let sort = if ranked.is_none() {
        Sort::Date
    } else {
        opts.sort
    };

    let page: Vec<(i64, Option<f32>)> = match sort {
        Sort::Date => {
            scored.sort_unstable_by(|a, b| b.taken.cmp(&a.taken).then(b.photo_id.cmp(&a.photo_id)));
            let page = &scored[opts.offset.min(total)..page_end];
            let exact = match &ranked {
                Some(q) => exact_scores(catalog, index, q, page)?,
                None => page.iter().map(|s| (s.photo_id, None)).collect(),
            };
            exact
        }
        Sort::Relevance => {
            let q = ranked.as_ref().expect("relevance sort has a query vector");
            // Pick a pool by approximate score, then order it exactly.
            let pool = (page_end + RERANK_EXTRA).min(total);
            if pool < total {
                scored.select_nth_unstable_by(pool, |a, b| b.score.total_cmp(&a.score));
                scored.truncate(pool);
            }
            let mut exact = exact_scores(catalog, index, q, &scored)?;
            exact.sort_by(|a, b| {
                b.1.unwrap_or(f32::MIN)
                    .total_cmp(&a.1.unwrap_or(f32::MIN))
                    .then(a.0.cmp(&b.0))
            });
            exact
                .into_iter()
                .skip(opts.offset)
                .take(opts.limit)
                .collect()
        }
    };

    // Read the page from the catalog: anything deleted or gone offline
    // since the index last synced is dropped here, never shown.
    let ids: Vec<i64> = page.iter().map(|p| p.0).collect();
    let rows = catalog.hit_rows(&ids)?;
    let results = page
        .into_iter()
        .filter_map(|(id, score)| {
            rows.get(&id).map(|row| Hit {
                id,
                path: row.path.clone(),
                score,
                taken_at: row.taken_at.clone(),
                width: row.width,
                height: row.height,
            })
        })
        .collect();
    let more = cutoff.as_ref().is_some_and(|c| c.min_score.is_some()) && candidates > total;
    Ok(SearchResults {
        chips: chips::chips(&query),
        query_text: query.to_text(),
        query,
        results,
        total,
        candidates,
        cutoff,
        sort,
        offset: opts.offset,
        limit: opts.limit,
        more,
    })
}

/// Exact cosines from the catalog's f32 vectors (approximate ones for
/// photos whose vector vanished meanwhile are dropped).
fn exact_scores(
    catalog: &Catalog,
    index: &VectorIndex,
    q: &[f32],
    scored: &[Scored],
) -> Result<Vec<(i64, Option<f32>)>> {
    let ids: Vec<i64> = scored.iter().map(|s| s.photo_id).collect();
    let vectors = catalog.vectors(index.model_id(), &ids)?;
    Ok(scored
        .iter()
        .filter_map(|s| {
            vectors
                .get(&s.photo_id)
                .map(|v| (s.photo_id, Some(dot_f32(v, q))))
        })
        .collect())
}
