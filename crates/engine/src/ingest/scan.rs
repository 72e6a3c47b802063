//! The scan: walkers (one per root) feed a bounded queue, a pool of workers
//! analyses files, and this thread writes their results in batched
//! transactions. Bounded channels keep memory flat on million-file trees.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, RecvTimeoutError};
use serde::Serialize;

use crate::catalog::{Catalog, Root, ScanWrite};
use crate::error::Result;

use super::analyze::{Analyzer, StageTimes};
use super::thumbs::ThumbCache;
use super::walk::{self, WalkItem};

const BATCH: usize = 256;
const FLUSH_EVERY: Duration = Duration::from_millis(250);
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Worker threads for reading and decoding; 0 means one per core.
    pub threads: usize,
    /// Set to stop early; an interrupted scan never prunes anything.
    pub cancel: Option<std::sync::Arc<AtomicBool>>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanProgress {
    /// Files found by the walk so far.
    pub discovered: u64,
    /// Files analysed and written so far.
    pub processed: u64,
    /// True while folders are still being walked (the total may still grow).
    pub walking: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    pub discovered: u64,
    pub new_photos: u64,
    pub linked_files: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub removed: u64,
    pub offline_folders: Vec<String>,
    pub cancelled: bool,
    pub seconds: f64,
    /// Seconds spent per stage, summed over worker threads.
    pub stage_seconds: std::collections::BTreeMap<String, f64>,
}

pub struct ScanContext<'a> {
    pub catalog_path: &'a Path,
    /// The library folder, skipped if it sits inside a root.
    pub library_dir: &'a Path,
    pub thumbs: &'a ThumbCache,
    pub times: &'a StageTimes,
}

