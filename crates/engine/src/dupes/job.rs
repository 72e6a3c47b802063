//! The `dupes` job: keeps duplicate detection ready in the background.
//! It first analyses again the photos catalogued before region hashes
//! existed (crops and the keeper's sharpness need them), then groups the
//! library once and records how many groups each tier has, so `status`
//! and the UI can show counts without grouping on every call.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use super::verbs::group_catalog;
use super::{Params, Tier};
use crate::catalog::Catalog;
use crate::error::Result;
use crate::ingest::{decode, phash};
use crate::jobs::{JobContext, JobHandler, Step, KIND_DUPES};

/// Photos analysed again per step.
pub const REGION_STEP: usize = 64;
const SETTING_SUMMARY: &str = "dupes.summary";

/// Groups per tier as the last `dupes` job found them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DupesSummary {
    pub computed_at: String,
    pub photos: u64,
    pub exact: u64,
    pub near: u64,
    pub similar: u64,
    /// How long grouping took (seconds).
    pub seconds: f64,
}

pub fn summary(catalog: &Catalog) -> Result<Option<DupesSummary>> {
    Ok(catalog
        .setting(SETTING_SUMMARY)?
        .and_then(|s| serde_json::from_str(&s).ok()))
}

pub struct DupesHandler {
    pub threads: usize,
}

impl JobHandler for DupesHandler {
    fn kind(&self) -> &'static str {
        KIND_DUPES
    }

    fn remaining(&mut self, catalog: &Catalog) -> Result<u64> {
        // The photos to analyse, plus the grouping itself.
        Ok(catalog.count_photos_missing_region_hashes()? + 1)
    }

    fn step(&mut self, cx: &JobContext) -> Result<Step> {
        let batch = cx.catalog.photos_missing_region_hashes(REGION_STEP)?;
        if !batch.is_empty() {
            let facts = region_facts(&batch, self.threads.max(1), cx.cancel);
            if cx.cancel.load(Ordering::Relaxed) {
                return Ok(Step::More { items: 0 });
            }
            cx.catalog.set_region_facts(&facts)?;
            return Ok(Step::More {
                items: facts.len() as u64,
            });
        }
        let started = std::time::Instant::now();
        let (photos, groups) = group_catalog(cx.catalog, &Params::default(), None)?;
        let count = |tier: Tier| groups.iter().filter(|g| g.tier == tier).count() as u64;
        let summary = DupesSummary {
            computed_at: crate::catalog::now_rfc3339(),
            photos: photos.len() as u64,
            exact: count(Tier::Exact),
            near: count(Tier::Near),
            similar: count(Tier::Similar),
            seconds: started.elapsed().as_secs_f64(),
        };
        tracing::debug!(?summary, "duplicates grouped");
        cx.catalog.set_setting(
            SETTING_SUMMARY,
            &serde_json::to_string(&summary).expect("a summary serialises"),
        )?;
        Ok(Step::Done { items: 1 })
    }
}

/// Region hashes and sharpness of `batch`, decoded like the scan does.
/// A file that no longer decodes gets an empty hash list (and keeps its
/// old sharpness), so it is not tried again on every run.
fn region_facts(
    batch: &[(i64, u16, std::path::PathBuf)],
    threads: usize,
    cancel: &AtomicBool,
) -> Vec<(i64, Option<f32>, Vec<u8>)> {
    let chunk = batch.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .take_while(|_| !cancel.load(Ordering::Relaxed))
                        .map(|(id, orientation, path)| {
                            match decode::load_upright(path, decode::WORKING_EDGE, *orientation) {
                                Ok(image) => (
                                    *id,
                                    super::quality::sharpness(&image),
                                    phash::crop_hashes(&image),
                                ),
                                Err(reason) => {
                                    tracing::warn!(path = %path.display(), %reason, "cannot analyse again for duplicates");
                                    (*id, None, Vec::new())
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
