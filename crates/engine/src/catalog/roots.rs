use std::path::PathBuf;

use rusqlite::{params, OptionalExtension};

use super::{now_rfc3339, Catalog};
use crate::error::Result;
use crate::paths;

/// A library folder the user registered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Root {
    pub id: i64,
    pub path: PathBuf,
    pub online: bool,
    pub last_scan_at: Option<String>,
}

impl Catalog {
    pub fn roots(&self) -> Result<Vec<Root>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, path, online, last_scan_at FROM roots ORDER BY display_path")?;
        let rows = stmt.query_map([], |r| {
            Ok(Root {
                id: r.get(0)?,
                path: paths::from_bytes(&r.get::<_, Vec<u8>>(1)?),
                online: r.get(2)?,
                last_scan_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Inserts the root unless it exists; returns its id either way.
    pub fn add_root(&self, path: &std::path::Path) -> Result<i64> {
        let bytes = paths::to_bytes(path);
        self.conn.execute(
            "INSERT OR IGNORE INTO roots (path, display_path, added_at) VALUES (?1, ?2, ?3)",
            params![bytes, paths::display(path), now_rfc3339()],
        )?;
        Ok(self
            .conn
            .query_row("SELECT id FROM roots WHERE path = ?1", [bytes], |r| {
                r.get(0)
            })?)
    }

    pub fn root_id(&self, path: &std::path::Path) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM roots WHERE path = ?1",
                [paths::to_bytes(path)],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Forgets a root and its file locations. Photos stay, with their tags and
    /// embeddings, so re-adding the folder later restores everything.
    pub fn remove_root(&self, id: i64) -> Result<()> {
        self.conn.execute("DELETE FROM roots WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn set_root_online(&self, id: i64, online: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE roots SET online = ?2 WHERE id = ?1",
            params![id, online],
        )?;
        Ok(())
    }

    pub fn mark_root_scanned(&self, id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE roots SET last_scan_at = ?2 WHERE id = ?1",
            params![id, now_rfc3339()],
        )?;
        Ok(())
    }
}
