//! The built-in job kinds: root reconcile (`scan`), watched paths
//! (`ingest`), embeddings (`embed`) and re-tagging (`tags`); duplicate
//! grouping (`dupes`) lives in `jobs::dupes`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{EventSink, LiveEvent, Runner};
use super::{
    JobContext, JobHandler, Step, KIND_DUPES, KIND_EMBED, KIND_INGEST, KIND_SCAN, KIND_TAGS,
};
use crate::catalog::Catalog;
use crate::embed::{run_embed_job, EmbedOptions, LoadedModel};
use crate::error::{EngineError, Result};
use crate::ingest::analyze::StageTimes;
use crate::ingest::live::LiveIngest;
use crate::ingest::{run_scan, ScanContext, ScanOptions, ScanProgress};
use crate::progress::Progress;

/// Watched paths handled per step.
pub const INGEST_STEP: usize = 256;
/// How often a long scan step reports progress.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// Photos embedded per step (a few seconds on a laptop CPU).
pub const EMBED_STEP: usize = 64;

/// Kinds that follow new photos.
const AFTER_INGEST: &[&str] = &[KIND_EMBED, KIND_DUPES];
const AFTER_EMBED: &[&str] = &[KIND_TAGS];

/// Reconciles one root (job key = root id) with the disk: the scan, which
/// skips files whose size and mtime are unchanged, prunes what is gone
/// after a complete walk, and turns a missing root offline.
pub struct ScanHandler {
    pub threads: usize,
}

impl JobHandler for ScanHandler {
    fn kind(&self) -> &'static str {
        KIND_SCAN
    }

    fn remaining(&mut self, catalog: &Catalog) -> Result<u64> {
        Ok(catalog
            .jobs()?
            .iter()
            .filter(|j| j.kind == KIND_SCAN && j.state == "queued")
            .count() as u64)
    }

    fn step(&mut self, cx: &JobContext) -> Result<Step> {
        let roots: Vec<_> = cx
            .catalog
            .roots()?
            .into_iter()
            .filter(|r| cx.job.key.is_empty() || r.id.to_string() == cx.job.key)
            .collect();
        if roots.is_empty() {
            return Ok(Step::Done { items: 0 });
        }
        let times = StageTimes::default();
        let ctx = ScanContext {
            catalog_path: cx.catalog.path(),
            library_dir: cx.library_dir,
            thumbs: cx.thumbs,
            times: &times,
        };
        let opts = ScanOptions {
            threads: self.threads,
            cancel: Some(Arc::clone(cx.cancel)),
        };
        // A first scan of a big folder takes minutes: say how far it got
        // (the walk's count is the total so far, so it may still grow).
        let started = std::time::Instant::now();
        let last = Mutex::new(std::time::Instant::now());
        let on_progress = |p: &ScanProgress| {
            let mut last = last.lock().expect("progress clock");
            if last.elapsed() < PROGRESS_EVERY {
                return;
            }
            *last = std::time::Instant::now();
            (cx.events)(&LiveEvent::Progress {
                kind: KIND_SCAN.to_string(),
                progress: Progress::since(started, p.processed, p.discovered, p.walking),
            });
        };
        let report = run_scan(&ctx, &roots, &opts, &on_progress)?;
        cx.catalog.trim_change_log()?;
        let items = report.new_photos + report.linked_files + report.removed;
        Ok(if report.cancelled {
            Step::More { items }
        } else {
            Step::Done { items }
        })
    }

    fn then(&self) -> &'static [&'static str] {
        AFTER_INGEST
    }

    fn changes(&self) -> Option<super::Change> {
        Some(super::Change::Photos)
    }
}

/// Drains the paths the watcher queued, most urgent first.
pub struct IngestHandler {
    pub threads: usize,
    /// Files modified more recently are looked at again later.
    pub settle: std::time::Duration,
}