pub fn run_scan(
    ctx: &ScanContext,
    roots: &[Root],
    opts: &ScanOptions,
    on_progress: &(dyn Fn(&ScanProgress) + Sync),
) -> Result<ScanReport> {
    let started = Instant::now();
    let writer = Catalog::open(ctx.catalog_path)?;
    let scan_id = writer.begin_scan()?;
    let mut report = ScanReport::default();

    let mut online = Vec::new();
    for root in roots {
        // A missing root is an unmounted drive or a renamed folder: its files
        // go offline, never deleted, and come back when it returns.
        let present = root.path.is_dir();
        writer.set_root_online(root.id, present)?;
        if present {
            online.push(root.clone());
        } else {
            tracing::warn!(root = %root.path.display(), "library folder is missing; its photos are offline");
            report.offline_folders.push(root.path.display().to_string());
        }
    }

    let local_cancel = AtomicBool::new(false);
    let cancelled = || {
        local_cancel.load(Ordering::Relaxed)
            || opts
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    let discovered = AtomicU64::new(0);
    let walkers_left = AtomicU64::new(online.len() as u64);
    let threads = super::worker_threads(opts.threads);

    let journal = super::journal::DecodeJournal::open(ctx.library_dir);
    let (walk_tx, walk_rx) = bounded::<(i64, WalkItem)>(1024);
    let (write_tx, write_rx) = bounded::<Option<ScanWrite>>(1024);

    let outcome: Result<Vec<(i64, walk::WalkSummary)>> = std::thread::scope(|s| {
        let mut walkers = Vec::new();
        for root in &online {
            let (tx, discovered, walkers_left, cancelled) =
                (walk_tx.clone(), &discovered, &walkers_left, &cancelled);
            walkers.push(s.spawn(move || {
                let (item_tx, item_rx) = bounded::<WalkItem>(64);
                let summary = std::thread::scope(|inner| {
                    let forward = inner.spawn(move || {
                        for item in item_rx {
                            discovered.fetch_add(1, Ordering::Relaxed);
                            if tx.send((root.id, item)).is_err() {
                                break;
                            }
                        }
                    });
                    let summary = walk::walk(&root.path, ctx.library_dir, &item_tx, cancelled);
                    drop(item_tx);
                    let _ = forward.join();
                    summary
                });
                walkers_left.fetch_sub(1, Ordering::Relaxed);
                (root.id, summary)
            }));
        }
        drop(walk_tx);

        let mut workers = Vec::new();
        for _ in 0..threads {
            let (rx, tx, journal) = (walk_rx.clone(), write_tx.clone(), &journal);
            workers.push(s.spawn(move || -> Result<()> {
                let catalog = Catalog::open_unmigrated(ctx.catalog_path)?;
                let analyzer = Analyzer {
                    catalog: &catalog,
                    thumbs: ctx.thumbs,
                    times: ctx.times,
                    journal,
                };
                for (root_id, item) in rx {
                    let write = match item {
                        WalkItem::File(path) => analyzer.analyze(root_id, &path),
                        WalkItem::Problem { path, reason } => Some(ScanWrite::WalkError {
                            root_id,
                            path,
                            reason,
                        }),
                    };
                    // `None` (skipped quietly) still counts as processed.
                    if tx.send(write).is_err() {
                        break;
                    }
                }
                Ok(())
            }));
        }
        drop(write_tx);
        drop(walk_rx);

        let write_result = write_loop(
            &writer,
            scan_id,
            &write_rx,
            &mut report,
            ctx.times,
            &|processed| {
                on_progress(&ScanProgress {
                    discovered: discovered.load(Ordering::Relaxed),
                    processed,
                    walking: walkers_left.load(Ordering::Relaxed) > 0,
                })
            },
        );
        if write_result.is_err() {
            local_cancel.store(true, Ordering::Relaxed);
        }
        drop(write_rx);
        let summaries: Vec<_> = walkers.into_iter().filter_map(|w| w.join().ok()).collect();
        for worker in workers {
            worker.join().expect("scan worker panicked")?;
        }
        write_result?;
        Ok(summaries)
    });
    let summaries = outcome?;

    report.cancelled = cancelled();
    if !report.cancelled {
        for (root_id, summary) in summaries {
            if summary.complete {
                report.removed +=
                    writer.prune_root(root_id, scan_id, &summary.unreadable_dirs)? as u64;
                writer.mark_root_scanned(root_id)?;
            }
        }
        writer.finish_scan(scan_id)?;
    }
    report.discovered = discovered.load(Ordering::Relaxed);
    report.seconds = started.elapsed().as_secs_f64();
    report.stage_seconds = ctx
        .times
        .snapshot()
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    on_progress(&ScanProgress {
        discovered: report.discovered,
        processed: report.discovered,
        walking: false,
    });
    Ok(report)
}

fn write_loop(
    writer: &Catalog,
    scan_id: i64,
    rx: &crossbeam_channel::Receiver<Option<ScanWrite>>,
    report: &mut ScanReport,
    times: &StageTimes,
    progress: &dyn Fn(u64),
) -> Result<()> {
    let mut batch: Vec<ScanWrite> = Vec::with_capacity(BATCH);
    let mut processed = 0u64;
    let mut last_flush = Instant::now();
    let mut last_progress = Instant::now();
    let flush = |batch: &mut Vec<ScanWrite>| -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        writer.apply_scan_batch(scan_id, batch)?;
        batch.clear();
        StageTimes::add(&times.database, started);
        Ok(())
    };
    loop {
        match rx.recv_timeout(FLUSH_EVERY) {
            Ok(None) => processed += 1,
            Ok(Some(write)) => {
                processed += 1;
                match &write {
                    ScanWrite::Unchanged { .. } => report.unchanged += 1,
                    ScanWrite::Photo { photo: Some(_), .. } => report.new_photos += 1,
                    ScanWrite::Photo { photo: None, .. } => report.linked_files += 1,
                    ScanWrite::Failed { .. } | ScanWrite::WalkError { .. } => report.failed += 1,
                    _ => {}
                }
                batch.push(write);
                if batch.len() >= BATCH || last_flush.elapsed() >= FLUSH_EVERY {
                    flush(&mut batch)?;
                    last_flush = Instant::now();
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                flush(&mut batch)?;
                last_flush = Instant::now();
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            progress(processed);
            last_progress = Instant::now();
        }
    }
    flush(&mut batch)
}
