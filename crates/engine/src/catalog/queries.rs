//! Read-side queries behind `status`, `errors` and `info`.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::Catalog;
use crate::error::Result;
use crate::paths;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct StatusCounts {
    /// Distinct photos with at least one readable file in an online folder.
    pub photos: i64,
    /// Readable files in online folders (copies count separately).
    pub files: i64,
    /// Files that could not be read (damaged, unreadable, refused), unreadable
    /// folders and photos whose embedding failed.
    pub errors: i64,
    /// Files in a format Shoebox does not read yet (counted apart from
    /// errors: nothing is wrong with them).
    pub unsupported: i64,
    /// Files imported with a problem worth knowing (e.g. corrupt EXIF).
    pub warnings: i64,
    /// Catalogued files whose folder is currently missing (unmounted drive).
    pub offline: i64,
    /// Photos still waiting for background work (thumbnail or embedding).
    pub pending: i64,
    /// Photos with a vector for the active model.
    pub embedded: i64,
    /// Photos still without a vector for the active model (failures excluded).
    pub pending_embeddings: i64,
    /// The active model's key, once one was chosen or used.
    pub model: Option<String>,
    /// The model being embedded to replace `model` (`embed::switch`);
    /// search keeps using `model` until it has no photos left.
    pub switching_to: Option<String>,
    /// Photos the next model has still to embed.
    pub switch_remaining: i64,
    pub folders: i64,
    pub offline_folders: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorEntry {
    pub path: String,
    pub reason: String,
    /// "error", "unsupported", "folder", "warning" or "embed".
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gps {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhotoInfo {
    pub id: i64,
    pub hash: String,
    pub paths: Vec<String>,
    pub width: u32,
    pub height: u32,
    pub format: String,
    #[serde(flatten)]
    pub capture: super::Capture,
    pub gps: Option<Gps>,
    pub orientation: u16,
    pub phash: Option<String>,
    pub pixel_hash: Option<String>,
    /// Which pixels the thumbnail and the model input come from: "image",
    /// "embedded preview" (RAW) or "embedded thumbnail" (HEIF); null for
    /// photos catalogued before this was recorded.
    pub decoded_from: Option<String>,
    /// A Live Photo's movie (display path), kept with the still.
    pub live_video: Option<String>,
    pub offline: bool,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Catalog {
    pub fn status_counts(&self) -> Result<StatusCounts> {
        let c = &self.conn;
        let model = self.active_model()?;
        let next = self.next_model()?;
        let model_id = model.as_ref().map_or(-1, |m| m.id);
        let one = |sql: &str| -> Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
        let for_model =
            |sql: &str| -> Result<i64> { Ok(c.query_row(sql, [model_id], |r| r.get(0))?) };
        Ok(StatusCounts {
            photos: one(
                "SELECT COUNT(DISTINCT f.photo_id) FROM files f JOIN roots r ON r.id = f.root_id
                 WHERE f.status = 'ok' AND r.online = 1",
            )?,
            files: one(
                "SELECT COUNT(*) FROM files f JOIN roots r ON r.id = f.root_id
                 WHERE f.status = 'ok' AND r.online = 1",
            )?,
            errors: one("SELECT COUNT(*) FROM files WHERE status NOT IN ('ok', 'unsupported')")?
                + one("SELECT COUNT(*) FROM walk_errors")?
                + for_model("SELECT COUNT(*) FROM embed_errors WHERE model_id = ?1")?,
            unsupported: one("SELECT COUNT(*) FROM files WHERE status = 'unsupported'")?,
            warnings: one(
                "SELECT COUNT(*) FROM files WHERE status = 'ok' AND last_error IS NOT NULL",
            )?,
            offline: one(
                "SELECT COUNT(*) FROM files f JOIN roots r ON r.id = f.root_id
                 WHERE f.status = 'ok' AND r.online = 0",
            )?,
            pending: for_model(
                "SELECT COUNT(*) FROM photos p WHERE EXISTS (
                    SELECT 1 FROM files f JOIN roots r ON r.id = f.root_id
                    WHERE f.photo_id = p.id AND f.status = 'ok' AND r.online = 1)
                  AND (p.thumb_ready = 0 OR (
                    NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = p.id AND e.model_id = ?1)
                    AND NOT EXISTS (SELECT 1 FROM embed_errors x WHERE x.photo_id = p.id AND x.model_id = ?1)))",
            )?,
            embedded: for_model(
                "SELECT COUNT(*) FROM embeddings e WHERE e.model_id = ?1 AND EXISTS (
                    SELECT 1 FROM files f JOIN roots r ON r.id = f.root_id
                    WHERE f.photo_id = e.photo_id AND f.status = 'ok' AND r.online = 1)",
            )?,
            pending_embeddings: self.count_pending_embeddings(model.as_ref().map(|m| m.id))?,
            switching_to: next.as_ref().map(|n| n.key.clone()),
            switch_remaining: match &next {
                Some(n) => self.count_pending_embeddings(Some(n.id))?,
                None => 0,
            },
            model: model.map(|m| m.key),
            folders: one("SELECT COUNT(*) FROM roots")?,
            offline_folders: one("SELECT COUNT(*) FROM roots WHERE online = 0")?,
        })
    }

    pub fn errors(&self) -> Result<Vec<ErrorEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT display_path, last_error, CASE WHEN status = 'ok' THEN 'warning' ELSE status END
               FROM files WHERE status != 'ok' OR last_error IS NOT NULL
             UNION ALL
             SELECT display_path, reason, 'folder' FROM walk_errors
             UNION ALL
             SELECT COALESCE((SELECT f.display_path FROM files f WHERE f.photo_id = x.photo_id
                              ORDER BY f.id LIMIT 1), '#' || x.photo_id), x.reason, 'embed'
               FROM embed_errors x JOIN settings s ON s.key = 'active_model'
              WHERE x.model_id = CAST(s.value AS INTEGER)
             ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ErrorEntry {
                path: r.get(0)?,
                reason: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                kind: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn photo_id_for_path(&self, path: &std::path::Path) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT photo_id FROM files WHERE path = ?1",
                [paths::to_bytes(path)],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    /// The error recorded for a path, when the file is catalogued but unusable.
    pub fn file_error(&self, path: &std::path::Path) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_error FROM files WHERE path = ?1 AND status != 'ok'",
                [paths::to_bytes(path)],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    pub fn photo_info(&self, id: i64) -> Result<Option<PhotoInfo>> {
        let info = self
            .conn
            .query_row(
                "SELECT id, hash, width, height, format, taken_at, taken_at_source, camera_make,
                        camera_model, lens, gps_lat, gps_lon, orientation, phash, pixel_hash,
                        decoded_from
                   FROM photos WHERE id = ?1",
                [id],
                photo_from_row,
            )
            .optional()?;
        let Some(mut info) = info else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare(
            "SELECT f.display_path, r.online FROM files f JOIN roots r ON r.id = f.root_id
              WHERE f.photo_id = ?1 AND f.status = 'ok' ORDER BY f.display_path",
        )?;
        let locations: Vec<(String, bool)> = stmt
            .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        info.live_video = self
            .conn
            .query_row(
                "SELECT lv.display_path FROM live_videos lv JOIN files f ON f.id = lv.file_id
                  WHERE f.photo_id = ?1 ORDER BY lv.display_path LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        info.offline = !locations.is_empty() && locations.iter().all(|(_, online)| !online);
        info.paths = locations.into_iter().map(|(p, _)| p).collect();
        Ok(Some(info))
    }

    pub fn photo_hash(&self, id: i64) -> Result<Option<[u8; 32]>> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT hash FROM photos WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        Ok(bytes.and_then(|b| b.try_into().ok()))
    }
}

fn photo_from_row(r: &Row) -> rusqlite::Result<PhotoInfo> {
    let lat: Option<f64> = r.get(10)?;
    let lon: Option<f64> = r.get(11)?;
    Ok(PhotoInfo {
        id: r.get(0)?,
        hash: hex(&r.get::<_, Vec<u8>>(1)?),
        paths: Vec::new(),
        width: r.get(2)?,
        height: r.get(3)?,
        format: r.get(4)?,
        capture: super::Capture {
            taken_at: r.get(5)?,
            taken_at_source: r.get(6)?,
            camera_make: r.get(7)?,
            camera_model: r.get(8)?,
            lens: r.get(9)?,
        },
        gps: lat.zip(lon).map(|(lat, lon)| Gps { lat, lon }),
        orientation: r.get(12)?,
        phash: r.get::<_, Option<Vec<u8>>>(13)?.map(|b| hex(&b)),
        pixel_hash: r.get::<_, Option<Vec<u8>>>(14)?.map(|b| hex(&b)),
        decoded_from: r.get(15)?,
        live_video: None,
        offline: false,
    })
}
