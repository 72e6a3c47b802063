//! The SQLite catalog: schema, migrations and every query. Other modules never
//! write SQL; they call the functions here.

mod browse;
mod changelog;
mod dupes;
mod embeddings;
mod jobs;
mod migrations;
mod photos;
mod queries;
mod roots;
mod search;
mod tags;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::error::{EngineError, Result};

pub use browse::{GridPhoto, MonthCount, PhotoFile, TaggedPhoto};
/// The catalog's file name inside a library folder.
pub const CATALOG_FILE: &str = "catalog.sqlite";

pub use changelog::{Changes, ViewChanges};
pub use dupes::{
    merge_photo_metadata, DupeAction, DupeDecision, DupeFile, DupePhoto, PendingAction,
    RegionFacts, RegionWork, ResolutionStart, TrashedFile,
};
pub use embeddings::{blob_to_vector, vector_to_blob, EmbedOutcome, EmbedTask, ModelRow};
pub use jobs::priority;
pub use jobs::{unix_now, JobRow, WatchState};
pub use migrations::{LATEST_VERSION, MIGRATIONS};
pub use photos::{
    Capture, FileState, KnownFile, LivePairing, LiveVideo, Location, NewPhoto, ScanWrite,
};
pub use queries::{hex, ErrorEntry, Gps, PhotoInfo, StatusCounts};
pub use roots::Root;
pub use search::{HitRow, IndexRow, IndexSink};
pub(crate) use tags::import_keywords;
pub use tags::{
    AutoTagDiff, PhotoTag, TagCount, TagDef, TagExamples, SOURCE_AUTO, SOURCE_IMPORTED, SOURCE_USER,
};

/// One connection to the catalog file. Open one per thread: WAL lets readers
/// run beside the single writer.
pub struct Catalog {
    conn: Connection,
    path: PathBuf,
}

impl Catalog {
    /// Opens (creating if needed) and migrates the catalog at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let catalog = Self::open_unmigrated(path)?;
        catalog.migrate_to(LATEST_VERSION)?;
        Ok(catalog)
    }

    /// Opens without migrating; for the migration tests and for readers that
    /// know the writer has migrated already.
    pub fn open_unmigrated(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        // WAL + NORMAL survives a kill -9 of the process (only an OS crash can
        // lose the last transactions, never corrupt); the busy timeout lets
        // readers and the writer share the file without spurious errors.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        Ok(Catalog {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Applies migrations up to `target`, each in its own transaction.
    pub fn migrate_to(&self, target: i64) -> Result<()> {
        let current = self.schema_version()?;
        if current > LATEST_VERSION {
            return Err(EngineError::SchemaTooNew {
                path: self.path.clone(),
                found: current,
                known: LATEST_VERSION,
            });
        }
        for version in current..target.min(LATEST_VERSION) {
            let tx = self.conn.unchecked_transaction()?;
            tx.execute_batch(MIGRATIONS[version as usize])?;
            tx.pragma_update(None, "user_version", version + 1)?;
            tx.commit()?;
            tracing::debug!(version = version + 1, "catalog migrated");
        }
        Ok(())
    }

    /// A write transaction that takes the write lock at BEGIN (waiting up
    /// to the busy timeout). A deferred one that reads first and writes
    /// later fails at once with "database is locked" when another
    /// connection (the watcher, the heartbeat, another process) committed
    /// in between; with several writers that is routine, not exceptional.
    pub(crate) fn write_tx(&self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)
    }

    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Raw access for tests and the migration checks.
    /// Moves everything in the write-ahead log into the database and
    /// empties the log, so a closed app leaves no megabytes of `-wal`
    /// behind. Readers still open elsewhere can keep part of it; that is
    /// harmless, and the next checkpoint finishes it.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
