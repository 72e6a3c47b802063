//! `ApiState`: what the commands run against. One per process (the server
//! or the app), shared by every request; cheap to clone.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::json;
use shoebox_engine::embed::LoadedModel;
use shoebox_engine::jobs::download::Downloads;
use shoebox_engine::jobs::feed::ChangeFeed;
use shoebox_engine::jobs::handlers::ModelSlot;
use shoebox_engine::jobs::{EventSink, JobWorker, LiveEvent, KIND_EMBED, KIND_SCAN};
use shoebox_engine::live::watch::WatchConfig;
use shoebox_engine::live::{LiveEngine, LiveOptions};
use shoebox_engine::model::{DeviceChoice, ResolveOptions};
use shoebox_engine::Library;

use crate::error::ApiError;
use crate::events::EventBus;

/// How soon a change another process made reaches the clients.
const CHANGE_FEED_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// How the shell opened the library.
#[derive(Clone)]
pub struct ApiOptions {
    pub library_dir: PathBuf,
    /// A model named on the command line or in `SHOEBOX_MODEL`; else the
    /// library's active model is used.
    pub model: Option<String>,
    pub device: DeviceChoice,
    /// Hugging Face settings (cache, endpoint, offline), without progress.
    pub resolve: ResolveOptions,
    /// Index new folders in the background when they are added.
    pub scan_on_add: bool,
    /// Settings of the live engine (`ApiState::start_live`).
    pub watch: WatchConfig,
}

impl ApiOptions {
    pub fn new(library_dir: impl Into<PathBuf>) -> Self {
        ApiOptions {
            library_dir: library_dir.into(),
            model: None,
            device: DeviceChoice::Auto,
            resolve: ResolveOptions::from_env(),
            scan_on_add: true,
            watch: WatchConfig::default(),
        }
    }
}

pub(crate) struct Inner {
    pub opts: ApiOptions,
    /// The library the commands use (one connection; commands take turns).
    library: Mutex<Library>,
    /// A second connection for thumbnails and previews, so images keep
    /// flowing while a long command (e.g. grouping duplicates) runs.
    images: Mutex<Library>,
    /// The model loaded for search, kept between requests.
    pub model: Mutex<Option<Arc<LoadedModel>>>,
    /// Shared with engine threads (their event sinks hold it, not the state).
    pub bus: Arc<EventBus>,
    /// Model downloads (one at a time).
    downloads: Arc<Downloads>,
    /// The live engine (watcher + job runner), when the shell started it.
    pub live: Mutex<Option<LiveEngine>>,
    /// The live engine's model slot, shared with search.
    pub live_model: Mutex<Option<Arc<ModelSlot>>>,
    /// Set while the live engine restarts: its `stopped` event is not news.
    pub restarting: Arc<AtomicBool>,
    /// Runs queued work when the live engine is off (made on first use).
    worker: Mutex<Option<JobWorker>>,
    /// Changes other processes make reach the clients through it.
    _feed: ChangeFeed,
}

/// The shared state behind `dispatch` and the image helpers.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) inner: Arc<Inner>,
}

impl ApiState {
    /// Opens the library (creating and migrating it as needed).
    pub fn open(opts: ApiOptions) -> Result<Self, ApiError> {
        let library = Library::open(&opts.library_dir)?;
        let images = Library::open(&opts.library_dir)?;
        let bus = Arc::new(EventBus::new());
        // What the engine's verbs change reaches every client as it happens.
        library.set_events(bus_sink(&bus, None));
        let feed = ChangeFeed::start(
            library.catalog().path(),
            CHANGE_FEED_INTERVAL,
            bus_sink(&bus, None),
        )?;
        Ok(ApiState {
            inner: Arc::new(Inner {
                opts,
                library: Mutex::new(library),
                images: Mutex::new(images),
                model: Mutex::new(None),
                bus,
                downloads: Downloads::new(),
                live: Mutex::new(None),
                live_model: Mutex::new(None),
                restarting: Arc::new(AtomicBool::new(false)),
                worker: Mutex::new(None),
                _feed: feed,
            }),
        })
    }

