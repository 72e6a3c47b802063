//! The change feed: follows the catalog's change log on its own
//! connection and reports, as `changed` events, what any process changed
//! (`shoebox tag add` in a terminal, a second window, the live engine).
//! A shell's own verbs report their changes at once; the feed is how it
//! hears of the others', within one interval.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Change, EventSink, LiveEvent};
use crate::catalog::Catalog;
use crate::error::Result;

/// A running feed; stops when dropped.
pub struct ChangeFeed {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ChangeFeed {
    /// Starts following the catalog at `catalog_path` from its current
    /// end, checking every `interval`.
    pub fn start(catalog_path: &Path, interval: Duration, events: EventSink) -> Result<Self> {
        let catalog = Catalog::open(catalog_path)?;
        let mut seq = catalog.change_seq()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("shoebox-changes".into())
            .spawn(move || {
                while !sleep_unless_stopped(&stopping, interval) {
                    match report(&catalog, seq, &events) {
                        Ok(next) => seq = next,
                        Err(e) => tracing::debug!("change feed: {e}"),
                    }
                }
            })
            .map_err(|e| crate::EngineError::io("cannot start the change feed", e))?;
        Ok(ChangeFeed {
            stop,
            thread: Some(thread),
        })
    }
}

/// Sleeps `interval` in short naps; true when asked to stop.
fn sleep_unless_stopped(stop: &AtomicBool, interval: Duration) -> bool {
    let nap = Duration::from_millis(50).min(interval);
    let mut slept = Duration::ZERO;
    while slept < interval {
        if stop.load(Ordering::SeqCst) {
            return true;
        }
        std::thread::sleep(nap);
        slept += nap;
    }
    stop.load(Ordering::SeqCst)
}

/// Emits what changed after `seq`; returns the new position.
fn report(catalog: &Catalog, seq: i64, events: &EventSink) -> Result<i64> {
    let (next, changes) = catalog.changes_by_view_since(seq)?;
    if changes.any_photos {
        events(&LiveEvent::Changed {
            what: Change::Photos,
            ids: changes.photos,
        });
    }
    if !changes.tags.is_empty() {
        events(&LiveEvent::Changed {
            what: Change::Tags,
            ids: Some(changes.tags),
        });
    }
    Ok(next)
}

impl Drop for ChangeFeed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
