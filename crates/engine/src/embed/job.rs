//! The embedding job: decode workers feed batched inference; each batch of
//! vectors is committed in one transaction. Work is defined by what the
//! catalog lacks, so a killed or cancelled job resumes where it stopped.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{bounded, unbounded};
use serde::Serialize;

use super::LoadedModel;
use crate::catalog::{Catalog, EmbedOutcome, EmbedTask};
use crate::error::Result;
use crate::ingest::analyze::StageTimes;
use crate::ingest::decode;

#[derive(Debug, Clone, Default)]
pub struct EmbedOptions {
    /// Images per forward pass; 0 picks one for the device.
    pub batch_size: usize,
    /// Decode and preprocessing threads; 0 picks one for the machine.
    pub workers: usize,
    pub cancel: Option<Arc<AtomicBool>>,
    /// Try photos again whose embedding failed before.
    pub retry_failed: bool,
    /// Only these photos (what the user is looking at), when set.
    pub only: Option<Vec<i64>>,
    /// At most this many photos in this run (one step of the job queue).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EmbedProgress {
    /// Photos handled (embedded or failed) of the total.
    #[serde(flatten)]
    pub progress: crate::progress::Progress,
    /// Photos embedded (the rest of `progress.done` failed).
    pub embedded: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EmbedReport {
    pub model: String,
    pub device: String,
    pub batch_size: usize,
    pub workers: usize,
    pub embedded: u64,
    pub failed: u64,
    /// Photos still without a vector (non-zero only when cancelled).
    pub remaining: u64,
    pub cancelled: bool,
    pub seconds: f64,
    pub photos_per_second: f64,
    /// Busy seconds per stage, summed over threads: decode (read + reduced
    /// decode + orientation), preprocess, model, db.
    pub stage_seconds: BTreeMap<String, f64>,
}

#[derive(Default)]
struct JobTimes {
    decode: AtomicU64,
    preprocess: AtomicU64,
    model: AtomicU64,
    db: AtomicU64,
}

impl JobTimes {
    fn snapshot(&self) -> BTreeMap<String, f64> {
        let s = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64 / 1e9;
        BTreeMap::from([
            ("decode".to_string(), s(&self.decode)),
            ("preprocess".to_string(), s(&self.preprocess)),
            ("model".to_string(), s(&self.model)),
            ("db".to_string(), s(&self.db)),
        ])
    }
}

fn default_batch_size(model: &LoadedModel) -> usize {
    // The CPU gains little past 16 (measured: 8.4 img/s at 8, 8.5 at 32);
    // accelerators want larger batches to fill the device.
    if model.device_info.name == "cpu" {
        16
    } else {
        64
    }
}

fn default_workers(model: &LoadedModel) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if model.device_info.name == "cpu" {
        // Inference takes every core for its matmuls. On 12 MP JPEGs a
        // reduced decode costs ~52 ms per image against ~98 core-ms of
        // ViT-B/32 at batch 8 (pipeline_bench), so half the cores decode.
        (cores / 2).max(1)
    } else {
        cores.max(1)
    }
}

