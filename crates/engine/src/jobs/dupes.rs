//! The `dupes` job: keeps duplicate detection ready in the background by
//! analysing again the photos catalogued before region hashes existed
//! (crops and the keeper's sharpness need them), in bounded steps.
//!
//! Grouping itself stays on demand (`Library::duplicates`): a job step
//! cannot be interrupted, and grouping grows with the number of
//! near-identical photos, so as a step it would hold newly arrived files
//! back behind it.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::catalog::{Catalog, RegionFacts, RegionWork};
use crate::error::Result;
use crate::ingest::{decode, phash};
use crate::jobs::{JobContext, JobHandler, Step, KIND_DUPES};

/// Photos analysed again per step.
pub const REGION_STEP: usize = 64;

pub struct DupesHandler {
    pub threads: usize,
}

impl JobHandler for DupesHandler {
    fn kind(&self) -> &'static str {
        KIND_DUPES
    }

    fn changes(&self) -> Option<crate::jobs::Change> {
        Some(crate::jobs::Change::Dupes)
    }

    fn remaining(&mut self, catalog: &Catalog) -> Result<u64> {
        catalog.count_photos_missing_region_hashes()
    }

    fn step(&mut self, cx: &JobContext) -> Result<Step> {
        let batch = cx.catalog.photos_missing_region_hashes(REGION_STEP)?;
        if !batch.is_empty() {
            let threads = crate::ingest::worker_threads(self.threads).min(batch.len());
            let facts = region_facts(&batch, threads, cx.cancel);
            if cx.cancel.load(Ordering::Relaxed) {
                return Ok(Step::More { items: 0 });
            }
            cx.catalog.set_region_facts(&facts)?;
            return Ok(Step::More {
                items: facts.len() as u64,
            });
        }
        Ok(Step::Done { items: 0 })
    }
}

/// Region hashes, sharpness and the content check of `batch`, decoded like
/// the scan does. A file that no longer decodes gets an empty hash list
/// (and keeps its old sharpness), so it is not tried again on every run.
fn region_facts(batch: &[RegionWork], threads: usize, cancel: &AtomicBool) -> Vec<RegionFacts> {
    let chunk = batch.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .take_while(|_| !cancel.load(Ordering::Relaxed))
                        .map(|w| {
                            match decode::load_upright(&w.path, decode::WORKING_EDGE, w.orientation) {
                                Ok(image) => RegionFacts {
                                    photo_id: w.photo_id,
                                    sharpness: crate::ingest::quality::sharpness(&image),
                                    crop_hashes: phash::crop_hashes(&image),
                                    content: crate::ingest::quality::content(
                                        &image,
                                        w.orientation,
                                        w.width,
                                        w.height,
                                        &w.format,
                                    )
                                    .lacking
                                    .unwrap_or_default(),
                                },
                                Err(reason) => {
                                    tracing::warn!(path = %w.path.display(), %reason, "cannot analyse again for duplicates");
                                    RegionFacts {
                                        photo_id: w.photo_id,
                                        sharpness: None,
                                        crop_hashes: Vec::new(),
                                        content: format!("cannot be decoded again: {reason}"),
                                    }
                                }
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("region analysis does not panic"))
            .collect()
    })
}
