//! The live engine: the watcher and the job runner on their own threads,
//! the way `shoebox watch`, the desktop app and the HTTP server run the
//! library all day. Shells pass one [`EventSink`] and get every progress
//! and state change through it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{unbounded, Sender};

use crate::catalog::Catalog;
use crate::error::{EngineError, Result};
pub mod watch;

use crate::jobs::handlers::ModelSlot;
use crate::jobs::{priority, EventSink, JobHandler, LiveEvent, KIND_SCAN};
use watch::{WatchConfig, Watcher};

/// Heartbeat of a running live engine, for `status` in other processes.
pub const SETTING_HEARTBEAT: &str = "live.heartbeat";
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

pub struct LiveOptions {
    pub watch: WatchConfig,
    /// Analysis threads for ingest and scans; 0: one per core.
    pub threads: usize,
    /// The model for embeddings and tags; `None` leaves them for later
    /// (thumbnails and metadata still follow the folders).
    pub model: Option<Arc<ModelSlot>>,
    /// Reconcile every root at start (changes made while not running).
    pub reconcile_at_start: bool,
    /// Extra job kinds (duplicate grouping plugs in here).
    pub extra_handlers: Vec<Box<dyn JobHandler>>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            watch: WatchConfig::default(),
            threads: 0,
            model: None,
            reconcile_at_start: true,
            extra_handlers: Vec::new(),
        }
    }
}

/// A running live engine; dropping it stops it.
pub struct LiveEngine {
    stop: Arc<AtomicBool>,
    wake: Sender<()>,
    threads: Vec<JoinHandle<Result<()>>>,
    events: EventSink,
}

impl LiveEngine {
    pub fn start(
        catalog_path: &Path,
        library_dir: &Path,
        opts: LiveOptions,
        events: EventSink,
    ) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let (wake, wake_rx) = unbounded::<()>();
        let catalog = Catalog::open(catalog_path)?;
        if opts.reconcile_at_start {
            for root in catalog.roots()? {
                catalog.enqueue_job(KIND_SCAN, &root.id.to_string(), priority::SCAN)?;
            }
        }
        let catalog_path: PathBuf = catalog_path.to_path_buf();
        let library_dir: PathBuf = library_dir.to_path_buf();
        let mut threads = Vec::new();

        // The watcher starts first (so nothing that happens during the
        // start-up reconcile is missed) on its own thread.
        let (ready_tx, ready_rx) = crossbeam_channel::bounded::<Result<()>>(1);
        {
            let (stop, events, wake) = (Arc::clone(&stop), Arc::clone(&events), wake.clone());
            let (catalog_path, library_dir) = (catalog_path.clone(), library_dir.clone());
            let config = opts.watch.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("shoebox-watch".into())
                    .spawn(move || {
                        let mut watcher =
                            match Watcher::start(&catalog_path, &library_dir, config, events, wake)
                            {
                                Ok(w) => {
                                    let _ = ready_tx.send(Ok(()));
                                    w
                                }
                                Err(e) => {
                                    let _ = ready_tx.send(Err(EngineError::Invalid(e.to_string())));
                                    return Err(e);
                                }
                            };
                        watcher.run(&stop)
                    })
                    .map_err(|e| EngineError::io("cannot start the watcher thread", e))?,
            );
        }
        ready_rx
            .recv()
            .map_err(|_| EngineError::Invalid("the watcher thread stopped at start".into()))??;

        {
            let (stop, events) = (Arc::clone(&stop), Arc::clone(&events));
            let (catalog_path, library_dir) = (catalog_path.clone(), library_dir.clone());
            let (model, threads_n, extra) = (opts.model, opts.threads, opts.extra_handlers);
            let settle = opts.watch.settle;
            threads.push(
                std::thread::Builder::new()
                    .name("shoebox-jobs".into())
                    .spawn(move || {
                        let mut runner = crate::jobs::standard_runner(
                            &catalog_path,
                            &library_dir,
                            threads_n,
                            settle,
                            model,
                            events,
                        )?;
                        for h in extra {
                            runner.register(h);
                        }
                        runner.run(&stop, &wake_rx, Duration::from_secs(1))
                    })
                    .map_err(|e| EngineError::io("cannot start the job thread", e))?,
            );
        }

        {
            let stop = Arc::clone(&stop);
            let catalog_path = catalog_path.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("shoebox-heartbeat".into())
                    .spawn(move || {
                        let catalog = Catalog::open(&catalog_path)?;
                        while !stop.load(Ordering::Relaxed) {
                            let beat =
                                format!("{} {}", std::process::id(), crate::catalog::unix_now());
                            if let Err(e) = catalog.set_setting(SETTING_HEARTBEAT, &beat) {
                                tracing::warn!("heartbeat not written: {e}");
                            }
                            let mut slept = Duration::ZERO;
                            while slept < HEARTBEAT_EVERY && !stop.load(Ordering::Relaxed) {
                                std::thread::sleep(Duration::from_millis(100));
                                slept += Duration::from_millis(100);
                            }
                        }
                        let _ = catalog.set_setting(SETTING_HEARTBEAT, "");
                        Ok(())
                    })
                    .map_err(|e| EngineError::io("cannot start the heartbeat thread", e))?,
            );
        }
        let _ = wake.send(());
        Ok(LiveEngine {
            stop,
            wake,
            threads,
            events,
        })
    }

    /// Nudges the runner (work was queued from this process).
    pub fn wake(&self) {
        let _ = self.wake.send(());
    }

    /// The flag that stops the engine (e.g. for a Ctrl-C handler).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// True once a thread ended (by error, or after a stop).
    pub fn finished(&self) -> bool {
        self.threads.iter().any(|t| t.is_finished())
    }

    /// Stops after the steps in flight and waits; returns the first error
    /// a thread ended with.
    pub fn stop(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.send(());
        let mut first = Ok(());
        for t in self.threads.drain(..) {
            let r = t.join().unwrap_or_else(|_| {
                Err(EngineError::Invalid("a live engine thread panicked".into()))
            });
            if first.is_ok() {
                first = r;
            }
        }
        (self.events)(&LiveEvent::Stopped);
        first
    }
}

impl Drop for LiveEngine {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            let _ = self.shutdown();
        }
    }
}

/// Whether a live engine (in any process) is running on this catalog,
/// from its heartbeat: `Some(pid)` when one beat in the last 15 s.
pub fn running_engine(catalog: &Catalog) -> Result<Option<u32>> {
    let Some(beat) = catalog.setting(SETTING_HEARTBEAT)? else {
        return Ok(None);
    };
    let mut parts = beat.split_whitespace();
    let (Some(pid), Some(at)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (Ok(pid), Ok(at)) = (pid.parse::<u32>(), at.parse::<i64>()) else {
        return Ok(None);
    };
    Ok((crate::catalog::unix_now() - at <= 15).then_some(pid))
}
