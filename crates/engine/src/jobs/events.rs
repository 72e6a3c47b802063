//! Progress and state events of the live engine. One type, one callback:
//! the CLI prints them, the Tauri shell emits them to the window, the HTTP
//! server streams them (server-sent events); all three get the same JSON.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::progress::Progress;

/// Everything the live engine tells its shell.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A job kind made progress. `total` is done + still to do, so it can
    /// grow while files arrive; `rate` is items per second over the
    /// current burst; `eta_seconds` is null until there is a rate.
    Progress {
        kind: String,
        #[serde(flatten)]
        progress: crate::progress::Progress,
    },
    /// A job step failed; `retry` says whether it will be tried again.
    JobFailed {
        kind: String,
        key: String,
        error: String,
        retry: bool,
    },
    /// Nothing queued (or only paused kinds): the library is up to date.
    Idle { paused: Vec<String> },
    /// The queue was paused or resumed (`kinds` holds what is paused now).
    Paused { kinds: Vec<String> },
    /// How a folder is followed now: `native`, `polling` (with the reason)
    /// or `offline` (the folder is missing; its photos are kept, offline).
    Watch {
        root: String,
        mode: String,
        reason: Option<String>,
    },
    /// Something a view shows changed (a verb, the watcher or a job).
    Changed {
        what: Change,
        /// The photos concerned, when known (else: reload that view).
        #[serde(skip_serializing_if = "Option::is_none")]
        ids: Option<Vec<i64>>,
    },
    /// The live engine stopped (Ctrl-C or a shell closing it).
    Stopped,
    /// A model download's progress and end.
    Download(super::download::DownloadState),
}

/// The one callback type every shell passes in.
/// What a `changed` event is about: the view a shell reloads.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Photos,
    Tags,
    Dupes,
    Folders,
    Settings,
    Models,
}

pub type EventSink = Arc<dyn Fn(&LiveEvent) + Send + Sync>;

/// A sink that drops everything.
pub fn no_events() -> EventSink {
    Arc::new(|_| {})
}

/// Done / total / rate / ETA for one job kind over a burst of work. A
/// burst starts when work appears after the kind was idle.
#[derive(Debug)]
pub struct Meter {
    kind: String,
    started: Option<Instant>,
    done: u64,
}

impl Meter {
    pub fn new(kind: &str) -> Self {
        Meter {
            kind: kind.to_string(),
            started: None,
            done: 0,
        }
    }

    /// A step begins (starts the burst's clock if it is not running).
    pub fn begin(&mut self) {
        self.started.get_or_insert_with(Instant::now);
    }

    /// `n` more items done, `remaining` still to do.
    pub fn event(&mut self, n: u64, remaining: u64) -> LiveEvent {
        let started = *self.started.get_or_insert_with(Instant::now);
        self.done += n;
        let event = LiveEvent::Progress {
            kind: self.kind.clone(),
            progress: Progress::since(started, self.done, self.done + remaining, false),
        };
        if remaining == 0 {
            self.started = None;
            self.done = 0;
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_counts_a_burst_and_resets() {
        let mut m = Meter::new("ingest");
        let progress = |e: LiveEvent| match e {
            LiveEvent::Progress { progress, .. } => progress,
            e => panic!("{e:?}"),
        };
        let p = progress(m.event(3, 7));
        assert_eq!((p.done, p.total), (3, 10));
        let p = progress(m.event(7, 0));
        assert_eq!((p.done, p.total), (10, 10));
        assert!(p.eta_seconds.is_none_or(|e| e == 0.0));
        let p = progress(m.event(1, 1));
        assert_eq!((p.done, p.total), (1, 2));
        // The JSON every shell gets keeps its flat shape.
        let json = serde_json::to_value(LiveEvent::Progress {
            kind: "scan".into(),
            progress: p,
        })
        .unwrap();
        assert_eq!(json["event"], "progress");
        assert_eq!(
            (json["done"].as_u64(), json["total"].as_u64()),
            (Some(1), Some(2))
        );
    }

    #[test]
    fn events_serialise_with_a_tag() {
        let json = serde_json::to_value(LiveEvent::Idle { paused: vec![] }).unwrap();
        assert_eq!(json["event"], "idle");
    }
}