    pub fn options(&self) -> &ApiOptions {
        &self.inner.opts
    }

    pub fn library_dir(&self) -> &Path {
        &self.inner.opts.library_dir
    }

    /// The event bus: subscribe to stream events to a client.
    pub fn events(&self) -> &EventBus {
        &self.inner.bus
    }

    /// Model downloads of this process.
    pub(crate) fn downloads(&self) -> &Arc<Downloads> {
        &self.inner.downloads
    }

    /// A sink that sends engine events to every client.
    pub(crate) fn engine_events(&self) -> EventSink {
        bus_sink(&self.inner.bus, None)
    }

    pub(crate) fn library(&self) -> MutexGuard<'_, Library> {
        // A panic in one command must not take the server down with it.
        self.inner
            .library
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn images(&self) -> MutexGuard<'_, Library> {
        self.inner
            .images
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The model for search, loaded on first use (never downloaded here:
    /// a missing model is `no_model`, and `model_download` fetches it).
    pub(crate) fn model(&self, library: &Library) -> Result<Arc<LoadedModel>, ApiError> {
        let mut slot = self.inner.model.lock().unwrap_or_else(|p| p.into_inner());
        // A model switch may have completed in the background since.
        let fixed = self.inner.opts.model.is_some();
        let active = library.catalog().active_model()?.map(|m| m.id);
        if let Some(m) = slot
            .as_ref()
            .filter(|m| fixed || active.is_none_or(|a| a == m.row.id))
        {
            return Ok(Arc::clone(m));
        }
        // Share the live engine's copy of the model (one in memory); when
        // it cannot load, the path below says why with the right code.
        let live_slot = self
            .inner
            .live_model
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(Ok(m)) = live_slot.map(|s| s.get()) {
            *slot = Some(Arc::clone(&m));
            return Ok(m);
        }
        let explicit = self.inner.opts.model.as_deref();
        if explicit.is_none() && library.catalog().active_model()?.is_none() {
            return Err(ApiError::NoModel(
                "no model chosen yet: download one (model_download) or add a model folder from disk (model_add)".into(),
            ));
        }
        let resolve = self.offline_resolve();
        let loaded = library.load_model(explicit, self.device(library), &resolve)?;
        let loaded = Arc::new(loaded);
        *slot = Some(Arc::clone(&loaded));
        Ok(loaded)
    }

    /// The device models run on (the engine's rule: `--device` or
    /// `SHOEBOX_DEVICE`, else Settings, else `auto`).
    pub(crate) fn device(&self, library: &Library) -> DeviceChoice {
        library.device_choice(self.inner.opts.device)
    }

    /// The shell's Hugging Face settings for loading a model that must
    /// already be here: never the network, no progress.
    pub(crate) fn offline_resolve(&self) -> ResolveOptions {
        ResolveOptions {
            offline: true,
            progress: None,
            ..self.inner.opts.resolve.clone()
        }
    }

    /// Forgets the loaded model (the active one changed).
    pub(crate) fn reset_model(&self) {
        *self.inner.model.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Starts the live engine: the folders are reconciled, then watched,
    /// and background work (thumbnails, embeddings, tags, duplicate facts)
    /// runs from the catalog's job queue; its events go to the bus. Without
    /// it, the job worker runs the same queue when a command asks for work.
    pub fn start_live(&self) -> Result<(), ApiError> {
        if self.live_running() {
            return Ok(());
        }
        let engine = {
            let library = self.library();
            let resolve = self.offline_resolve();
            let model = library.model_slot(
                self.inner.opts.model.as_deref(),
                self.device(&library),
                resolve,
            )?;
            let sink = bus_sink(&self.inner.bus, Some(Arc::clone(&self.inner.restarting)));
            *self
                .inner
                .live_model
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = model.clone();
            let opts = LiveOptions {
                watch: self.inner.opts.watch.clone(),
                model,
                ..LiveOptions::default()
            };
            library.start_live(opts, sink)?
        };
        *self.inner.live.lock().unwrap_or_else(|p| p.into_inner()) = Some(engine);
        Ok(())
    }

    /// Stops the live engine after the steps in flight (work left is
    /// queued in the catalog and continues at the next start).
    pub fn stop_live(&self) -> Result<(), ApiError> {
        let engine = self
            .inner
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        *self
            .inner
            .live_model
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
        if let Some(engine) = engine {
            engine.stop()?;
        }
        // A clean exit leaves the catalog in one file.
        if let Err(e) = self.library().catalog().checkpoint() {
            tracing::warn!("the catalog's log was not checkpointed: {e}");
        }
        Ok(())
    }

    /// Whether this process runs the live engine.
    pub fn live_running(&self) -> bool {
        self.inner
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|e| !e.finished())
    }

    /// Nudges the live engine (work was queued or settings changed).
    pub fn wake(&self) {
        self.wake_live();
    }

    fn wake_live(&self) -> bool {
        match self
            .inner
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            Some(e) => {
                e.wake();
                true
            }
            None => false,
        }
    }