/// Embeds every visible photo that has no vector (and, unless retrying, no
/// recorded failure) for `model`.
pub fn run_embed_job(
    catalog_path: &Path,
    model: &LoadedModel,
    opts: &EmbedOptions,
    on_progress: &(dyn Fn(&EmbedProgress) + Sync),
) -> Result<EmbedReport> {
    let started = Instant::now();
    let catalog = Catalog::open(catalog_path)?;
    if opts.retry_failed {
        catalog.clear_embed_errors(model.row.id)?;
    }
    let mut tasks = catalog.embed_tasks(model.row.id)?;
    if let Some(only) = &opts.only {
        tasks.retain(|t| only.contains(&t.photo_id));
    }
    if let Some(limit) = opts.limit {
        tasks.truncate(limit);
    }
    let total = tasks.len() as u64;
    let batch_size = if opts.batch_size == 0 {
        default_batch_size(model)
    } else {
        opts.batch_size
    };
    let workers = if opts.workers == 0 {
        default_workers(model)
    } else {
        opts.workers
    }
    .min(tasks.len().max(1));
    let cancelled = || {
        opts.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    let times = JobTimes::default();
    let min_edge = model.model.image_size() as u32;

    let (task_tx, task_rx) = unbounded::<EmbedTask>();
    for task in tasks {
        task_tx.send(task).expect("receiver alive");
    }
    drop(task_tx);
    // Bounded: decoded inputs (600 KB each) wait for the model, not pile up.
    let (ready_tx, ready_rx) =
        bounded::<(i64, std::result::Result<Vec<f32>, String>)>(batch_size * 2);

    let mut done = 0u64;
    let mut failed = 0u64;
    let outcome: Result<()> = std::thread::scope(|scope| {
        for _ in 0..workers {
            let task_rx = task_rx.clone();
            let ready_tx = ready_tx.clone();
            let times = &times;
            let cancelled = &cancelled;
            scope.spawn(move || {
                for task in task_rx.iter() {
                    if cancelled() {
                        break;
                    }
                    let t = Instant::now();
                    let image = decode::load_upright(&task.path, min_edge, task.orientation);
                    StageTimes::add(&times.decode, t);
                    let input = image.map(|img| {
                        let t = Instant::now();
                        let px = model.model.preprocess(&img);
                        StageTimes::add(&times.preprocess, t);
                        px
                    });
                    if ready_tx.send((task.photo_id, input)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(ready_tx);

        let mut pixels: Vec<Vec<f32>> = Vec::with_capacity(batch_size);
        let mut ids: Vec<i64> = Vec::with_capacity(batch_size);
        let mut results: Vec<(i64, EmbedOutcome)> = Vec::with_capacity(batch_size);
        let mut flush = |pixels: &mut Vec<Vec<f32>>,
                         ids: &mut Vec<i64>,
                         results: &mut Vec<(i64, EmbedOutcome)>|
         -> Result<()> {
            if !pixels.is_empty() {
                let t = Instant::now();
                let vectors = model.model.embed_preprocessed(pixels)?;
                StageTimes::add(&times.model, t);
                results.extend(
                    ids.drain(..)
                        .zip(vectors.into_iter().map(EmbedOutcome::Vector)),
                );
                pixels.clear();
            }
            if results.is_empty() {
                return Ok(());
            }
            let t = Instant::now();
            catalog.store_embeddings(model.row.id, results)?;
            StageTimes::add(&times.db, t);
            for (_, r) in results.iter() {
                match r {
                    EmbedOutcome::Vector(_) => done += 1,
                    EmbedOutcome::Failed(_) => failed += 1,
                }
            }
            results.clear();
            on_progress(&EmbedProgress {
                progress: crate::progress::Progress::since(started, done + failed, total, false),
                embedded: done,
                failed,
            });
            Ok(())
        };
        for (photo_id, input) in ready_rx.iter() {
            if cancelled() {
                break;
            }
            match input {
                Ok(px) => {
                    pixels.push(px);
                    ids.push(photo_id);
                }
                Err(reason) => results.push((photo_id, EmbedOutcome::Failed(reason))),
            }
            if pixels.len() >= batch_size || results.len() >= batch_size {
                flush(&mut pixels, &mut ids, &mut results)?;
            }
        }
        // On cancel, finish the batch at hand: the work is already paid for.
        let last = flush(&mut pixels, &mut ids, &mut results);
        // Dropping the receiver unblocks workers waiting to send.
        drop(ready_rx);
        last
    });
    outcome?;

    let seconds = started.elapsed().as_secs_f64();
    let remaining = catalog.count_pending_embeddings(Some(model.row.id))? as u64;
    Ok(EmbedReport {
        model: model.row.key.clone(),
        device: model.device_info.name.clone(),
        batch_size,
        workers,
        embedded: done,
        failed,
        remaining,
        cancelled: cancelled(),
        seconds,
        photos_per_second: done as f64 / seconds.max(1e-9),
        stage_seconds: times.snapshot(),
    })
}
