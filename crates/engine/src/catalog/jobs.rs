//! The persistent job queue, the watcher's pending paths and the watch
//! state of each folder. See `crate::jobs` for what runs the queue.

use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{now_rfc3339, Catalog};
use crate::error::Result;
use crate::paths;

/// One row of the queue.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    /// What the job is about within its kind (a root id, `""` for "all").
    pub key: String,
    pub priority: i64,
    /// `queued`, `running` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Unix seconds before which a retried job is not picked.
    pub not_before: i64,
}

/// How a folder is followed, as the running watcher last said.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WatchState {
    pub root_id: i64,
    pub path: String,
    /// `native` (OS events), `polling` (periodic reconcile) or `offline`.
    pub mode: String,
    pub reason: Option<String>,
    pub updated_at: String,
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn job_from_row(r: &rusqlite::Row) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        key: r.get(2)?,
        priority: r.get(3)?,
        state: r.get(4)?,
        attempts: r.get(5)?,
        last_error: r.get(6)?,
        not_before: r.get(7)?,
    })
}

const JOB_COLUMNS: &str = "id, kind, key, priority, state, attempts, last_error, not_before";

impl Catalog {
    /// Asks for work. Asking again for queued work only raises its
    /// priority; asking for work that is running makes it run once more
    /// when it finishes (what it ran on may be stale); a failed job is
    /// queued again with its attempts reset.
    pub fn enqueue_job(&self, kind: &str, key: &str, priority: i64) -> Result<()> {
        let now = now_rfc3339();
        self.conn.execute(
            "INSERT INTO jobs (kind, key, priority, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT(kind, key) DO UPDATE SET
                priority = max(priority, excluded.priority),
                rerun = CASE WHEN state = 'running' THEN 1 ELSE rerun END,
                attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END,
                not_before = CASE WHEN state = 'failed' THEN 0 ELSE not_before END,
                state = CASE WHEN state = 'failed' THEN 'queued' ELSE state END,
                updated_at = excluded.updated_at",
            params![kind, key, priority, now],
        )?;
        Ok(())
    }

