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
    /// The Live Photo content identifier of a still (`ingest::live_photo`).
    pub content_id: Option<String>,
}

/// The movie of a Live Photo, as found beside its still.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveVideo {
    pub path: std::path::PathBuf,
    pub size: u64,
    pub mtime_ns: i64,
}

/// What a scan learned about the movie beside a still's file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LivePairing {
    /// Nothing changed (or there is nothing to pair).
    #[default]
    Keep,
    /// This movie belongs to the still's file.
    Set(LiveVideo),
    /// The file has no movie (any more).
    Clear,
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
    Unchanged { file_id: i64, live: LivePairing },
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
        live: LivePairing,
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
                    pixel_hash, thumb_ready, added_at, sharpness, crop_hashes, content, decoded_from,
                    content_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
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
                    ScanWrite::Unchanged { file_id, live } => {
                        seen.execute(params![file_id, scan_id])?;
                        pair_live_video(&tx, *file_id, live)?;
                    }
                    ScanWrite::Photo {
                        at,
                        hash,
                        photo,
                        warning,
                        keywords,
                        live,
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
                                p.content_id,
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
                        if *live != LivePairing::Keep {
                            let file_id: i64 = tx.query_row(
                                "SELECT id FROM files WHERE path = ?1",
                                [paths::to_bytes(&at.path)],
                                |r| r.get(0),
                            )?;
                            pair_live_video(&tx, file_id, live)?;
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

/// Records (or forgets) the Live Photo movie of a still's file. A movie
/// belongs to one still: pairing it elsewhere moves it.
fn pair_live_video(tx: &rusqlite::Transaction, file_id: i64, live: &LivePairing) -> Result<()> {
    match live {
        LivePairing::Keep => {}
        LivePairing::Clear => {
            tx.execute("DELETE FROM live_videos WHERE file_id = ?1", [file_id])?;
        }
        LivePairing::Set(video) => {
            let path = paths::to_bytes(&video.path);
            tx.execute(
                "DELETE FROM live_videos WHERE path = ?1 AND file_id != ?2",
                params![path, file_id],
            )?;
            // Listed as a video not indexed yet before its still claimed it.
            tx.execute(
                "DELETE FROM files WHERE path = ?1 AND photo_id IS NULL",
                [&path],
            )?;
            tx.execute(
                "INSERT INTO live_videos (file_id, path, display_path, size, mtime_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(file_id) DO UPDATE SET path = excluded.path,
                    display_path = excluded.display_path, size = excluded.size,
                    mtime_ns = excluded.mtime_ns",
                params![
                    file_id,
                    path,
                    paths::display(&video.path),
                    video.size as i64,
                    video.mtime_ns
                ],
            )?;
        }
    }
    Ok(())
}

impl Catalog {
    /// The movie recorded for a still's file.
    pub fn live_video_of_file(&self, file_id: i64) -> Result<Option<LiveVideo>> {
        Ok(self
            .conn
            .query_row(
                "SELECT path, size, mtime_ns FROM live_videos WHERE file_id = ?1",
                [file_id],
                |r| {
                    Ok(LiveVideo {
                        path: paths::from_bytes(&r.get::<_, Vec<u8>>(0)?),
                        size: r.get::<_, i64>(1)? as u64,
                        mtime_ns: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Whether `video` is recorded, unchanged, as a still's Live Photo
    /// movie.
    pub fn is_recorded_live_video(&self, video: &LiveVideo) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM live_videos WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3",
                params![
                    paths::to_bytes(&video.path),
                    video.size as i64,
                    video.mtime_ns
                ],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The movie recorded for the still at `path`.
    pub fn live_video_of_path(&self, path: &std::path::Path) -> Result<Option<LiveVideo>> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM files WHERE path = ?1",
                [paths::to_bytes(path)],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.live_video_of_file(id),
            None => Ok(None),
        }
    }

    /// The content identifier recorded for the photo of a file.
    pub fn content_id_of_file(&self, file_id: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT p.content_id FROM files f JOIN photos p ON p.id = f.photo_id
                  WHERE f.id = ?1",
                [file_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The content identifier recorded for the photo with `hash`.
    pub fn content_id_of_photo(&self, hash: &[u8; 32]) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT content_id FROM photos WHERE hash = ?1",
                [&hash[..]],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }
}
