//! The change log: SQLite triggers append a row for every change to a
//! photo's files, metadata, tags or vector (catalog/migrations.rs). Readers
//! that keep something in memory (the search index, the timeline) follow it
//! instead of reloading, and a process hears of changes another process
//! made (`changes_by_view_since`).

use rusqlite::params;

use super::Catalog;
use crate::error::Result;

/// What changed since a point in the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// These photos changed (ids may repeat).
    Photos(Vec<i64>),
    /// Too much changed, or the log was trimmed past our point: reload.
    Everything,
}

/// Changes after a point, by the view they concern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewChanges {
    /// Photos whose files, metadata or folder changed (`None`: too many
    /// or a folder came or went: reload).
    pub photos: Option<Vec<i64>>,
    pub any_photos: bool,
    /// Photos whose tags changed.
    pub tags: Vec<i64>,
}

/// Keep this many change rows; a reader further behind reloads.
const CHANGE_LOG_KEEP: i64 = 1_000_000;

/// At most this many ids per change report; past it, "reload".
const MAX_IDS: usize = 1000;

impl Catalog {
    /// Runs `f` inside one read transaction, so everything it reads comes
    /// from one snapshot of the catalog (WAL readers never block writers).
    pub fn read_snapshot<T>(&self, f: impl FnOnce(&Catalog) -> Result<T>) -> Result<T> {
        let tx = self.conn.unchecked_transaction()?;
        let out = f(self);
        tx.finish()?;
        out
    }

    pub fn change_seq(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
                r.get(0)
            })?)
    }

    /// Changes after `seq`, and the new position.
    pub fn changes_since(&self, seq: i64) -> Result<(i64, Changes)> {
        let oldest: Option<i64> = self
            .conn
            .query_row("SELECT MIN(seq) FROM changes", [], |r| r.get(0))?;
        let latest = self.change_seq()?;
        if latest == seq {
            return Ok((seq, Changes::Photos(Vec::new())));
        }
        if oldest.is_some_and(|o| o > seq + 1) {
            return Ok((latest, Changes::Everything));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT photo_id FROM changes WHERE seq > ?1 AND seq <= ?2")?;
        let ids: Vec<Option<i64>> = stmt
            .query_map(params![seq, latest], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if ids.iter().any(Option::is_none) {
            return Ok((latest, Changes::Everything));
        }
        Ok((latest, Changes::Photos(ids.into_iter().flatten().collect())))
    }

    /// Drops old change rows; readers that fell further behind reload.
    pub fn trim_change_log(&self) -> Result<()> {
        self.conn.execute(
            "DELETE FROM changes WHERE seq < (SELECT MAX(seq) FROM changes) - ?1",
            [CHANGE_LOG_KEEP],
        )?;
        Ok(())
    }

    /// What changed after `seq`, by view (vectors left out: no view shows
    /// them), and the new position.
    pub fn changes_by_view_since(&self, seq: i64) -> Result<(i64, ViewChanges)> {
        let latest = self.change_seq()?;
        let mut out = ViewChanges::default();
        if latest == seq {
            return Ok((seq, out));
        }
        let mut stmt = self.conn.prepare(
            "SELECT photo_id, what FROM changes WHERE seq > ?1 AND seq <= ?2
               AND what IS NOT 'vectors' LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![seq, latest, (2 * MAX_IDS) as i64], |r| {
            Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut photos: Option<Vec<i64>> = Some(Vec::new());
        let mut seen = 0;
        for row in rows {
            let (id, what) = row?;
            seen += 1;
            match (what.as_deref(), id) {
                (Some("tags"), Some(id)) => out.tags.push(id),
                (_, Some(id)) => {
                    out.any_photos = true;
                    if let Some(p) = photos.as_mut() {
                        p.push(id);
                    }
                }
                (_, None) => {
                    out.any_photos = true;
                    photos = None;
                }
            }
        }
        if seen >= 2 * MAX_IDS {
            out.any_photos = true;
            photos = None;
        }
        for list in [photos.as_mut(), Some(&mut out.tags)].into_iter().flatten() {
            list.sort_unstable();
            list.dedup();
        }
        out.photos = photos.filter(|p| p.len() <= MAX_IDS);
        out.tags.truncate(MAX_IDS);
        Ok((latest, out))
    }
}