    /// Asks for a rescan of folder `root` (all when `None`): queued jobs,
    /// run by the live engine or, when it is off, by the job worker.
    pub(crate) fn request_scan(&self, root: Option<i64>) -> Result<(), ApiError> {
        if !self.live_running() && !self.inner.opts.scan_on_add {
            return Ok(());
        }
        {
            let library = self.library();
            let roots = match root {
                Some(id) => vec![id],
                None => library.folders()?.into_iter().map(|r| r.id).collect(),
            };
            for id in roots {
                library.enqueue_job(KIND_SCAN, &id.to_string())?;
            }
        }
        self.run_queue()
    }

    /// The active model changed: the live engine restarts with it, or the
    /// job worker takes it; photos without a vector for it get one.
    pub(crate) fn model_changed(&self) -> Result<(), ApiError> {
        self.reset_model();
        if self.live_running() {
            self.inner.restarting.store(true, Ordering::SeqCst);
            let stopped = self.stop_live();
            self.inner.restarting.store(false, Ordering::SeqCst);
            stopped?;
            self.start_live()?;
            self.reset_model();
        } else if !self.inner.opts.scan_on_add {
            return Ok(());
        } else if let Some(worker) = self.worker_if_started() {
            worker.set_model(self.model_slot()?);
        }
        self.library().enqueue_job(KIND_EMBED, "")?;
        self.run_queue()
    }

    /// Runs what is queued: the live engine is nudged, else the job worker
    /// runs the queue to its end.
    fn run_queue(&self) -> Result<(), ApiError> {
        if self.wake_live() {
            return Ok(());
        }
        let mut slot = self.inner.worker.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            let sink = bus_sink(&self.inner.bus, None);
            let dir = self.library().dir().to_path_buf();
            *slot = Some(JobWorker::new(dir, self.model_slot()?, sink));
        }
        slot.as_ref().expect("worker just made").kick();
        Ok(())
    }

    fn worker_if_started(&self) -> Option<JobWorker> {
        self.inner
            .worker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The model slot background work embeds with (none before a model is
    /// chosen).
    fn model_slot(&self) -> Result<Option<Arc<ModelSlot>>, ApiError> {
        let library = self.library();
        let resolve = self.offline_resolve();
        Ok(library.model_slot(
            self.inner.opts.model.as_deref(),
            self.inner.opts.device,
            resolve,
        )?)
    }

    /// Whether background work runs: the job worker, or (with the live
    /// engine) progress reported and not yet idle.
    pub fn busy(&self) -> bool {
        self.worker_if_started().is_some_and(|w| w.running())
            || !self.inner.bus.progress().is_empty()
    }
}

/// Engine events to the bus; while the live engine restarts (`restarting`
/// set) its `stopped` event is not news.
fn bus_sink(bus: &Arc<EventBus>, restarting: Option<Arc<AtomicBool>>) -> EventSink {
    let bus = Arc::clone(bus);
    Arc::new(move |e: &LiveEvent| {
        let quiet = matches!(e, LiveEvent::Stopped)
            && restarting
                .as_ref()
                .is_some_and(|r| r.load(Ordering::SeqCst));
        if !quiet {
            bus.emit(serde_json::to_value(e).unwrap_or_else(|_| json!({"event": "unknown"})));
        }
    })
}
