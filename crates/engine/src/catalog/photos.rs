//! Writes made by a scan. A batch is applied in one transaction so that a
//! kill -9 leaves either all or none of it.

use rusqlite::{params, OptionalExtension};

use super::{now_rfc3339, Catalog};
use crate::error::Result;
use crate::paths;

/// When and with what a photo was taken, as its metadata says: what
/// ingest reads, the catalog stores and `info` shows.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Capture {
    pub taken_at: Option<String>,
    /// Where `taken_at` came from (an EXIF tag, or `file:modified`).
    pub taken_at_source: Option<String>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub lens: Option<String>,
}

/// Everything ingest learns about a photo that the catalog has not seen.
#[derive(Debug, Clone, Default)]
pub struct NewPhoto {
    pub hash: [u8; 32],
    pub width: u32,
    pub height: u32,
    pub format: String,
    pub capture: Capture,
    pub gps: Option<(f64, f64)>,
    pub orientation: u16,
    pub phash: Option<Vec<u8>>,
    pub pixel_hash: Option<[u8; 32]>,
    /// Variance of the Laplacian at a 256 px short edge (see `ingest::quality`).
    pub sharpness: Option<f32>,
    /// Perceptual hashes of sub-regions (see `ingest::phash::crop_hashes`).
    pub crop_hashes: Option<Vec<u8>>,
    /// Why the picture is too bare to match by hashes ('' when it is not;
    /// see `ingest::quality::content`).
    pub content: String,
    pub thumb_ready: bool,
    /// Which pixels were decoded (see `ingest::decode::DecodedFrom`).
    pub decoded_from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Ok,
    Error,
    Unsupported,
}

impl FileState {
    fn as_str(self) -> &'static str {
        match self {
            FileState::Ok => "ok",
            FileState::Error => "error",
            FileState::Unsupported => "unsupported",
        }
    }
}

/// The file's location and stat at the time it was read.
#[derive(Debug, Clone)]
pub struct Location {
    pub root_id: i64,
    pub path: std::path::PathBuf,
    pub size: u64,
    pub mtime_ns: i64,
}

#[derive(Debug, Clone)]
pub enum ScanWrite {
    /// Size and mtime match the catalog: only remember that it was seen.
    Unchanged { file_id: i64 },
    /// A readable photo; `photo` is `None` when its hash is already catalogued.
    Photo {
        at: Location,
        hash: [u8; 32],
        photo: Option<Box<NewPhoto>>,
        warning: Option<String>,
        /// Keywords from embedded XMP/IPTC and sidecars, as
        /// `(tag, Some(display name))` for keywords the vocabulary does not
        /// know and `(tag, None)` for concepts; imported as tags.
        keywords: Vec<(String, Option<String>)>,
    },
    /// A file we could not use, with the reason shown to the user.
    Failed {
        at: Location,
        state: FileState,
        reason: String,
    },
    /// A folder or entry the walk could not enter or read.
    WalkError {
        root_id: i64,
        path: std::path::PathBuf,
        reason: String,
    },
    /// Listed by the walk, gone by the time we opened it.
    Vanished {
        root_id: i64,
        path: std::path::PathBuf,
    },
}

/// What a scan needs to know about a path it is about to read.
#[derive(Debug, Clone, Copy)]
pub struct KnownFile {
    pub id: i64,
    pub size: u64,
    pub mtime_ns: i64,
}

impl Catalog {
    pub fn begin_scan(&self) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO scans (started_at) VALUES (?1)",
            [now_rfc3339()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_scan(&self, scan_id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE scans SET finished_at = ?2 WHERE id = ?1",
            params![scan_id, now_rfc3339()],
        )?;
        Ok(())
    }

    pub fn known_file(&self, path: &std::path::Path) -> Result<Option<KnownFile>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, size, mtime_ns FROM files WHERE path = ?1",
                [paths::to_bytes(path)],
                |r| {
                    Ok(KnownFile {
                        id: r.get(0)?,
                        size: r.get::<_, i64>(1)? as u64,
                        mtime_ns: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// True when the photo with this hash is fully ingested, so a copy or a
    /// moved file needs no decode.
    pub fn photo_complete(&self, hash: &[u8; 32]) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT thumb_ready FROM photos WHERE hash = ?1",
                [&hash[..]],
                |r| r.get::<_, bool>(0),
            )
            .optional()?
            .unwrap_or(false))
    }

