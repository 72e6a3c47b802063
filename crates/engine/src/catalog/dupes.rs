//! Catalog side of duplicate handling: the photos that can be grouped,
//! remembered decisions, the resolution log, and the metadata merge when a
//! duplicate is removed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};

use super::{blob_to_vector, now_rfc3339, Catalog};
use crate::error::Result;
use crate::paths;

/// A readable file of a photo in an online folder.
#[derive(Debug, Clone, PartialEq)]
pub struct DupeFile {
    pub id: i64,
    pub path: PathBuf,
    pub display: String,
    pub size: u64,
    pub mtime_ns: i64,
}

/// What grouping and the keep suggestion need to know about a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct DupePhoto {
    pub id: i64,
    pub hash: [u8; 32],
    pub width: u32,
    pub height: u32,
    pub format: String,
    pub taken_at: Option<String>,
    /// The date comes from EXIF (not the file's modification time).
    pub exif_date: bool,
    /// Any EXIF: a date or a camera.
    pub has_exif: bool,
    pub has_gps: bool,
    pub phash: Option<Vec<u8>>,
    pub pixel_hash: Option<[u8; 32]>,
    pub sharpness: Option<f32>,
    /// 32-byte perceptual hashes of sub-regions, concatenated.
    pub crop_hashes: Option<Vec<u8>>,
    /// Why the picture is too bare to match by hashes or crops (a tiny
    /// placeholder, blank, partly decoded); `None` when it has enough
    /// content, or was not checked yet.
    pub lacks_content: Option<String>,
    /// EXIF orientation (1–8), to decode a file upright without reading it
    /// twice.
    pub orientation: u16,
    /// Readable files in online folders, oldest first.
    pub files: Vec<DupeFile>,
}

/// A remembered "not duplicates" (exact, near) or "keep all" (similar)
/// decision: the set of photo identities it covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DupeDecision {
    pub id: i64,
    pub tier: String,
    pub kind: String,
    pub group_id: String,
    #[serde(skip)]
    pub hashes: Vec<[u8; 32]>,
    pub created_at: String,
}

/// A file moved to the trash by a resolution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TrashedFile {
    #[serde(rename = "path")]
    pub display: String,
    #[serde(skip)]
    pub path: PathBuf,
    #[serde(skip)]
    pub photo_hash: [u8; 32],
    pub size: u64,
    pub trashed_at: String,
}

/// One resolution, as `dupes history` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DupeAction {
    pub id: i64,
    pub group: String,
    pub tier: String,
    pub kept: String,
    pub reason: String,
    pub created_at: String,
    pub undone_at: Option<String>,
    pub files: Vec<TrashedFile>,
}

/// The start of a resolution: what it keeps, and the files it is about to
/// move to the trash, written before anything moves.
pub struct ResolutionStart<'a> {
    pub group_id: &'a str,
    pub tier: &'a str,
    pub kept_photo: i64,
    pub kept_path: &'a str,
    pub reason: &'a str,
    /// Files to move: (path, display path, photo hash, size).
    pub files: &'a [(PathBuf, String, [u8; 32], u64)],
}

/// A resolution a crash left unfinished.
#[derive(Debug, Clone)]
pub struct PendingAction {
    pub id: i64,
    pub created_at: String,
    /// The process carrying it out (it may still be running).
    pub owner_pid: Option<u32>,
    /// Files whose move was intended but not recorded as done.
    pub intents: Vec<PathBuf>,
}

fn hash32(bytes: Vec<u8>) -> [u8; 32] {
    let mut h = [0u8; 32];
    if bytes.len() == 32 {
        h.copy_from_slice(&bytes);
    }
    h
}