impl JobHandler for IngestHandler {
    fn kind(&self) -> &'static str {
        KIND_INGEST
    }

    fn remaining(&mut self, catalog: &Catalog) -> Result<u64> {
        Ok(catalog.count_queued_paths()? as u64)
    }

    fn step(&mut self, cx: &JobContext) -> Result<Step> {
        let batch = cx.catalog.next_paths(INGEST_STEP)?;
        if batch.is_empty() {
            return Ok(Step::Done { items: 0 });
        }
        let live = LiveIngest {
            catalog: cx.catalog,
            library_dir: cx.library_dir,
            thumbs: cx.thumbs,
            threads: self.threads,
            cancel: cx.cancel,
            settle: self.settle,
        };
        let report = live.run(&batch)?;
        // Only now are the paths done: a crash before this line redoes the
        // batch, which changes nothing that was already written. Files
        // still being written stay queued, behind the rest.
        let fresh: std::collections::HashSet<&std::path::Path> =
            report.fresh.iter().map(|(_, p)| p.as_path()).collect();
        let done: Vec<_> = batch
            .iter()
            .map(|(_, p)| p.clone())
            .filter(|p| !fresh.contains(p.as_path()))
            .collect();
        cx.catalog.remove_paths(&done)?;
        cx.catalog.requeue_paths_later(&report.fresh)?;
        cx.catalog.trim_change_log()?;
        tracing::debug!(?report, "ingested watched paths");
        let items = done.len() as u64;
        let queued = cx.catalog.count_queued_paths()? as usize;
        Ok(if queued == 0 {
            Step::Done { items }
        } else if queued > report.fresh.len() {
            Step::More { items }
        } else {
            Step::Later {
                items,
                after_secs: self.settle.as_secs().max(1) as i64,
            }
        })
    }

    fn then(&self) -> &'static [&'static str] {
        AFTER_INGEST
    }

    fn changes(&self) -> Option<super::Change> {
        Some(super::Change::Photos)
    }
}

type Loader = Box<dyn FnMut() -> Result<LoadedModel> + Send>;
type SpecLoader = Box<dyn FnMut(&Catalog, &str) -> Result<LoadedModel> + Send>;

/// Where a slot's models come from.
enum Source {
    /// One model for every use (`--model`, or built loaded).
    Fixed(Loader),
    /// The library's models as the catalog names them: the active one for
    /// tags and search, the next one (`embed::switch`) for embedding.
    Library { catalog: PathBuf, load: SpecLoader },
}

/// The models the embed and tags jobs share, loaded on first use and again
/// when the library's model changes (a switch completing). When one cannot
/// be loaded (no weights on this machine), their jobs fail with the reason,
/// are retried a few times, and then wait as `failed` in `status`.
pub struct ModelSlot {
    source: Mutex<Source>,
    /// At most the active and the next model.
    loaded: Mutex<Vec<Arc<LoadedModel>>>,
}

#[derive(Clone, Copy)]
enum Role {
    Active,
    EmbedTarget,
}

impl ModelSlot {
    pub fn new(loader: impl FnMut() -> Result<LoadedModel> + Send + 'static) -> Arc<Self> {
        Self::with(Source::Fixed(Box::new(loader)), Vec::new())
    }

    /// Follows the library's active and next model.
    pub fn following(
        catalog: PathBuf,
        load: impl FnMut(&Catalog, &str) -> Result<LoadedModel> + Send + 'static,
    ) -> Arc<Self> {
        Self::with(
            Source::Library {
                catalog,
                load: Box::new(load),
            },
            Vec::new(),
        )
    }

    /// An already loaded model.
    pub fn ready(model: LoadedModel) -> Arc<Self> {
        let never = || {
            Err(EngineError::Invalid(
                "the model slot was built loaded".into(),
            ))
        };
        Self::with(Source::Fixed(Box::new(never)), vec![Arc::new(model)])
    }

    fn with(source: Source, loaded: Vec<Arc<LoadedModel>>) -> Arc<Self> {
        Arc::new(ModelSlot {
            source: Mutex::new(source),
            loaded: Mutex::new(loaded),
        })
    }

    /// The library's active model: what tags and search use.
    pub fn get(&self) -> Result<Arc<LoadedModel>> {
        self.model_for(Role::Active)
    }

    /// The model the embedding job works on: the next model while a switch
    /// is under way, else the active one.
    pub fn embed_target(&self) -> Result<Arc<LoadedModel>> {
        self.model_for(Role::EmbedTarget)
    }

    fn model_for(&self, role: Role) -> Result<Arc<LoadedModel>> {
        let mut source = self.source.lock().expect("not poisoned");
        let mut loaded = self.loaded.lock().expect("not poisoned");
        let unavailable =
            |e: EngineError| EngineError::Invalid(format!("the model is not available: {e}"));
        match &mut *source {
            Source::Fixed(loader) => {
                if let Some(m) = loaded.first() {
                    return Ok(Arc::clone(m));
                }
                let model = Arc::new(loader().map_err(unavailable)?);
                loaded.push(Arc::clone(&model));
                Ok(model)
            }
            Source::Library { catalog, load } => {
                let catalog = Catalog::open(catalog)?;
                let active = catalog.active_model()?;
                let wanted = match role {
                    Role::Active => active.clone(),
                    Role::EmbedTarget => crate::embed::switch::target(&catalog)?,
                }
                .ok_or_else(|| EngineError::Invalid("no model chosen yet".into()))?;
                let next = catalog.next_model()?;
                // Models neither active nor next are dropped (memory).
                loaded.retain(|m| {
                    Some(m.row.id) == active.as_ref().map(|a| a.id)
                        || Some(m.row.id) == next.as_ref().map(|n| n.id)
                });
                if let Some(m) = loaded.iter().find(|m| m.row.id == wanted.id) {
                    return Ok(Arc::clone(m));
                }
                let model = Arc::new(load(&catalog, &wanted.spec).map_err(unavailable)?);
                loaded.push(Arc::clone(&model));
                Ok(model)
            }
        }
    }
}

