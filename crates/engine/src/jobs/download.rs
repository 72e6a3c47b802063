//! A model download in the background: one at a time per process, with
//! `download` events (bytes of the file in transfer), cancellation, and,
//! when asked, the model made the library's model at the end. The shells
//! start it and show its events; what happens is decided here.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::{Change, EventSink, LiveEvent};
use crate::catalog::{Catalog, CATALOG_FILE};
use crate::error::{EngineError, Result};
use crate::model::{DeviceChoice, DownloadEvent, ResolveOptions};

/// Where a download is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DownloadPhase {
    Running,
    Done,
    Failed,
    Cancelled,
}

/// A download's state, as its `download` events carry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DownloadState {
    pub name: String,
    pub state: DownloadPhase,
    /// The file in transfer (the weights, `model.safetensors`, are most of
    /// the size).
    pub file: Option<String>,
    pub done_bytes: u64,
    /// Of that file; `None` before its first byte.
    pub total_bytes: Option<u64>,
    pub error: Option<String>,
}

struct Current {
    state: DownloadState,
    cancel: Arc<AtomicBool>,
}

/// What a download needs to know.
pub struct DownloadRequest {
    pub library_dir: PathBuf,
    pub spec: String,
    /// Make it the library's model once it is here.
    pub use_it: bool,
    /// The device in effect (`Library::device_choice`).
    pub device: DeviceChoice,
    /// Cache, endpoint and offline settings (`HF_HUB_OFFLINE` still wins).
    pub resolve: ResolveOptions,
}

/// The process's model downloads (one at a time).
#[derive(Default)]
pub struct Downloads {
    current: Mutex<Option<Current>>,
}

impl Downloads {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Starts `request` in a background thread; `then` runs after a model
    /// was made the library's (the shell reloads it). A conflict while
    /// another download runs.
    pub fn start(
        self: &Arc<Self>,
        request: DownloadRequest,
        events: EventSink,
        then: Box<dyn FnOnce() + Send>,
    ) -> Result<()> {
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let mut slot = self.lock();
            if let Some(c) = slot
                .as_ref()
                .filter(|c| c.state.state == DownloadPhase::Running)
            {
                return Err(EngineError::Conflict(format!(
                    "{} is being downloaded; wait for it or cancel it first",
                    c.state.name
                )));
            }
            let first = DownloadState {
                name: request.spec.clone(),
                state: DownloadPhase::Running,
                file: None,
                done_bytes: 0,
                total_bytes: None,
                error: None,
            };
            events(&LiveEvent::Download(first.clone()));
            *slot = Some(Current {
                state: first,
                cancel: Arc::clone(&cancel),
            });
        }
        let downloads = Arc::clone(self);
        std::thread::Builder::new()
            .name("shoebox-download".into())
            .spawn(move || downloads.run(request, cancel, events, then))
            .map_err(|e| EngineError::io("cannot start the download", e))?;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Current>> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records `state` and tells the shells.
    fn update(&self, events: &EventSink, change: impl FnOnce(&mut DownloadState)) {
        let state = {
            let mut slot = self.lock();
            let Some(c) = slot.as_mut() else { return };
            change(&mut c.state);
            c.state.clone()
        };
        events(&LiveEvent::Download(state));
    }

    fn run(
        self: Arc<Self>,
        request: DownloadRequest,
        cancel: Arc<AtomicBool>,
        events: EventSink,
        then: Box<dyn FnOnce() + Send>,
    ) {
        let progress = {
            let events = Arc::clone(&events);
            let me = Arc::clone(&self);
            move |e: DownloadEvent<'_>| {
                // Byte counts of the file in transfer; cached and finished
                // files add nothing a progress bar needs.
                let (file, done, total) = match e {
                    DownloadEvent::Started { file, total, done } => (file, done, total),
                    DownloadEvent::Progress { file, done, total } => (file, done, total),
                    DownloadEvent::Cached { .. } | DownloadEvent::Finished { .. } => return,
                };
                me.update(&events, |s| {
                    s.file = Some(file.to_string());
                    s.done_bytes = done;
                    s.total_bytes = Some(total);
                });
            }
        };
        let resolve = ResolveOptions {
            cancel: Some(Arc::clone(&cancel)),
            ..request.resolve.clone()
        }
        .with_progress(progress);
        let result = (|| -> Result<bool> {
            let catalog = Catalog::open(&request.library_dir.join(CATALOG_FILE))?;
            let loaded =
                crate::embed::models::load(&catalog, &request.spec, request.device, &resolve)?;
            if request.use_it {
                crate::embed::switch::choose(&catalog, loaded.row.id)?;
            }
            Ok(request.use_it)
        })();
        let (phase, error) = match &result {
            Ok(_) => (DownloadPhase::Done, None),
            Err(_) if cancel.load(Ordering::SeqCst) => (DownloadPhase::Cancelled, None),
            Err(e) => (DownloadPhase::Failed, Some(e.to_string())),
        };
        // The end event carries the last byte counts seen.
        self.update(&events, |s| {
            s.state = phase;
            s.error = error;
        });
        events(&LiveEvent::Changed {
            what: Change::Models,
            ids: None,
        });
        if matches!(result, Ok(true)) {
            then();
        }
    }

    /// Asks the running download to stop; false when none runs.
    pub fn cancel(&self) -> bool {
        match self
            .lock()
            .as_ref()
            .filter(|c| c.state.state == DownloadPhase::Running)
        {
            Some(c) => {
                c.cancel.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// The download in flight, if any.
    pub fn running(&self) -> Option<DownloadState> {
        self.lock()
            .as_ref()
            .filter(|c| c.state.state == DownloadPhase::Running)
            .map(|c| c.state.clone())
    }
}