impl Catalog {
    /// Every photo with a readable file in an online folder, with its files.
    pub fn dupe_photos(&self) -> Result<Vec<DupePhoto>> {
        let mut stmt = self.conn.prepare(
            "SELECT p.id, p.hash, p.width, p.height, p.format, p.taken_at, p.taken_at_source,
                    p.camera_make, p.camera_model, p.gps_lat, p.phash, p.pixel_hash, p.sharpness,
                    p.crop_hashes, f.id, f.path, f.display_path, f.size, f.mtime_ns,
                    p.content, p.orientation
               FROM photos p
               JOIN files f ON f.photo_id = p.id AND f.status = 'ok'
               JOIN roots r ON r.id = f.root_id AND r.online = 1
              ORDER BY p.id, f.mtime_ns, f.id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out: Vec<DupePhoto> = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let file = DupeFile {
                id: r.get(14)?,
                path: paths::from_bytes(&r.get::<_, Vec<u8>>(15)?),
                display: r.get(16)?,
                size: r.get::<_, i64>(17)?.max(0) as u64,
                mtime_ns: r.get(18)?,
            };
            if let Some(last) = out.last_mut().filter(|p| p.id == id) {
                last.files.push(file);
                continue;
            }
            let source: Option<String> = r.get(6)?;
            let exif_date = source.as_deref().is_some_and(|s| s.starts_with("exif:"));
            let camera: Option<String> = r.get(7)?;
            let model: Option<String> = r.get(8)?;
            out.push(DupePhoto {
                id,
                hash: hash32(r.get(1)?),
                width: r.get(2)?,
                height: r.get(3)?,
                format: r.get(4)?,
                taken_at: r.get(5)?,
                exif_date,
                has_exif: exif_date || camera.is_some() || model.is_some(),
                has_gps: r.get::<_, Option<f64>>(9)?.is_some(),
                phash: r.get(10)?,
                pixel_hash: r.get::<_, Option<Vec<u8>>>(11)?.map(hash32),
                sharpness: r.get::<_, Option<f64>>(12)?.map(|s| s as f32),
                crop_hashes: r.get(13)?,
                lacks_content: r.get::<_, Option<String>>(19)?.filter(|c| !c.is_empty()),
                orientation: r.get::<_, Option<i64>>(20)?.unwrap_or(1).clamp(1, 8) as u16,
                files: vec![file],
            });
        }
        Ok(out)
    }

