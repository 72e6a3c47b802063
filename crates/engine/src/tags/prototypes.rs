//! Concept text prototypes: every concept's prompts through the model's
//! text tower, ensembled, and cached in the catalog per (model, concept)
//! under a signature of the prompts, so each is computed once per model and
//! again only when its vocabulary line or the templates change.

use std::collections::HashMap;
use std::time::Instant;

use super::scoring::weighted_mean;
use super::vocab::Vocabulary;
use crate::catalog::Catalog;
use crate::error::Result;

/// Bumped when the way prompts become a prototype changes.
const PROMPT_VERSION: &str = "shoebox-tag-prompts-v1";

/// Prompts per text-tower call.
const PROMPT_BATCH: usize = 64;

/// Something that turns texts into unit vectors: the CLIP text tower, or a
/// test's deterministic encoder.
pub trait TextEncoder {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;

    /// The model's own probability scale (SigLIP), which decides tags
    /// instead of the library-relative rule.
    fn calibration(&self) -> Option<shoebox_model::Calibration> {
        None
    }
}

/// The cache key of concept `i`'s text prototype: a hash of its prompts
/// and their weights.
pub fn signature(vocab: &Vocabulary, i: usize) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    h.update(PROMPT_VERSION.as_bytes());
    for (prompt, weight) in vocab.prompts(i) {
        h.update(&(prompt.len() as u64).to_le_bytes());
        h.update(prompt.as_bytes());
        h.update(&weight.to_le_bytes());
    }
    h.finalize().as_bytes().to_vec()
}

/// Text prototypes of every taggable concept, by tag.
pub struct TextPrototypes {
    pub vectors: HashMap<String, Vec<f32>>,
    /// Concepts embedded now (not found in the cache).
    pub built: usize,
    /// Prompts run through the encoder now.
    pub prompts: usize,
    pub seconds: f64,
}

/// Loads cached prototypes and computes the missing or stale ones,
/// storing each batch as it is done (an interrupted build keeps its
/// progress). `on_progress(done, total)` counts concepts to build.
pub fn text_prototypes(
    catalog: &Catalog,
    model_id: i64,
    encoder: &dyn TextEncoder,
    vocab: &Vocabulary,
    on_progress: &dyn Fn(usize, usize),
) -> Result<TextPrototypes> {
    let started = Instant::now();
    let cached = catalog.tag_prototypes(model_id)?;
    let mut vectors = HashMap::new();
    let mut todo: Vec<(usize, Vec<u8>)> = Vec::new();
    for i in vocab.taggable() {
        let tag = &vocab.concepts()[i].tag;
        let sig = signature(vocab, i);
        match cached.get(tag) {
            Some((s, v)) if *s == sig => {
                vectors.insert(tag.clone(), v.clone());
            }
            _ => todo.push((i, sig)),
        }
    }
    let total = todo.len();
    let mut prompts_run = 0;
    let mut done = 0;
    let mut at = 0;
    while at < todo.len() {
        // Whole concepts per batch, about PROMPT_BATCH prompts.
        let mut end = at;
        let mut n = 0;
        while end < todo.len() && (n == 0 || n + vocab.prompts(todo[end].0).len() <= PROMPT_BATCH) {
            n += vocab.prompts(todo[end].0).len();
            end += 1;
        }
        let batch = &todo[at..end];
        let prompts: Vec<Vec<(String, f32)>> =
            batch.iter().map(|(i, _)| vocab.prompts(*i)).collect();
        let flat: Vec<&str> = prompts
            .iter()
            .flat_map(|p| p.iter().map(|(t, _)| t.as_str()))
            .collect();
        let embedded = embed_robustly(encoder, &flat)?;
        prompts_run += flat.len();
        let mut rows = Vec::with_capacity(batch.len());
        let mut k = 0;
        for ((i, sig), concept_prompts) in batch.iter().zip(&prompts) {
            let mut vs = Vec::new();
            let mut ws = Vec::new();
            for (_, w) in concept_prompts {
                if let Some(v) = &embedded[k] {
                    vs.push(v.clone());
                    ws.push(*w);
                }
                k += 1;
            }
            let tag = vocab.concepts()[*i].tag.clone();
            if vs.is_empty() {
                tracing::warn!(
                    tag,
                    "no prompt of this concept could be embedded; it is skipped"
                );
                continue;
            }
            let proto = weighted_mean(&vs, &ws);
            rows.push((tag.clone(), sig.clone(), proto.clone()));
            vectors.insert(tag, proto);
        }
        catalog.store_tag_prototypes(model_id, &rows)?;
        done += batch.len();
        on_progress(done, total);
        at = end;
    }
    Ok(TextPrototypes {
        vectors,
        built: total,
        prompts: prompts_run,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Embeds a batch; when the batch fails (say, one user description is too
/// long for the text tower), each prompt is tried alone and the ones that
/// fail are skipped with a warning.
fn embed_robustly(encoder: &dyn TextEncoder, texts: &[&str]) -> Result<Vec<Option<Vec<f32>>>> {
    match encoder.embed_texts(texts) {
        Ok(v) => Ok(v.into_iter().map(Some).collect()),
        Err(e) if texts.len() > 1 => {
            tracing::debug!("prompt batch failed ({e}); embedding one by one");
            Ok(texts
                .iter()
                .map(|t| match encoder.embed_texts(&[t]) {
                    Ok(mut v) => v.pop(),
                    Err(e) => {
                        tracing::warn!(prompt = t, "prompt skipped: {e}");
                        None
                    }
                })
                .collect())
        }
        Err(e) => {
            tracing::warn!(prompt = texts.first().copied(), "prompt skipped: {e}");
            Ok(vec![None; texts.len()])
        }
    }
}
