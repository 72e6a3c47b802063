//! The job queue run to the end in a background thread, without watching:
//! what a shell runs when the live engine is off (`shoebox serve
//! --no-watch`). The same runner and handlers as the live engine, so the
//! same work follows a change (scan → embed → tags → duplicates).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::handlers::ModelSlot;
use super::{EventSink, LiveEvent};
use crate::catalog::CATALOG_FILE;

struct Shared {
    library_dir: PathBuf,
    events: EventSink,
    model: Mutex<Option<Arc<ModelSlot>>>,
    running: AtomicBool,
    /// Work was asked for while a pass ran: go round once more.
    again: AtomicBool,
    stop: Arc<AtomicBool>,
}

/// Runs queued jobs in the background on request. Cheap to clone.
#[derive(Clone)]
pub struct JobWorker {
    shared: Arc<Shared>,
}

impl JobWorker {
    /// A worker for the library in `library_dir`; `model` embeds and tags
    /// (none: thumbnails and metadata only).
    pub fn new(library_dir: PathBuf, model: Option<Arc<ModelSlot>>, events: EventSink) -> Self {
        JobWorker {
            shared: Arc::new(Shared {
                library_dir,
                events,
                model: Mutex::new(model),
                running: AtomicBool::new(false),
                again: AtomicBool::new(false),
                stop: Arc::new(AtomicBool::new(false)),
            }),
        }
    }

    /// The model changed: the next pass embeds with this one.
    pub fn set_model(&self, model: Option<Arc<ModelSlot>>) {
        *self.shared.model.lock().unwrap_or_else(|p| p.into_inner()) = model;
    }

    /// Runs the queue to its end in a background thread; when a pass is
    /// running, it goes round once more instead.
    pub fn kick(&self) {
        let shared = &self.shared;
        if shared.running.swap(true, Ordering::SeqCst) {
            shared.again.store(true, Ordering::SeqCst);
            return;
        }
        let worker = self.clone();
        let spawned = std::thread::Builder::new()
            .name("shoebox-jobs".into())
            .spawn(move || worker.run_passes());
        if let Err(e) = spawned {
            tracing::warn!("cannot start the job thread: {e}");
            self.shared.running.store(false, Ordering::SeqCst);
        }
    }

    fn run_passes(&self) {
        let shared = &self.shared;
        loop {
            shared.again.store(false, Ordering::SeqCst);
            if let Err(e) = self.run_once() {
                tracing::warn!("background jobs failed: {e}");
                (shared.events)(&LiveEvent::JobFailed {
                    kind: "jobs".into(),
                    key: String::new(),
                    error: e.to_string(),
                    retry: false,
                });
            }
            if !shared.again.load(Ordering::SeqCst) || shared.stop.load(Ordering::SeqCst) {
                break;
            }
        }
        shared.running.store(false, Ordering::SeqCst);
        // Work asked for after the last check must not wait for the next kick.
        if shared.again.swap(false, Ordering::SeqCst) && !shared.stop.load(Ordering::SeqCst) {
            self.kick();
        }
    }

    fn run_once(&self) -> crate::Result<u64> {
        let dir = &self.shared.library_dir;
        let model = self
            .shared
            .model
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut runner = super::standard_runner(
            &dir.join(CATALOG_FILE),
            dir,
            0,
            crate::ingest::live::SETTLE,
            model,
            Arc::clone(&self.shared.events),
        )?;
        runner.run_until_idle(&self.shared.stop)
    }

    /// Whether a pass is running.
    pub fn running(&self) -> bool {
        self.shared.running.load(Ordering::SeqCst)
    }

    /// Stops after the step in flight (the queue keeps what is left).
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}