    pub fn apply_scan_batch(&self, scan_id: i64, batch: &[ScanWrite]) -> Result<()> {
        let tx = self.write_tx()?;
        {
            let mut seen = tx.prepare_cached("UPDATE files SET scan_id = ?2 WHERE id = ?1")?;
            let mut insert_photo = tx.prepare_cached(
                "INSERT INTO photos (hash, width, height, format, taken_at, taken_at_source,
                    camera_make, camera_model, lens, gps_lat, gps_lon, orientation, phash,
                    pixel_hash, thumb_ready, added_at, sharpness, crop_hashes, content, decoded_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
                 ON CONFLICT(hash) DO UPDATE SET thumb_ready = max(thumb_ready, excluded.thumb_ready)",
            )?;
            let mut photo_id = tx.prepare_cached("SELECT id FROM photos WHERE hash = ?1")?;
            let mut upsert_file = tx.prepare_cached(
                "INSERT INTO files (root_id, photo_id, path, display_path, size, mtime_ns,
                    status, last_error, scan_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(path) DO UPDATE SET root_id = excluded.root_id,
                    photo_id = excluded.photo_id, display_path = excluded.display_path,
                    size = excluded.size, mtime_ns = excluded.mtime_ns,
                    status = excluded.status, last_error = excluded.last_error,
                    scan_id = excluded.scan_id",
            )?;
            let mut walk_error = tx.prepare_cached(
                "INSERT INTO walk_errors (root_id, path, display_path, reason, scan_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(path) DO UPDATE SET reason = excluded.reason,
                    scan_id = excluded.scan_id, root_id = excluded.root_id",
            )?;
            let mut delete_file = tx.prepare_cached("DELETE FROM files WHERE path = ?1")?;
            let now = now_rfc3339();

            for write in batch {
                match write {
                    ScanWrite::Unchanged { file_id } => {
                        seen.execute(params![file_id, scan_id])?;
                    }
                    ScanWrite::Photo {
                        at,
                        hash,
                        photo,
                        warning,
                        keywords,
                    } => {
                        if let Some(p) = photo {
                            insert_photo.execute(params![
                                &p.hash[..],
                                p.width,
                                p.height,
                                p.format,
                                p.capture.taken_at,
                                p.capture.taken_at_source,
                                p.capture.camera_make,
                                p.capture.camera_model,
                                p.capture.lens,
                                p.gps.map(|g| g.0),
                                p.gps.map(|g| g.1),
                                p.orientation,
                                p.phash,
                                p.pixel_hash.as_ref().map(|h| &h[..]),
                                p.thumb_ready,
                                now,
                                p.sharpness,
                                p.crop_hashes,
                                p.content,
                                p.decoded_from,
                            ])?;
                        }
                        let id: Option<i64> =
                            photo_id.query_row([&hash[..]], |r| r.get(0)).optional()?;
                        upsert_file.execute(params![
                            at.root_id,
                            id,
                            paths::to_bytes(&at.path),
                            paths::display(&at.path),
                            at.size as i64,
                            at.mtime_ns,
                            FileState::Ok.as_str(),
                            warning,
                            scan_id,
                        ])?;
                        if let (Some(id), false) = (id, keywords.is_empty()) {
                            super::import_keywords(&tx, id, keywords)?;
                        }
                    }
                    ScanWrite::Failed { at, state, reason } => {
                        upsert_file.execute(params![
                            at.root_id,
                            Option::<i64>::None,
                            paths::to_bytes(&at.path),
                            paths::display(&at.path),
                            at.size as i64,
                            at.mtime_ns,
                            state.as_str(),
                            reason,
                            scan_id,
                        ])?;
                    }
                    ScanWrite::WalkError {
                        root_id,
                        path,
                        reason,
                    } => {
                        walk_error.execute(params![
                            root_id,
                            paths::to_bytes(path),
                            paths::display(path),
                            reason,
                            scan_id
                        ])?;
                    }
                    ScanWrite::Vanished { root_id, path } => {
                        delete_file.execute([paths::to_bytes(path)])?;
                        walk_error.execute(params![
                            root_id,
                            paths::to_bytes(path),
                            paths::display(path),
                            "the file disappeared while it was being scanned",
                            scan_id
                        ])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// After a complete walk of a root: forget locations that were not seen,
    /// except below folders the walk could not read (their files may still be
    /// there), and drop stale walk errors.
    pub fn prune_root(
        &self,
        root_id: i64,
        scan_id: i64,
        unreadable_dirs: &[Vec<u8>],
    ) -> Result<usize> {
        let tx = self.write_tx()?;
        let stale: Vec<(i64, Vec<u8>)> = {
            let mut stmt =
                tx.prepare("SELECT id, path FROM files WHERE root_id = ?1 AND scan_id < ?2")?;
            let rows = stmt.query_map(params![root_id, scan_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut removed = 0;
        {
            let mut delete = tx.prepare_cached("DELETE FROM files WHERE id = ?1")?;
            for (id, path) in stale {
                if unreadable_dirs.iter().any(|d| paths::is_within(&path, d)) {
                    continue;
                }
                delete.execute([id])?;
                removed += 1;
            }
        }
        tx.execute(
            "DELETE FROM walk_errors WHERE root_id = ?1 AND scan_id < ?2",
            params![root_id, scan_id],
        )?;
        tx.commit()?;
        Ok(removed)
    }
}