    /// Takes the most urgent queued job that `runnable` accepts (a kind
    /// with a handler, not paused): it becomes `running` and its attempts
    /// grow by one.
    pub fn claim_next_job(&self, runnable: &dyn Fn(&JobRow) -> bool) -> Result<Option<JobRow>> {
        let tx = self.write_tx()?;
        let candidate = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'queued' AND not_before <= ?1
                 ORDER BY priority DESC, id"
            ))?;
            let mut rows = stmt.query_map([unix_now()], job_from_row)?;
            let mut found = None;
            for row in rows.by_ref() {
                let row = row?;
                if runnable(&row) {
                    found = Some(row);
                    break;
                }
            }
            found
        };
        let Some(mut job) = candidate else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, rerun = 0,
                updated_at = ?2 WHERE id = ?1",
            params![job.id, now_rfc3339()],
        )?;
        tx.commit()?;
        job.state = "running".into();
        job.attempts += 1;
        Ok(Some(job))
    }

    /// The job finished a step. With `more`, or when it was asked for again
    /// while it ran, it goes back to the queue (so that more urgent work can
    /// go first); otherwise it is done and leaves the queue.
    pub fn finish_job(&self, id: i64, more: bool) -> Result<()> {
        let tx = self.write_tx()?;
        let rerun: Option<bool> = tx
            .query_row("SELECT rerun FROM jobs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        match rerun {
            None => {}
            Some(rerun) if more || rerun => {
                tx.execute(
                    "UPDATE jobs SET state = 'queued', rerun = 0, attempts = 0, last_error = NULL,
                        not_before = 0, updated_at = ?2 WHERE id = ?1",
                    params![id, now_rfc3339()],
                )?;
            }
            Some(_) => {
                tx.execute("DELETE FROM jobs WHERE id = ?1", [id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The job waits for something (files to settle): queued again, not
    /// to be picked before `secs` from now.
    pub fn delay_job(&self, id: i64, secs: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE jobs SET state = 'queued', rerun = 0, not_before = ?2, updated_at = ?3
             WHERE id = ?1",
            params![id, unix_now() + secs.max(1), now_rfc3339()],
        )?;
        Ok(())
    }

    /// Paths to look at again later: they keep waiting, behind the others.
    pub fn requeue_paths_later(&self, items: &[(i64, PathBuf)]) -> Result<()> {
        let tx = self.write_tx()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO job_paths (path, root_id, priority, queued_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(path) DO UPDATE SET queued_at = excluded.queued_at",
            )?;
            let now = now_rfc3339();
            for (root_id, path) in items {
                stmt.execute(params![
                    paths::to_bytes(path),
                    root_id,
                    priority::INGEST,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The job failed: queued again after `retry_in` seconds, or left as
    /// `failed` (shown by `status`) when there is no retry.
    pub fn fail_job(&self, id: i64, error: &str, retry_in: Option<i64>) -> Result<()> {
        match retry_in {
            Some(secs) => self.conn.execute(
                "UPDATE jobs SET state = 'queued', last_error = ?2, not_before = ?3,
                    updated_at = ?4 WHERE id = ?1",
                params![id, error, unix_now() + secs, now_rfc3339()],
            )?,
            None => self.conn.execute(
                "UPDATE jobs SET state = 'failed', last_error = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, error, now_rfc3339()],
            )?,
        };
        Ok(())
    }

    /// After a crash: jobs that were running are queued again (every job
    /// is idempotent, so redoing a step costs time, never correctness).
    pub fn requeue_running_jobs(&self) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE jobs SET state = 'queued', updated_at = ?1 WHERE state = 'running'",
            [now_rfc3339()],
        )?)
    }

    pub fn jobs(&self) -> Result<Vec<JobRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs ORDER BY priority DESC, id"
        ))?;
        let rows = stmt.query_map([], job_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Seconds until the first queued job `runnable` accepts that waits
    /// for its retry time.
    pub fn delayed_jobs(&self, runnable: &dyn Fn(&JobRow) -> bool) -> Result<Option<i64>> {
        let now = unix_now();
        Ok(self
            .jobs()?
            .into_iter()
            .filter(|j| j.state == "queued" && j.not_before > now && runnable(j))
            .map(|j| j.not_before - now)
            .min())
    }

    /// Jobs that are queued or running (failed ones wait for the user).
    pub fn count_active_jobs(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM jobs WHERE state != 'failed'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Paths the watcher saw change, for the `ingest` job. A path already
    /// waiting keeps its place and takes the higher priority.
    pub fn queue_paths(&self, items: &[(i64, PathBuf)], priority: i64) -> Result<()> {
        let tx = self.write_tx()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO job_paths (path, root_id, priority, queued_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(path) DO UPDATE SET priority = max(priority, excluded.priority),
                    root_id = excluded.root_id",
            )?;
            let now = now_rfc3339();
            for (root_id, path) in items {
                stmt.execute(params![paths::to_bytes(path), root_id, priority, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The most urgent `limit` waiting paths (left in place until done).
    pub fn next_paths(&self, limit: usize) -> Result<Vec<(i64, PathBuf)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT root_id, path FROM job_paths ORDER BY priority DESC, queued_at LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (root, bytes) = row?;
            out.push((root, paths::from_bytes(&bytes)));
        }
        Ok(out)
    }

    pub fn remove_paths(&self, done: &[PathBuf]) -> Result<()> {
        let tx = self.write_tx()?;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM job_paths WHERE path = ?1")?;
            for path in done {
                stmt.execute([paths::to_bytes(path)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn count_queued_paths(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM job_paths", [], |r| r.get(0))?)
    }

    /// Records how a folder is followed (`native`, `polling`, `offline`).
    pub fn set_watch_state(&self, root_id: i64, mode: &str, reason: Option<&str>) -> Result<()> {
        self.conn.execute(
            "INSERT INTO watch_state (root_id, mode, reason, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(root_id) DO UPDATE SET mode = excluded.mode, reason = excluded.reason,
                updated_at = excluded.updated_at",
            params![root_id, mode, reason, now_rfc3339()],
        )?;
        Ok(())
    }

    pub fn watch_states(&self) -> Result<Vec<WatchState>> {
        let mut stmt = self.conn.prepare(
            "SELECT w.root_id, r.display_path, w.mode, w.reason, w.updated_at
               FROM watch_state w JOIN roots r ON r.id = w.root_id ORDER BY r.display_path",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(WatchState {
                root_id: r.get(0)?,
                path: r.get(1)?,
                mode: r.get(2)?,
                reason: r.get(3)?,
                updated_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Catalogued file paths of a root at or below `dir` (for a folder
    /// that moved away or was deleted).
    pub fn files_under(&self, root_id: i64, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut lo = paths::to_bytes(dir);
        while lo.len() > 1 && lo.last() == Some(&b'/') {
            lo.pop();
        }
        lo.push(b'/');
        let mut hi = lo.clone();
        *hi.last_mut().expect("not empty") = b'/' + 1;
        let mut stmt = self.conn.prepare_cached(
            "SELECT path FROM files WHERE root_id = ?1 AND path >= ?2 AND path < ?3",
        )?;
        let rows = stmt.query_map(params![root_id, lo, hi], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(paths::from_bytes(&row?));
        }
        Ok(out)
    }

    /// Forgets file locations that are gone from disk (the photos keep
    /// their tags and embeddings, as after a scan's pruning).
    pub fn forget_files(&self, gone: &[PathBuf]) -> Result<usize> {
        let tx = self.write_tx()?;
        let mut n = 0;
        {
            let mut files = tx.prepare_cached("DELETE FROM files WHERE path = ?1")?;
            let mut errors = tx.prepare_cached("DELETE FROM walk_errors WHERE path = ?1")?;
            for path in gone {
                let bytes = paths::to_bytes(path);
                n += files.execute([&bytes])?;
                errors.execute([&bytes])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// The newest scan id: live writes stamp files with it, so a full scan
    /// running at the same time never prunes what the watcher just added.
    pub fn current_scan_id(&self) -> Result<i64> {
        let id: Option<i64> = self
            .conn
            .query_row("SELECT MAX(id) FROM scans", [], |r| r.get(0))?;
        match id {
            Some(id) => Ok(id),
            None => self.begin_scan(),
        }
    }

    /// Catalogued files in the folder of `sidecar` that it may belong to
    /// (`photo.jpg.xmp` → `photo.jpg`; `photo.xmp` → `photo.*`).
    pub fn files_for_sidecar(&self, sidecar: &Path) -> Result<Vec<(PathBuf, Option<i64>)>> {
        let (Some(dir), Some(stem)) = (sidecar.parent(), sidecar.file_stem()) else {
            return Ok(Vec::new());
        };
        let lo = paths::to_bytes(&dir.join(stem));
        let hi = {
            let mut h = lo.clone();
            h.push(0xFF);
            h
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT path, photo_id FROM files WHERE path >= ?1 AND path < ?2 AND status = 'ok'",
        )?;
        let rows = stmt.query_map(params![lo, hi], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<i64>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (bytes, photo) = row?;
            let file = paths::from_bytes(&bytes);
            if crate::sidecar::sidecar_candidates(&file)
                .iter()
                .any(|c| c == sidecar)
            {
                out.push((file, photo));
            }
        }
        Ok(out)
    }

    /// Re-imports a photo's keywords after a sidecar changed: imported tags
    /// no longer in `keywords` are removed, new ones added. User tags and
    /// rejections are never touched; with `keep_existing`, a keyword that is
    /// already a tag of any source is left as it is (it is most likely
    /// Shoebox's own sidecar write coming back).
    pub fn reimport_keywords(
        &self,
        photo_id: i64,
        keywords: &[(String, Option<String>)],
        keep_existing: bool,
    ) -> Result<(usize, usize)> {
        let tx = self.write_tx()?;
        let current: Vec<(String, String)> = {
            let mut stmt = tx.prepare("SELECT tag, source FROM photo_tags WHERE photo_id = ?1")?;
            let rows = stmt.query_map([photo_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut removed = 0;
        for (tag, source) in &current {
            if source == super::SOURCE_IMPORTED && !keywords.iter().any(|(k, _)| k == tag) {
                removed += tx.execute(
                    "DELETE FROM photo_tags WHERE photo_id = ?1 AND tag = ?2 AND source = 'imported'",
                    params![photo_id, tag],
                )?;
            }
        }
        let fresh: Vec<(String, Option<String>)> = keywords
            .iter()
            .filter(|(k, _)| !(keep_existing && current.iter().any(|(t, _)| t == k)))
            .cloned()
            .collect();
        let added = fresh
            .iter()
            .filter(|(k, _)| !current.iter().any(|(t, _)| t == k))
            .count();
        super::import_keywords(&tx, photo_id, &fresh)?;
        tx.commit()?;
        Ok((added, removed))
    }
}

/// Higher runs first: thumbnails, then embeddings, tags and duplicates;
/// anything the user is looking at before all of them.
pub mod priority {
    pub const VISIBLE: i64 = 1000;
    pub const INGEST: i64 = 400;
    pub const SCAN: i64 = 300;
    pub const EMBED: i64 = 200;
    pub const TAGS: i64 = 100;
    pub const DUPES: i64 = 50;
}