    /// Every vector of `model_id`, by photo id.
    pub fn all_vectors(&self, model_id: i64) -> Result<HashMap<i64, Vec<f32>>> {
        let mut stmt = self
            .conn
            .prepare("SELECT photo_id, vector FROM embeddings WHERE model_id = ?1")?;
        let rows = stmt.query_map([model_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (id, blob) = row?;
            out.insert(id, blob_to_vector(&blob));
        }
        Ok(out)
    }

    pub fn dupe_decisions(&self) -> Result<Vec<DupeDecision>> {
        let mut stmt = self.conn.prepare(
            "SELECT d.id, d.tier, d.kind, d.group_id, d.created_at, m.photo_hash
               FROM dupe_decisions d JOIN dupe_decision_members m ON m.decision_id = d.id
              ORDER BY d.id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out: Vec<DupeDecision> = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let hash = hash32(r.get(5)?);
            if let Some(last) = out.last_mut().filter(|d| d.id == id) {
                last.hashes.push(hash);
                continue;
            }
            out.push(DupeDecision {
                id,
                tier: r.get(1)?,
                kind: r.get(2)?,
                group_id: r.get(3)?,
                created_at: r.get(4)?,
                hashes: vec![hash],
            });
        }
        Ok(out)
    }

    /// Remembers a decision about a set of photos (idempotent: the same
    /// tier, kind and set is stored once).
    pub fn record_dupe_decision(
        &self,
        tier: &str,
        kind: &str,
        group_id: &str,
        hashes: &[[u8; 32]],
    ) -> Result<i64> {
        let tx = self.write_tx()?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM dupe_decisions WHERE tier = ?1 AND kind = ?2 AND group_id = ?3",
                params![tier, kind, group_id],
                |r| r.get(0),
            )
            .optional()?;
        let id = match existing {
            Some(id) => id,
            None => {
                tx.execute(
                    "INSERT INTO dupe_decisions (tier, kind, group_id, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![tier, kind, group_id, now_rfc3339()],
                )?;
                tx.last_insert_rowid()
            }
        };
        {
            let mut member = tx.prepare_cached(
                "INSERT OR IGNORE INTO dupe_decision_members (decision_id, photo_hash) VALUES (?1, ?2)",
            )?;
            for h in hashes {
                member.execute(params![id, &h[..]])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// Records a resolution whose files are now in the trash: forgets those
    /// locations, moves the metadata of photos left without a file onto the
    /// kept photo, and logs the action. One transaction.
    /// Writes the intent of a resolution: a `pending` action with one
    /// `intent` row per file, before any file moves.
    pub fn begin_dupe_resolution(&self, rec: &ResolutionStart) -> Result<i64> {
        let tx = self.write_tx()?;
        let now = now_rfc3339();
        let kept_hash: Vec<u8> = tx.query_row(
            "SELECT hash FROM photos WHERE id = ?1",
            [rec.kept_photo],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO dupe_actions (group_id, tier, kept_hash, kept_path, reason, created_at,
                state, kept_photo, owner_pid)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8)",
            params![
                rec.group_id,
                rec.tier,
                kept_hash,
                rec.kept_path,
                rec.reason,
                now,
                rec.kept_photo,
                std::process::id()
            ],
        )?;
        let action = tx.last_insert_rowid();
        {
            let mut intent = tx.prepare_cached(
                "INSERT OR REPLACE INTO dupe_action_files
                    (action_id, path, display_path, photo_hash, size, trashed_at, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'intent')",
            )?;
            for (path, display, hash, size) in rec.files {
                intent.execute(params![
                    action,
                    paths::to_bytes(path),
                    display,
                    &hash[..],
                    *size as i64,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(action)
    }

    /// One file of `action` is in the trash: recorded, and forgotten as a
    /// location of its photo.
    pub fn dupe_file_trashed(&self, action: i64, path: &Path) -> Result<()> {
        let tx = self.write_tx()?;
        let bytes = paths::to_bytes(path);
        tx.execute(
            "UPDATE dupe_action_files SET state = 'trashed', trashed_at = ?3
              WHERE action_id = ?1 AND path = ?2",
            params![action, bytes, now_rfc3339()],
        )?;
        tx.execute("DELETE FROM files WHERE path = ?1", [&bytes])?;
        tx.commit()?;
        Ok(())
    }

    /// One file of `action` was not moved after all.
    pub fn dupe_file_not_moved(&self, action: i64, path: &Path) -> Result<()> {
        self.conn.execute(
            "DELETE FROM dupe_action_files WHERE action_id = ?1 AND path = ?2",
            params![action, paths::to_bytes(path)],
        )?;
        Ok(())
    }

    /// Ends a resolution: the photos left without any file pass their user
    /// tags and decisions to the kept photo, and the action is `done` (or
    /// removed, when nothing moved). Returns whether it is kept.
    pub fn finish_dupe_resolution(&self, action: i64) -> Result<bool> {
        let tx = self.write_tx()?;
        let moved: i64 = tx.query_row(
            "SELECT count(*) FROM dupe_action_files WHERE action_id = ?1 AND state = 'trashed'",
            [action],
            |r| r.get(0),
        )?;
        if moved == 0 {
            tx.execute("DELETE FROM dupe_actions WHERE id = ?1", [action])?;
            tx.commit()?;
            return Ok(false);
        }
        let kept: Option<i64> = tx.query_row(
            "SELECT kept_photo FROM dupe_actions WHERE id = ?1",
            [action],
            |r| r.get(0),
        )?;
        let emptied: Vec<i64> = {
            let mut stmt = tx.prepare(
                "SELECT DISTINCT p.id FROM dupe_action_files a JOIN photos p ON p.hash = a.photo_hash
                  WHERE a.action_id = ?1 AND a.state = 'trashed'
                    AND NOT EXISTS (SELECT 1 FROM files f WHERE f.photo_id = p.id)",
            )?;
            let rows = stmt.query_map([action], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if let Some(kept) = kept {
            for removed in emptied.into_iter().filter(|&p| p != kept) {
                merge_photo_metadata(&tx, kept, removed)?;
            }
        }
        tx.execute(
            "UPDATE dupe_actions SET state = 'done' WHERE id = ?1",
            [action],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Resolutions a crash left `pending`, with their unfinished files.
    pub fn pending_dupe_actions(&self) -> Result<Vec<PendingAction>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, created_at, owner_pid FROM dupe_actions WHERE state = 'pending'
              ORDER BY id",
        )?;
        let mut out: Vec<PendingAction> = stmt
            .query_map([], |r| {
                Ok(PendingAction {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    owner_pid: r.get(2)?,
                    intents: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut files = self.conn.prepare(
            "SELECT path FROM dupe_action_files WHERE action_id = ?1 AND state = 'intent'",
        )?;
        for a in &mut out {
            a.intents = files
                .query_map([a.id], |r| Ok(paths::from_bytes(&r.get::<_, Vec<u8>>(0)?)))?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(out)
    }

    pub fn dupe_actions(&self) -> Result<Vec<DupeAction>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, group_id, tier, kept_path, reason, created_at, undone_at
               FROM dupe_actions WHERE state = 'done' ORDER BY id",
        )?;
        let mut actions: Vec<DupeAction> = stmt
            .query_map([], |r| {
                Ok(DupeAction {
                    id: r.get(0)?,
                    group: r.get(1)?,
                    tier: r.get(2)?,
                    kept: r.get(3)?,
                    reason: r.get(4)?,
                    created_at: r.get(5)?,
                    undone_at: r.get(6)?,
                    files: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut files = self.conn.prepare(
            "SELECT path, display_path, photo_hash, size, trashed_at FROM dupe_action_files
              WHERE action_id = ?1 AND state = 'trashed' ORDER BY display_path",
        )?;
        for a in &mut actions {
            a.files = files
                .query_map([a.id], |r| {
                    Ok(TrashedFile {
                        path: paths::from_bytes(&r.get::<_, Vec<u8>>(0)?),
                        display: r.get(1)?,
                        photo_hash: hash32(r.get(2)?),
                        size: r.get::<_, i64>(3)?.max(0) as u64,
                        trashed_at: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(actions)
    }

    pub fn mark_dupe_action_undone(&self, id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE dupe_actions SET undone_at = ?2 WHERE id = ?1 AND undone_at IS NULL",
            params![id, now_rfc3339()],
        )?;
        Ok(())
    }
}

/// Moves what users attach to a photo from `removed` onto `kept` when the
/// removed one leaves the library as a duplicate, as Immich does:
/// - the user's and imported tags (an automatic tag on the kept photo is
///   upgraded; a tag the kept photo's user rejected is not re-added).
///   Automatic tags are not copied: the tagger computes the kept photo's own;
/// - tag rejections (negative examples), unless the kept photo's user put
///   that tag on it; automatic tags they contradict are dropped;
/// - duplicate decisions: every remembered set that named the removed photo
///   now names the kept one too.
///
/// The single place to extend when photos gain more user data.
pub fn merge_photo_metadata(conn: &rusqlite::Connection, kept: i64, removed: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO photo_tags (photo_id, tag, source, score)
         SELECT ?1, t.tag, t.source, t.score FROM photo_tags t
          WHERE t.photo_id = ?2 AND t.source != 'auto'
            AND NOT EXISTS (SELECT 1 FROM tag_rejections r WHERE r.photo_id = ?1 AND r.tag = t.tag)
         ON CONFLICT (photo_id, tag) DO UPDATE SET source = excluded.source, score = excluded.score
          WHERE photo_tags.source = 'auto'",
        params![kept, removed],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO tag_rejections (photo_id, tag, at)
         SELECT ?1, r.tag, r.at FROM tag_rejections r
          WHERE r.photo_id = ?2
            AND NOT EXISTS (SELECT 1 FROM photo_tags t
                             WHERE t.photo_id = ?1 AND t.tag = r.tag AND t.source != 'auto')",
        params![kept, removed],
    )?;
    conn.execute(
        "DELETE FROM photo_tags WHERE photo_id = ?1 AND source = 'auto'
            AND tag IN (SELECT tag FROM tag_rejections WHERE photo_id = ?1)",
        [kept],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO dupe_decision_members (decision_id, photo_hash)
         SELECT m.decision_id, (SELECT hash FROM photos WHERE id = ?1)
           FROM dupe_decision_members m
          WHERE m.photo_hash = (SELECT hash FROM photos WHERE id = ?2)",
        params![kept, removed],
    )?;
    Ok(())
}

/// A photo `p` lacking region hashes that has a readable file in an online
/// folder (the rest wait until their folder is back).
const MISSING_REGION_HASHES: &str = "(p.crop_hashes IS NULL OR p.content IS NULL) AND EXISTS (
    SELECT 1 FROM files f JOIN roots r ON r.id = f.root_id
     WHERE f.photo_id = p.id AND f.status = 'ok' AND r.online = 1)";

/// A photo to analyse again for duplicates (see
/// [`Catalog::photos_missing_region_hashes`]).
#[derive(Debug, Clone)]
pub struct RegionWork {
    pub photo_id: i64,
    pub orientation: u16,
    pub width: u32,
    pub height: u32,
    pub format: String,
    /// A readable file of the photo.
    pub path: PathBuf,
}

/// What analysing a photo again found.
#[derive(Debug, Clone)]
pub struct RegionFacts {
    pub photo_id: i64,
    pub sharpness: Option<f32>,
    /// Empty when the file no longer decodes (so it is not retried).
    pub crop_hashes: Vec<u8>,
    /// As `photos.content`: '' enough, else why not.
    pub content: String,
}

impl Catalog {
    /// Photos catalogued before region hashes existed (schema v6), to be
    /// analysed again by the duplicates job: `(photo id, orientation, a
    /// readable file)`. Only photos with a file in an online folder; the
    /// rest wait until their folder is back.
    pub fn photos_missing_region_hashes(&self, limit: usize) -> Result<Vec<RegionWork>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT p.id, p.orientation, p.width, p.height, p.format,
                    (SELECT f.path FROM files f JOIN roots r ON r.id = f.root_id
                      WHERE f.photo_id = p.id AND f.status = 'ok' AND r.online = 1
                      ORDER BY f.id LIMIT 1)
             FROM photos p WHERE {MISSING_REGION_HASHES}
             ORDER BY p.id LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(RegionWork {
                photo_id: r.get(0)?,
                orientation: r.get::<_, i64>(1)?.clamp(1, 8) as u16,
                width: r.get(2)?,
                height: r.get(3)?,
                format: r.get(4)?,
                path: paths::from_bytes(&r.get::<_, Vec<u8>>(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn count_photos_missing_region_hashes(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            &format!("SELECT count(*) FROM photos p WHERE {MISSING_REGION_HASHES}"),
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Stores what [`photos_missing_region_hashes`] asked for. An empty
    /// `crop_hashes` marks a photo whose file could not be decoded again,
    /// so it is not retried on every run.
    pub fn set_region_facts(&self, facts: &[RegionFacts]) -> Result<()> {
        let tx = self.write_tx()?;
        {
            let mut stmt = tx.prepare(
                "UPDATE photos SET sharpness = coalesce(?2, sharpness), crop_hashes = ?3,
                        content = ?4
                 WHERE id = ?1",
            )?;
            for f in facts {
                stmt.execute(params![
                    f.photo_id,
                    f.sharpness.map(f64::from),
                    f.crop_hashes,
                    f.content
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
