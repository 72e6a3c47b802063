//! Background work: one persistent queue in the catalog (`catalog::jobs`),
//! handlers per job kind, and the runner that takes the most urgent job,
//! runs one bounded step of it, and puts it back when there is more.
//!
//! Every job means "make the catalog match X" (the files under a path, a
//! root, every photo's vector for the active model...), so a step that is
//! repeated after a kill -9 redoes a little work and changes nothing else.
//! Kinds are strings so that a new kind plugs in by registering a
//! [`JobHandler`]; a queued job whose kind has no handler in this process
//! simply waits.

pub mod download;
pub mod dupes;
pub mod events;
pub mod feed;
pub mod handlers;
mod runner;
pub mod worker;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::catalog::{Catalog, JobRow};
use crate::error::Result;
use crate::ingest::thumbs::ThumbCache;

pub use events::{no_events, Change, EventSink, LiveEvent, Meter};
pub use handlers::standard_runner;
pub use runner::Runner;
pub use worker::JobWorker;

/// Reconcile one whole root with the disk (start-up, polling, a root that
/// came back); key = the root id.
pub const KIND_SCAN: &str = "scan";
/// Ingest the paths the watcher queued (files, folders, sidecars):
/// thumbnails, metadata, hashes.
pub const KIND_INGEST: &str = "ingest";
/// Vectors for the active model (key `""`, or `photos:1,2,3` for the
/// photos on screen).
pub const KIND_EMBED: &str = "embed";
/// Incremental re-tag after embedding.
pub const KIND_TAGS: &str = "tags";
/// Duplicate grouping (`jobs::dupes`): region hashes for photos that lack
/// them, then the groups per tier.
pub const KIND_DUPES: &str = "dupes";

pub use crate::catalog::priority;

/// The default priority of a kind.
pub fn default_priority(kind: &str) -> i64 {
    match kind {
        KIND_INGEST => priority::INGEST,
        KIND_SCAN => priority::SCAN,
        KIND_EMBED => priority::EMBED,
        KIND_TAGS => priority::TAGS,
        KIND_DUPES => priority::DUPES,
        _ => 0,
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The job is complete; `items` were processed in this step.
    Done { items: u64 },
    /// More remains; the job goes back to the queue.
    More { items: u64 },
    /// What remains cannot be done yet (files still being written): the
    /// job goes back to the queue, not to be picked for `after_secs`.
    Later { items: u64, after_secs: i64 },
}

impl Step {
    pub fn items(self) -> u64 {
        match self {
            Step::Done { items } | Step::More { items } | Step::Later { items, .. } => items,
        }
    }
}

/// What a step may use.
pub struct JobContext<'a> {
    /// The runner's own connection.
    pub catalog: &'a Catalog,
    pub library_dir: &'a Path,
    pub thumbs: &'a ThumbCache,
    /// Set when the engine stops or the kind is paused: finish quickly.
    pub cancel: &'a Arc<AtomicBool>,
    pub job: &'a JobRow,
    /// For progress inside a long step (a root's reconcile); the runner
    /// reports every step's end itself.
    pub events: &'a EventSink,
}

/// One kind of background work.
pub trait JobHandler: Send {
    fn kind(&self) -> &'static str;
    /// Items still to do in this kind (for totals and ETA); cheap.
    fn remaining(&mut self, catalog: &Catalog) -> Result<u64>;
    /// One bounded step (a batch, seconds rather than minutes), so that
    /// urgent work and pauses are honoured between steps.
    fn step(&mut self, cx: &JobContext) -> Result<Step>;
    /// Kinds to ask for after a step of this one processed something
    /// (thumbnails → embeddings → tags → duplicates).
    fn then(&self) -> &'static [&'static str] {
        &[]
    }
    /// The view a step that processed something changed, if any: the
    /// runner emits it as a `changed` event.
    fn changes(&self) -> Option<Change> {
        None
    }
}

const SETTING_PAUSED: &str = "jobs.paused";

/// Kinds paused by the user (`all` pauses everything). Kept in the
/// catalog, so `shoebox jobs pause` in one process pauses `shoebox watch`
/// in another, and a pause survives a restart.
pub fn paused_kinds(catalog: &Catalog) -> Result<Vec<String>> {
    Ok(catalog
        .setting(SETTING_PAUSED)?
        .map(|s| {
            s.split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

/// Pauses `kinds` (empty: all). A step in flight finishes its batch.
pub fn pause(catalog: &Catalog, kinds: &[&str]) -> Result<Vec<String>> {
    let mut now = paused_kinds(catalog)?;
    if kinds.is_empty() {
        now = vec!["all".into()];
    } else {
        for k in kinds {
            if !now.iter().any(|p| p == k) {
                now.push(k.to_string());
            }
        }
    }
    catalog.set_setting(SETTING_PAUSED, &now.join(","))?;
    Ok(now)
}

/// Resumes `kinds` (empty: everything).
pub fn resume(catalog: &Catalog, kinds: &[&str]) -> Result<Vec<String>> {
    let mut now = paused_kinds(catalog)?;
    if kinds.is_empty() {
        now.clear();
    } else {
        now.retain(|p| !kinds.contains(&p.as_str()));
    }
    catalog.set_setting(SETTING_PAUSED, &now.join(","))?;
    Ok(now)
}

/// True when `kind` is paused by `paused`.
pub fn is_paused(paused: &[String], kind: &str) -> bool {
    paused.iter().any(|p| p == kind || p == "all")
}