/// Embeds photos without a vector for the slot's model, a step at a time;
/// a job keyed `photos:1,2,3` embeds just those (what is on screen).
pub struct EmbedHandler {
    pub model: Arc<ModelSlot>,
    pub batch_size: usize,
    pub workers: usize,
}

fn photo_list(key: &str) -> Option<Vec<i64>> {
    key.strip_prefix("photos:").map(|ids| {
        ids.split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    })
}

impl JobHandler for EmbedHandler {
    fn kind(&self) -> &'static str {
        KIND_EMBED
    }

    fn remaining(&mut self, catalog: &Catalog) -> Result<u64> {
        let model = crate::embed::switch::target(catalog)?.map(|m| m.id);
        Ok(catalog.count_pending_embeddings(model)?.max(0) as u64)
    }

    fn step(&mut self, cx: &JobContext) -> Result<Step> {
        let model = self.model.embed_target()?;
        if crate::embed::switch::target(cx.catalog)?.is_none() {
            crate::embed::switch::choose(cx.catalog, model.row.id)?;
        }
        let only = photo_list(&cx.job.key);
        let opts = EmbedOptions {
            batch_size: self.batch_size,
            workers: self.workers,
            cancel: Some(Arc::clone(cx.cancel)),
            retry_failed: false,
            limit: Some(EMBED_STEP),
            only: only.clone(),
        };
        let report = run_embed_job(cx.catalog.path(), &model, &opts, &|_| {})?;
        if crate::embed::switch::promote_if_complete(cx.catalog)? {
            (cx.events)(&LiveEvent::Changed {
                what: super::Change::Models,
                ids: None,
            });
        }
        let items = report.embedded + report.failed;
        Ok(if only.is_none() && items > 0 && report.remaining > 0 {
            Step::More { items }
        } else {
            Step::Done { items }
        })
    }

    fn then(&self) -> &'static [&'static str] {
        AFTER_EMBED
    }
}

/// The incremental re-tag (only new photos unless a concept changed), then
/// sidecars when the library writes them on change.
pub struct TagsHandler {
    pub model: Arc<ModelSlot>,
}

impl JobHandler for TagsHandler {
    fn kind(&self) -> &'static str {
        KIND_TAGS
    }

    fn changes(&self) -> Option<super::Change> {
        Some(super::Change::Tags)
    }

    fn remaining(&mut self, catalog: &Catalog) -> Result<u64> {
        match catalog.active_model()? {
            Some(m) => Ok(catalog.count_tag_unscored(m.id)?.max(0) as u64),
            None => Ok(0),
        }
    }

    fn step(&mut self, cx: &JobContext) -> Result<Step> {
        let model = self.model.get()?;
        let vocab = crate::tags::vocabulary(cx.catalog)?;
        let calibration = crate::tags::Calibration::for_model(cx.library_dir, &model.row.key)?;
        let opts = crate::tags::RetagOptions {
            full: false,
            cancel: Some(Arc::clone(cx.cancel)),
        };
        let report = crate::tags::run_retag(
            cx.catalog,
            model.row.id,
            model.as_ref(),
            &vocab,
            &calibration,
            &opts,
            &|_| {},
        )?;
        crate::tags::sync_if_enabled(cx.catalog, &report.changed_photos)?;
        cx.catalog.trim_change_log()?;
        let items = report.photos_scored as u64;
        Ok(if report.cancelled {
            Step::More { items }
        } else {
            Step::Done { items }
        })
    }
}

/// A runner with the built-in kinds (and the model's, when given).
pub fn standard_runner(
    catalog_path: &Path,
    library_dir: &Path,
    threads: usize,
    settle: Duration,
    model: Option<Arc<ModelSlot>>,
    events: EventSink,
) -> Result<Runner> {
    let mut runner = Runner::new(catalog_path, library_dir, events)?;
    runner.register(Box::new(ScanHandler { threads }));
    runner.register(Box::new(IngestHandler { threads, settle }));
    runner.register(Box::new(super::dupes::DupesHandler { threads }));
    if let Some(model) = model {
        runner.register(Box::new(EmbedHandler {
            model: Arc::clone(&model),
            batch_size: 0,
            workers: 0,
        }));
        runner.register(Box::new(TagsHandler { model }));
    }
    Ok(runner)
}
