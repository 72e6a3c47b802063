//! `ApiState`: what the commands run against. One per process (the server
//! or the app), shared by every request; cheap to clone.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use shoebox_engine::embed::{EmbedOptions, LoadedModel};
use shoebox_engine::ingest::watch::WatchConfig;
use shoebox_engine::ingest::ScanOptions;
use shoebox_engine::jobs::handlers::ModelSlot;
use shoebox_engine::jobs::{EventSink, LiveEvent, KIND_EMBED, KIND_SCAN};
use shoebox_engine::live::{LiveEngine, LiveOptions};
use shoebox_engine::model::{DeviceChoice, ResolveOptions};
use shoebox_engine::tags::RetagOptions;
use shoebox_engine::Library;

use crate::error::ApiError;

/// Catalog setting: the device chosen in Settings (`auto`, `cpu`, `cuda`, `metal`).
pub(crate) const DEVICE_SETTING: &str = "model.device";
use crate::events::EventBus;

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

/// A model download in flight (or just ended).
pub(crate) struct Download {
    pub name: String,
    pub cancel: Arc<AtomicBool>,
    /// The last `download` event.
    pub last: Value,
    pub running: bool,
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
    pub download: Mutex<Option<Download>>,
    /// The live engine (watcher + job runner), when the shell started it.
    pub live: Mutex<Option<LiveEngine>>,
    /// The live engine's model slot, shared with search.
    pub live_model: Mutex<Option<Arc<ModelSlot>>>,
    /// Set while the live engine restarts: its `stopped` event is not news.
    pub restarting: Arc<AtomicBool>,
    /// A background scan is running; `rescan` asks it for another pass.
    pub scanning: AtomicBool,
    pub rescan: AtomicBool,
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
        Ok(ApiState {
            inner: Arc::new(Inner {
                opts,
                library: Mutex::new(library),
                images: Mutex::new(images),
                model: Mutex::new(None),
                bus: Arc::new(EventBus::new()),
                download: Mutex::new(None),
                live: Mutex::new(None),
                live_model: Mutex::new(None),
                restarting: Arc::new(AtomicBool::new(false)),
                scanning: AtomicBool::new(false),
                rescan: AtomicBool::new(false),
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
        if let Some(m) = slot.as_ref() {
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
        let resolve = ResolveOptions {
            offline: true,
            progress: None,
            ..self.inner.opts.resolve.clone()
        };
        let loaded = library.load_model(explicit, self.device(library), &resolve)?;
        let loaded = Arc::new(loaded);
        *slot = Some(Arc::clone(&loaded));
        Ok(loaded)
    }

    /// The device models run on: the one named at start (`--device`,
    /// `SHOEBOX_DEVICE`) when it is not `auto`, else the library's setting
    /// (Settings → device), else `auto`.
    pub(crate) fn device(&self, library: &Library) -> DeviceChoice {
        if self.inner.opts.device != DeviceChoice::Auto {
            return self.inner.opts.device;
        }
        library
            .catalog()
            .setting(DEVICE_SETTING)
            .ok()
            .flatten()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default()
    }

    /// Forgets the loaded model (the active one changed).
    pub(crate) fn reset_model(&self) {
        *self.inner.model.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Starts the live engine: the folders are reconciled, then watched,
    /// and background work (thumbnails, embeddings, tags, duplicate facts)
    /// runs from the catalog's job queue; its events go to the bus. Without
    /// it, the API does the same work in a simpler background pass when a
    /// command asks for it.
    pub fn start_live(&self) -> Result<(), ApiError> {
        if self.live_running() {
            return Ok(());
        }
        let engine = {
            let library = self.library();
            let resolve = ResolveOptions {
                offline: true,
                progress: None,
                ..self.inner.opts.resolve.clone()
            };
            let model = library.model_slot(
                self.inner.opts.model.as_deref(),
                self.device(&library),
                resolve,
            )?;
            let bus = Arc::clone(&self.inner.bus);
            let restarting = Arc::clone(&self.inner.restarting);
            let sink: EventSink = Arc::new(move |e: &LiveEvent| {
                if !(matches!(e, LiveEvent::Stopped) && restarting.load(Ordering::SeqCst)) {
                    bus.emit(live_event_json(e));
                }
            });
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

    /// Asks for a rescan of folder `root` (all when `None`): a queued job
    /// for the live engine, else a background pass.
    pub(crate) fn request_scan(&self, root: Option<i64>) -> Result<(), ApiError> {
        if self.live_running() {
            let library = self.library();
            let roots = match root {
                Some(id) => vec![id],
                None => library.folders()?.into_iter().map(|r| r.id).collect(),
            };
            for id in roots {
                library.enqueue_job(KIND_SCAN, &id.to_string())?;
            }
            drop(library);
            self.wake_live();
        } else if self.inner.opts.scan_on_add {
            self.start_scan();
        }
        Ok(())
    }

    /// The active model changed: the live engine restarts with it and
    /// embeds what lacks a vector; without it, a background pass does.
    pub(crate) fn model_changed(&self) -> Result<(), ApiError> {
        self.reset_model();
        if self.live_running() {
            self.inner.restarting.store(true, Ordering::SeqCst);
            let stopped = self.stop_live();
            self.inner.restarting.store(false, Ordering::SeqCst);
            stopped?;
            self.start_live()?;
            self.reset_model();
            self.library().enqueue_job(KIND_EMBED, "")?;
            self.wake_live();
        } else if self.inner.opts.scan_on_add {
            self.start_scan();
        }
        Ok(())
    }

    /// Indexes every folder in a background thread with its own
    /// connection, reporting `progress` events of kind `scan`. A request
    /// while one runs makes it go round once more.
    pub fn start_scan(&self) {
        if self.inner.scanning.swap(true, Ordering::SeqCst) {
            self.inner.rescan.store(true, Ordering::SeqCst);
            return;
        }
        let state = self.clone();
        let spawned = std::thread::Builder::new()
            .name("shoebox-api-scan".into())
            .spawn(move || {
                loop {
                    state.inner.rescan.store(false, Ordering::SeqCst);
                    if let Err(e) = state.scan_once() {
                        tracing::warn!("background scan failed: {e}");
                        state.inner.bus.emit(json!({"event": "job_failed", "kind": "scan", "key": "", "error": e.to_string(), "retry": false}));
                    }
                    if let Err(e) = state.embed_once() {
                        tracing::warn!("background embedding failed: {e}");
                        state.inner.bus.emit(json!({"event": "job_failed", "kind": "embed", "key": "", "error": e.to_string(), "retry": false}));
                    }
                    if !state.inner.rescan.load(Ordering::SeqCst) {
                        break;
                    }
                }
                state.inner.scanning.store(false, Ordering::SeqCst);
                state.inner.bus.changed("photos", None);
                state.inner.bus.emit(json!({"event": "idle", "paused": []}));
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start a scan thread: {e}");
            self.inner.scanning.store(false, Ordering::SeqCst);
        }
    }

    fn scan_once(&self) -> Result<(), ApiError> {
        let library = Library::open(self.library_dir())?;
        let started = std::time::Instant::now();
        let last = Mutex::new(std::time::Instant::now() - std::time::Duration::from_secs(1));
        let bus = &self.inner.bus;
        let report = library.scan(
            &ScanOptions {
                threads: 0,
                cancel: None,
            },
            &|p| {
                let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
                if last.elapsed().as_millis() < 200 {
                    return;
                }
                *last = std::time::Instant::now();
                let secs = started.elapsed().as_secs_f64();
                let rate = if secs > 0.0 {
                    p.processed as f64 / secs
                } else {
                    0.0
                };
                let remaining = p.discovered.saturating_sub(p.processed);
                bus.emit(json!({
                    "event": "progress", "kind": "scan",
                    "done": p.processed, "total": p.discovered.max(p.processed),
                    "rate": rate,
                    "eta_seconds": (rate > 0.0 && !p.walking).then(|| remaining as f64 / rate),
                }));
            },
        )?;
        let done = report.discovered;
        bus.emit(json!({
            "event": "progress", "kind": "scan", "done": done, "total": done,
            "rate": done as f64 / started.elapsed().as_secs_f64().max(1e-3), "eta_seconds": 0.0,
        }));
        Ok(())
    }

    /// Embeds photos without a vector and re-tags, when a model is chosen
    /// (`progress` events of kinds `embed` and `tags`).
    fn embed_once(&self) -> Result<(), ApiError> {
        let library = Library::open(self.library_dir())?;
        let model = match self.model(&library) {
            Ok(m) => m,
            Err(ApiError::NoModel(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        if library.status()?.pending_embeddings == 0 {
            return Ok(());
        }
        let bus = &self.inner.bus;
        let last = Mutex::new(std::time::Instant::now() - std::time::Duration::from_secs(1));
        let throttled = |event: Value, last_one: bool| {
            let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
            if last_one || last.elapsed().as_millis() >= 200 {
                *last = std::time::Instant::now();
                bus.emit(event);
            }
        };
        library.embed(&model, &EmbedOptions::default(), &|p| {
            throttled(
                json!({"event": "progress", "kind": "embed", "done": p.done, "total": p.total,
                       "rate": p.rate, "eta_seconds": p.eta_seconds}),
                p.done >= p.total,
            )
        })?;
        let started = std::time::Instant::now();
        library.retag(&model, &RetagOptions::default(), &|p| {
            let secs = started.elapsed().as_secs_f64();
            let rate = if secs > 0.0 { p.done as f64 / secs } else { 0.0 };
            throttled(
                json!({"event": "progress", "kind": "tags", "done": p.done, "total": p.total,
                       "rate": rate, "eta_seconds": (rate > 0.0).then(|| (p.total - p.done) as f64 / rate)}),
                false,
            )
        })?;
        bus.emit(json!({"event": "progress", "kind": "tags", "done": 1, "total": 1, "rate": 0.0, "eta_seconds": 0.0}));
        bus.changed("tags", None);
        Ok(())
    }

    /// Whether background work runs: the API's own pass, or (with the
    /// live engine) progress reported and not yet idle.
    pub fn busy(&self) -> bool {
        self.scanning() || !self.inner.bus.progress().is_empty()
    }

    /// Whether a background scan is running.
    pub fn scanning(&self) -> bool {
        self.inner.scanning.load(Ordering::SeqCst)
    }
}

/// A live event as the API's clients get it: the engine's JSON, with
/// `what: "photos"` added to its `changed` event so it reads like the
/// API's own `changed` events.
fn live_event_json(e: &LiveEvent) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or_else(|_| json!({"event": "unknown"}));
    if v["event"] == "changed" && v.get("what").is_none() {
        v["what"] = json!("photos");
    }
    v
}
