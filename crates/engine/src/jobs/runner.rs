//! The runner: takes the most urgent runnable job, runs one step, records
//! the outcome, asks for follow-up kinds, and reports progress.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Receiver;

use super::events::{EventSink, LiveEvent, Meter};
use super::{default_priority, is_paused, paused_kinds, JobContext, JobHandler, Step};
use crate::catalog::{Catalog, JobRow};
use crate::error::Result;
use crate::ingest::thumbs::ThumbCache;

/// A failed step is retried this many times (with a growing delay) before
/// the job is left `failed` for the user to see.
const MAX_ATTEMPTS: i64 = 3;

pub struct Runner {
    catalog: Catalog,
    library_dir: PathBuf,
    thumbs: ThumbCache,
    handlers: HashMap<&'static str, Box<dyn JobHandler>>,
    meters: HashMap<&'static str, Meter>,
    events: EventSink,
    last_paused: Option<Vec<String>>,
    was_idle: bool,
}

impl Runner {
    /// A runner on its own connection to the library's catalog. Jobs left
    /// `running` by a process that died are queued again.
    pub fn new(catalog_path: &Path, library_dir: &Path, events: EventSink) -> Result<Self> {
        let catalog = Catalog::open(catalog_path)?;
        let requeued = catalog.requeue_running_jobs()?;
        if requeued > 0 {
            tracing::info!(
                requeued,
                "jobs interrupted by a stop or crash are queued again"
            );
        }
        Ok(Runner {
            catalog,
            library_dir: library_dir.to_path_buf(),
            thumbs: ThumbCache::new(library_dir.join(crate::ingest::thumbs::THUMBS_DIR)),
            handlers: HashMap::new(),
            meters: HashMap::new(),
            events,
            last_paused: None,
            was_idle: false,
        })
    }

    pub fn register(&mut self, handler: Box<dyn JobHandler>) {
        let kind = handler.kind();
        self.meters.insert(kind, Meter::new(kind));
        self.handlers.insert(kind, handler);
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn has_kind(&self, kind: &str) -> bool {
        self.handlers.contains_key(kind)
    }

    /// Runs one step of the most urgent job. `Ok(false)`: nothing runnable.
    pub fn run_one(&mut self, stop: &Arc<AtomicBool>) -> Result<bool> {
        let paused = paused_kinds(&self.catalog)?;
        if self.last_paused.as_ref() != Some(&paused) {
            if self.last_paused.is_some() {
                (self.events)(&LiveEvent::Paused {
                    kinds: paused.clone(),
                });
            }
            self.last_paused = Some(paused.clone());
        }
        let handlers = &self.handlers;
        let runnable =
            |j: &JobRow| handlers.contains_key(j.kind.as_str()) && !is_paused(&paused, &j.kind);
        let Some(job) = self.catalog.claim_next_job(&runnable)? else {
            return Ok(false);
        };
        self.was_idle = false;
        let kind: &'static str = self
            .handlers
            .get_key_value(job.kind.as_str())
            .map(|(k, _)| *k)
            .expect("claimed only kinds with a handler");
        if let Some(m) = self.meters.get_mut(kind) {
            m.begin();
        }
        let handler = self.handlers.get_mut(kind).expect("handler present");
        let cx = JobContext {
            catalog: &self.catalog,
            library_dir: &self.library_dir,
            thumbs: &self.thumbs,
            cancel: stop,
            job: &job,
            events: &self.events,
        };
        tracing::debug!(kind, key = job.key, "job step");
        let outcome = handler.step(&cx);
        match outcome {
            Ok(step) => {
                // A step cut short by a stop says `More`: the job stays
                // queued and the next start continues it.
                match step {
                    Step::Later { after_secs, .. } => {
                        self.catalog.delay_job(job.id, after_secs)?;
                    }
                    Step::More { .. } => self.catalog.finish_job(job.id, true)?,
                    Step::Done { .. } => self.catalog.finish_job(job.id, false)?,
                }
                let follow: Vec<&'static str> = if step.items() > 0 {
                    handler.then().to_vec()
                } else {
                    Vec::new()
                };
                let remaining = handler.remaining(&self.catalog)?;
                let event = self
                    .meters
                    .get_mut(kind)
                    .expect("meter per handler")
                    .event(step.items(), remaining);
                (self.events)(&event);
                if let Some(what) = handler.changes().filter(|_| step.items() > 0) {
                    (self.events)(&LiveEvent::Changed { what, ids: None });
                }
                for next in follow {
                    if self.handlers.contains_key(next) {
                        self.catalog.enqueue_job(next, "", default_priority(next))?;
                    }
                }
            }
            Err(e) => {
                let retry = job.attempts < MAX_ATTEMPTS;
                let error = e.to_string();
                tracing::warn!(
                    kind,
                    key = job.key,
                    attempts = job.attempts,
                    "job failed: {error}"
                );
                self.catalog
                    .fail_job(job.id, &error, retry.then_some(5 * job.attempts))?;
                (self.events)(&LiveEvent::JobFailed {
                    kind: kind.to_string(),
                    key: job.key.clone(),
                    error,
                    retry,
                });
            }
        }
        Ok(true)
    }

    /// Runs until nothing runnable is left (waiting out retry delays), or
    /// `stop` is set. Returns the number of steps run.
    pub fn run_until_idle(&mut self, stop: &Arc<AtomicBool>) -> Result<u64> {
        let mut steps = 0;
        while !stop.load(Ordering::Relaxed) {
            if self.run_one(stop)? {
                steps += 1;
                continue;
            }
            match self.next_retry_in()? {
                Some(secs) => std::thread::sleep(Duration::from_secs(secs.clamp(0, 1) as u64)),
                None => break,
            }
        }
        self.announce_idle()?;
        Ok(steps)
    }

    /// Runs until `stop`; when idle, waits for a nudge on `wake` (the
    /// watcher queued work, a shell asked for something) or `poll`.
    pub fn run(
        &mut self,
        stop: &Arc<AtomicBool>,
        wake: &Receiver<()>,
        poll: Duration,
    ) -> Result<()> {
        while !stop.load(Ordering::Relaxed) {
            // The engine runs all day: a catalog error (a disk hiccup, a
            // lock held too long by another process) is reported and the
            // loop goes on after a pause, instead of ending the engine.
            match self.run_one(stop) {
                Ok(true) => continue,
                Ok(false) => {
                    if let Err(e) = self.announce_idle() {
                        tracing::warn!("job queue: {e}");
                    }
                }
                Err(e) => {
                    tracing::warn!("job queue error, trying again shortly: {e}");
                    (self.events)(&LiveEvent::JobFailed {
                        kind: "queue".into(),
                        key: String::new(),
                        error: e.to_string(),
                        retry: true,
                    });
                }
            }
            let _ = wake.recv_timeout(poll);
            while wake.try_recv().is_ok() {}
        }
        Ok(())
    }

    fn next_retry_in(&self) -> Result<Option<i64>> {
        let paused = paused_kinds(&self.catalog)?;
        let handlers = &self.handlers;
        let runnable =
            |j: &JobRow| handlers.contains_key(j.kind.as_str()) && !is_paused(&paused, &j.kind);
        self.catalog.delayed_jobs(&runnable)
    }

    fn announce_idle(&mut self) -> Result<()> {
        if !self.was_idle {
            self.was_idle = true;
            let paused = paused_kinds(&self.catalog)?;
            (self.events)(&LiveEvent::Idle { paused });
        }
        Ok(())
    }
}
