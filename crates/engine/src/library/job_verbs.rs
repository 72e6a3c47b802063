//! Live-library verbs of [`Library`]: the job queue and the watcher.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::Library;
use crate::catalog::Catalog;
use crate::error::Result;
use crate::jobs::handlers::ModelSlot;
use crate::model::{DeviceChoice, ResolveOptions};

/// What `status` says about live work: the queue, the watcher, pauses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveStatus {
    /// Process id of a running `shoebox watch` (or app) on this library.
    pub engine_pid: Option<u32>,
    pub paused: Vec<String>,
    /// Paths the watcher saw change that are not ingested yet.
    pub queued_paths: i64,
    pub jobs: Vec<crate::catalog::JobRow>,
    /// How each folder is followed (as the running or last engine said).
    pub watch: Vec<crate::catalog::WatchState>,
}

impl Library {
    pub fn live_status(&self) -> Result<LiveStatus> {
        let engine_pid = crate::live::running_engine(self.catalog())?;
        Ok(LiveStatus {
            engine_pid,
            paused: crate::jobs::paused_kinds(self.catalog())?,
            queued_paths: self.catalog().count_queued_paths()?,
            jobs: self.catalog().jobs()?,
            watch: if engine_pid.is_some() {
                self.catalog().watch_states()?
            } else {
                Vec::new()
            },
        })
    }

    /// Pauses job kinds (all when empty); a running engine stops after
    /// the step in flight. Survives restarts until resumed.
    pub fn pause_jobs(&self, kinds: &[&str]) -> Result<Vec<String>> {
        crate::jobs::pause(self.catalog(), kinds)
    }

    pub fn resume_jobs(&self, kinds: &[&str]) -> Result<Vec<String>> {
        crate::jobs::resume(self.catalog(), kinds)
    }

    /// Asks for work of `kind` (`key` "" for the whole library).
    pub fn enqueue_job(&self, kind: &str, key: &str) -> Result<()> {
        self.catalog()
            .enqueue_job(kind, key, crate::jobs::default_priority(kind))
    }

    /// The user is looking at these photos: their files are ingested and
    /// their vectors computed before anything else.
    pub fn prioritize(&self, photo_ids: &[i64]) -> Result<()> {
        if photo_ids.len() > crate::browse::MAX_PAGE {
            return Err(crate::EngineError::Invalid(format!(
                "at most {} photos at a time",
                crate::browse::MAX_PAGE
            )));
        }
        if photo_ids.is_empty() {
            return Ok(());
        }
        let mut ids = photo_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let key = format!(
            "photos:{}",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        );
        self.catalog().enqueue_job(
            crate::jobs::KIND_EMBED,
            &key,
            crate::jobs::priority::VISIBLE,
        )
    }

    /// Watched paths to ingest before everything else (a folder the user
    /// opened).
    pub fn prioritize_paths(&self, items: &[(i64, PathBuf)]) -> Result<()> {
        self.catalog()
            .queue_paths(items, crate::jobs::priority::VISIBLE)?;
        self.catalog()
            .enqueue_job(crate::jobs::KIND_INGEST, "", crate::jobs::priority::VISIBLE)
    }

    /// Runs queued jobs in this thread until none is left (no watching).
    /// Files modified less than `settle` ago are left for a later step.
    pub fn run_jobs(
        &self,
        model: Option<Arc<ModelSlot>>,
        threads: usize,
        settle: std::time::Duration,
        events: crate::jobs::EventSink,
        stop: &Arc<AtomicBool>,
    ) -> Result<u64> {
        let mut runner = crate::jobs::standard_runner(
            self.catalog().path(),
            self.dir(),
            threads,
            settle,
            model,
            events,
        )?;
        runner.run_until_idle(stop)
    }

    /// Starts watching and processing in background threads.
    pub fn start_live(
        &self,
        opts: crate::live::LiveOptions,
        events: crate::jobs::EventSink,
    ) -> Result<crate::live::LiveEngine> {
        crate::live::LiveEngine::start(self.catalog().path(), self.dir(), opts, events)
    }

    /// A model slot that loads `spec` (or the active model) on first use,
    /// on its own connection; `None` when no model was chosen yet and none
    /// is given (embeddings then wait for `shoebox model use`).
    pub fn model_slot(
        &self,
        explicit: Option<&str>,
        device: DeviceChoice,
        resolve: ResolveOptions,
    ) -> Result<Option<Arc<ModelSlot>>> {
        if explicit.is_none() && self.catalog().active_model()?.is_none() {
            return Ok(None);
        }
        let device = self.device_choice(device);
        let path = self.catalog().path().to_path_buf();
        if let Some(spec) = explicit.map(str::to_string) {
            return Ok(Some(ModelSlot::new(move || {
                let catalog = Catalog::open(&path)?;
                crate::embed::models::load(&catalog, &spec, device, &resolve)
            })));
        }
        Ok(Some(ModelSlot::following(path, move |catalog, spec| {
            crate::embed::models::load(catalog, spec, device, &resolve)
        })))
    }
}

/// A library folder and how the running engine follows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FolderState {
    #[serde(flatten)]
    pub root: crate::catalog::Root,
    /// `native`, `polling` or `offline`; `None` when nothing watches.
    pub watch: Option<String>,
}

impl Library {
    /// The folders with how each is followed (what the app's folder list
    /// shows).
    pub fn folder_states(&self) -> Result<Vec<FolderState>> {
        let watch = self.live_status()?.watch;
        Ok(self
            .folders()?
            .into_iter()
            .map(|root| FolderState {
                watch: watch
                    .iter()
                    .find(|w| w.root_id == root.id)
                    .map(|w| w.mode.clone()),
                root,
            })
            .collect())
    }
}
