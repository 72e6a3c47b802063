//! Tags: the tags on photos (`photo_tags`, source `auto`, `user` or
//! `imported`), rejections, user-defined tags, and the re-tag job's caches
//! (text prototypes, concept state, scored photos).

use std::collections::{HashMap, HashSet};

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use super::embeddings::{blob_to_vector, vector_to_blob};
use super::{now_rfc3339, Catalog};
use crate::error::Result;
use crate::paths;

/// Where a tag on a photo came from.
pub const SOURCE_AUTO: &str = "auto";
pub const SOURCE_USER: &str = "user";
pub const SOURCE_IMPORTED: &str = "imported";

/// A tag on a photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoTag {
    pub tag: String,
    /// The model's cosine for auto tags; `null` for user and imported ones.
    pub score: Option<f64>,
    pub source: String,
}

/// How many photos carry a tag, by source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
    pub auto: i64,
    pub user: i64,
    pub imported: i64,
    pub rejected: i64,
}

/// A tag a user created: a custom concept or a plain keyword.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagDef {
    pub tag: String,
    pub name: String,
    pub kind: String,
    pub description: Option<String>,
    pub parent: Option<String>,
}

/// Confirmed and rejected example vectors of one tag.
#[derive(Debug, Clone, Default)]
pub struct TagExamples {
    pub positives: Vec<Vec<f32>>,
    pub negatives: Vec<Vec<f32>>,
}

/// What one re-tag batch changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoTagDiff {
    pub added: usize,
    pub removed: usize,
    pub updated: usize,
    /// Photos whose set of tags changed.
    pub changed_photos: Vec<i64>,
}

/// Cached text prototypes: tag → (prompt signature, unit vector).
pub type CachedPrototypes = HashMap<String, (Vec<u8>, Vec<f32>)>;
/// Per-concept state of the last re-tag: tag → (signature, median, spread).
pub type ConceptStates = HashMap<String, (Vec<u8>, f32, f32)>;

impl Catalog {
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Tags on a photo (only those that are on), best auto score first,
    /// then user and imported ones by name.
    pub fn photo_tags(&self, photo_id: i64) -> Result<Vec<PhotoTag>> {
        let mut stmt = self.conn.prepare(
            "SELECT tag, score, source FROM photo_tags WHERE photo_id = ?1
             ORDER BY source = 'auto', score DESC, tag",
        )?;
        let rows = stmt.query_map([photo_id], |r| {
            Ok(PhotoTag {
                tag: r.get(0)?,
                score: r.get(1)?,
                source: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Tags the user removed from a photo.
    pub fn rejected_tags(&self, photo_id: i64) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT tag FROM tag_rejections WHERE photo_id = ?1 ORDER BY tag")?;
        let rows = stmt.query_map([photo_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The user puts `tag` on a photo: it becomes a user tag (confirming an
    /// auto tag, or lifting an earlier rejection). `implied` (its ancestors)
    /// are added as auto tags at once, unless present or rejected, so
    /// `tag:animal` finds a cat the moment it is tagged; the next re-tag
    /// gives them their scores.
    /// Returns whether the tag was on before (from any source).
    pub fn add_user_tag(&self, photo_id: i64, tag: &str, implied: &[String]) -> Result<bool> {
        let tx = self.write_tx()?;
        let was_on: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM photo_tags WHERE photo_id = ?1 AND tag = ?2)",
            params![photo_id, tag],
            |r| r.get(0),
        )?;
        tx.execute(
            "DELETE FROM tag_rejections WHERE photo_id = ?1 AND tag = ?2",
            params![photo_id, tag],
        )?;
        tx.execute(
            "INSERT INTO photo_tags (photo_id, tag, source, score) VALUES (?1, ?2, 'user', NULL)
             ON CONFLICT(photo_id, tag) DO UPDATE SET source = 'user', score = NULL",
            params![photo_id, tag],
        )?;
        for ancestor in implied {
            tx.execute(
                "INSERT OR IGNORE INTO photo_tags (photo_id, tag, source, score)
                 SELECT ?1, ?2, 'auto', NULL WHERE NOT EXISTS
                     (SELECT 1 FROM tag_rejections WHERE photo_id = ?1 AND tag = ?2)",
                params![photo_id, ancestor],
            )?;
        }
        tx.commit()?;
        Ok(was_on)
    }

    /// The user takes `tag` off a photo: the row goes, and a rejection
    /// keeps re-tagging from putting it back. Returns whether it was on.
    pub fn reject_tag(&self, photo_id: i64, tag: &str) -> Result<bool> {
        let tx = self.write_tx()?;
        let removed = tx.execute(
            "DELETE FROM photo_tags WHERE photo_id = ?1 AND tag = ?2",
            params![photo_id, tag],
        )?;
        tx.execute(
            "INSERT INTO tag_rejections (photo_id, tag, at) VALUES (?1, ?2, ?3)
             ON CONFLICT(photo_id, tag) DO UPDATE SET at = excluded.at",
            params![photo_id, tag, now_rfc3339()],
        )?;
        tx.commit()?;
        Ok(removed > 0)
    }

    /// Every tag in use or rejected, with counts, most used first.
    pub fn tag_counts(&self) -> Result<Vec<TagCount>> {
        let mut stmt = self.conn.prepare(
            "SELECT tag, SUM(n), SUM(a), SUM(u), SUM(i), SUM(r) FROM (
                SELECT tag, 1 AS n, source = 'auto' AS a, source = 'user' AS u,
                       source = 'imported' AS i, 0 AS r FROM photo_tags
                UNION ALL
                SELECT tag, 0, 0, 0, 0, 1 FROM tag_rejections)
             GROUP BY tag ORDER BY SUM(n) DESC, tag",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(TagCount {
                tag: r.get(0)?,
                count: r.get(1)?,
                auto: r.get(2)?,
                user: r.get(3)?,
                imported: r.get(4)?,
                rejected: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Creates or updates a user-defined tag.
    pub fn upsert_tag_def(&self, def: &TagDef) -> Result<()> {
        self.conn.execute(
            "INSERT INTO tag_defs (tag, name, kind, description, parent, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(tag) DO UPDATE SET name = excluded.name,
                kind = CASE WHEN excluded.kind = 'custom' THEN 'custom' ELSE tag_defs.kind END,
                description = COALESCE(excluded.description, tag_defs.description),
                parent = COALESCE(excluded.parent, tag_defs.parent)",
            params![
                def.tag,
                def.name,
                def.kind,
                def.description,
                def.parent,
                now_rfc3339()
            ],
        )?;
        Ok(())
    }

    /// The user's spelling of a plain keyword: it becomes the name shown
    /// and exported (custom tags keep the name they were created with).
    pub fn name_keyword(&self, tag: &str, name: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO tag_defs (tag, name, kind, created_at) VALUES (?1, ?2, 'keyword', ?3)
             ON CONFLICT(tag) DO UPDATE SET name = excluded.name WHERE tag_defs.kind = 'keyword'",
            params![tag, name, now_rfc3339()],
        )?;
        Ok(())
    }

    pub fn tag_defs(&self) -> Result<Vec<TagDef>> {
        let mut stmt = self
            .conn
            .prepare("SELECT tag, name, kind, description, parent FROM tag_defs ORDER BY tag")?;
        let rows = stmt.query_map([], |r| {
            Ok(TagDef {
                tag: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                description: r.get(3)?,
                parent: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Turns a custom tag back into a plain keyword: it is no longer
    /// assigned automatically, and photos the user tagged keep it.
    pub fn demote_custom_tag(&self, tag: &str) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE tag_defs SET kind = 'keyword' WHERE tag = ?1 AND kind = 'custom'",
            [tag],
        )? > 0)
    }

    /// Confirmed (user or imported) and rejected examples with a vector for
    /// the model, by tag.
    pub fn tag_examples(&self, model_id: i64) -> Result<HashMap<String, TagExamples>> {
        let mut out: HashMap<String, TagExamples> = HashMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT t.tag, e.vector FROM photo_tags t
             JOIN embeddings e ON e.photo_id = t.photo_id AND e.model_id = ?1
             WHERE t.source IN ('user', 'imported') ORDER BY t.tag, t.photo_id",
        )?;
        let rows = stmt.query_map([model_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        for row in rows {
            let (tag, blob) = row?;
            out.entry(tag)
                .or_default()
                .positives
                .push(blob_to_vector(&blob));
        }
        let mut stmt = self.conn.prepare(
            "SELECT x.tag, e.vector FROM tag_rejections x
             JOIN embeddings e ON e.photo_id = x.photo_id AND e.model_id = ?1
             ORDER BY x.tag, x.photo_id",
        )?;
        let rows = stmt.query_map([model_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        for row in rows {
            let (tag, blob) = row?;
            out.entry(tag)
                .or_default()
                .negatives
                .push(blob_to_vector(&blob));
        }
        Ok(out)
    }

    /// Cached text prototypes for a model: tag → (signature, vector).
    pub fn tag_prototypes(&self, model_id: i64) -> Result<CachedPrototypes> {
        let mut stmt = self
            .conn
            .prepare("SELECT tag, signature, vector FROM tag_prototypes WHERE model_id = ?1")?;
        let rows = stmt.query_map([model_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (tag, sig, blob) = row?;
            out.insert(tag, (sig, blob_to_vector(&blob)));
        }
        Ok(out)
    }

    pub fn store_tag_prototypes(
        &self,
        model_id: i64,
        rows: &[(String, Vec<u8>, Vec<f32>)],
    ) -> Result<()> {
        let tx = self.write_tx()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO tag_prototypes (model_id, tag, signature, vector)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (tag, sig, v) in rows {
                put.execute(params![model_id, tag, sig, vector_to_blob(v)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// What the last complete re-tag used per concept: tag → (signature,
    /// median, spread).
    pub fn tag_concept_states(&self, model_id: i64) -> Result<ConceptStates> {
        let mut stmt = self.conn.prepare(
            "SELECT tag, signature, median, spread FROM tag_concept_state WHERE model_id = ?1",
        )?;
        let rows = stmt.query_map([model_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, f64>(2)? as f32,
                    r.get::<_, f64>(3)? as f32,
                ),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces the concept state of a model (after a complete re-tag).
    pub fn store_tag_concept_states(
        &self,
        model_id: i64,
        rows: &[(String, Vec<u8>, f32, f32)],
    ) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute(
            "DELETE FROM tag_concept_state WHERE model_id = ?1",
            [model_id],
        )?;
        {
            let mut put = tx.prepare_cached(
                "INSERT INTO tag_concept_state (model_id, tag, signature, median, spread)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (tag, sig, median, spread) in rows {
                put.execute(params![model_id, tag, sig, median, spread])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets which photos were scored, so the next re-tag visits all.
    pub fn clear_tag_scored(&self, model_id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM tag_scored WHERE model_id = ?1", [model_id])?;
        Ok(())
    }

    pub fn count_tag_unscored(&self, model_id: i64) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM embeddings e WHERE e.model_id = ?1
               AND NOT EXISTS (SELECT 1 FROM tag_scored s WHERE s.photo_id = e.photo_id AND s.model_id = ?1)",
            [model_id],
            |r| r.get(0),
        )?)
    }

    /// Up to `max` vectors of the model spread evenly over the library (by
    /// photo id), for the per-concept statistics.
    pub fn sample_embeddings(&self, model_id: i64, max: usize) -> Result<Vec<Vec<f32>>> {
        let n = self.count_embeddings(model_id)?.max(0) as usize;
        let step = n.div_ceil(max.max(1)).max(1) as i64;
        let mut stmt = self.conn.prepare(
            "SELECT vector FROM (SELECT vector, ROW_NUMBER() OVER (ORDER BY photo_id) AS k
                                 FROM embeddings WHERE model_id = ?1)
             WHERE (k - 1) % ?2 = 0",
        )?;
        let rows = stmt.query_map(params![model_id, step], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(blob_to_vector(&row?));
        }
        Ok(out)
    }

    /// The next page of (photo id, vector) after `after_id`: every photo
    /// with a vector, or only those the re-tag has not scored yet.
    pub fn tag_work_page(
        &self,
        model_id: i64,
        after_id: i64,
        limit: usize,
        only_unscored: bool,
    ) -> Result<Vec<(i64, Vec<f32>)>> {
        let filter = if only_unscored {
            "AND NOT EXISTS (SELECT 1 FROM tag_scored s WHERE s.photo_id = e.photo_id AND s.model_id = ?1)"
        } else {
            ""
        };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT e.photo_id, e.vector FROM embeddings e
             WHERE e.model_id = ?1 AND e.photo_id > ?2 {filter}
             ORDER BY e.photo_id LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![model_id, after_id, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, blob) = row?;
            out.push((id, blob_to_vector(&blob)));
        }
        Ok(out)
    }

    /// Rejections of these photos: photo → tags.
    pub fn rejections_for(&self, ids: &[i64]) -> Result<HashMap<i64, HashSet<String>>> {
        let mut out: HashMap<i64, HashSet<String>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let mut stmt = self.conn.prepare(&format!(
                "SELECT photo_id, tag FROM tag_rejections WHERE photo_id IN ({list})"
            ))?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, tag) = row?;
                out.entry(id).or_default().insert(tag);
            }
        }
        Ok(out)
    }

    /// User and imported tags of these photos: photo → tags.
    pub fn confirmed_for(&self, ids: &[i64]) -> Result<HashMap<i64, HashSet<String>>> {
        let mut out: HashMap<i64, HashSet<String>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let mut stmt = self.conn.prepare(&format!(
                "SELECT photo_id, tag FROM photo_tags
                 WHERE source IN ('user', 'imported') AND photo_id IN ({list})"
            ))?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, tag) = row?;
                out.entry(id).or_default().insert(tag);
            }
        }
        Ok(out)
    }

    /// Makes each photo's auto tags exactly `desired` (tag, score), in one
    /// transaction: auto rows no longer wanted go, new ones come, scores
    /// move. User and imported rows and rejected tags are never touched.
    /// Each photo is then marked scored for the model.
    pub fn apply_auto_tags(
        &self,
        model_id: i64,
        batch: &[(i64, Vec<(String, f32)>)],
    ) -> Result<AutoTagDiff> {
        let tx = self.write_tx()?;
        let mut diff = AutoTagDiff::default();
        {
            let mut current =
                tx.prepare_cached("SELECT tag, source, score FROM photo_tags WHERE photo_id = ?1")?;
            let mut rejected =
                tx.prepare_cached("SELECT tag FROM tag_rejections WHERE photo_id = ?1")?;
            let mut delete = tx.prepare_cached(
                "DELETE FROM photo_tags WHERE photo_id = ?1 AND tag = ?2 AND source = 'auto'",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO photo_tags (photo_id, tag, source, score) VALUES (?1, ?2, 'auto', ?3)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE photo_tags SET score = ?3 WHERE photo_id = ?1 AND tag = ?2 AND source = 'auto'",
            )?;
            let mut scored = tx.prepare_cached(
                "INSERT OR IGNORE INTO tag_scored (photo_id, model_id) VALUES (?1, ?2)",
            )?;
            for (photo_id, desired) in batch {
                let before = diff.added + diff.removed;
                let rows: Vec<(String, String, Option<f64>)> = current
                    .query_map([photo_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<_, _>>()?;
                let rejected: HashSet<String> = rejected
                    .query_map([photo_id], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let want: HashMap<&str, f32> =
                    desired.iter().map(|(t, s)| (t.as_str(), *s)).collect();
                for (tag, source, score) in &rows {
                    if source != SOURCE_AUTO {
                        continue;
                    }
                    match want.get(tag.as_str()) {
                        None => {
                            delete.execute(params![photo_id, tag])?;
                            diff.removed += 1;
                        }
                        Some(&s) => {
                            if score.is_none_or(|old| (old - s as f64).abs() > 1e-5) {
                                update.execute(params![photo_id, tag, s as f64])?;
                                diff.updated += 1;
                            }
                        }
                    }
                }
                let present: HashSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
                for (tag, score) in desired {
                    if present.contains(tag.as_str()) || rejected.contains(tag) {
                        continue;
                    }
                    insert.execute(params![photo_id, tag, *score as f64])?;
                    diff.added += 1;
                }
                if diff.added + diff.removed != before {
                    diff.changed_photos.push(*photo_id);
                }
                // The photo may have been pruned meanwhile.
                let exists: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM photos WHERE id = ?1)",
                    [photo_id],
                    |r| r.get(0),
                )?;
                if exists {
                    scored.execute(params![photo_id, model_id])?;
                }
            }
        }
        tx.commit()?;
        Ok(diff)
    }

    /// Drops auto tags of concepts that no longer exist. Returns the
    /// affected photo ids and the number of rows removed.
    pub fn remove_auto_tags(&self, tags: &[String]) -> Result<(Vec<i64>, usize)> {
        let tx = self.write_tx()?;
        let mut ids = Vec::new();
        let mut removed = 0;
        {
            let mut find = tx.prepare_cached(
                "SELECT photo_id FROM photo_tags WHERE tag = ?1 AND source = 'auto'",
            )?;
            let mut delete =
                tx.prepare_cached("DELETE FROM photo_tags WHERE tag = ?1 AND source = 'auto'")?;
            for tag in tags {
                let found: Vec<i64> = find
                    .query_map([tag], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                ids.extend(found);
                removed += delete.execute([tag])?;
            }
        }
        tx.commit()?;
        ids.sort_unstable();
        ids.dedup();
        Ok((ids, removed))
    }

    /// Readable files of a photo in online folders (where sidecars go).
    pub fn photo_files(&self, photo_id: i64) -> Result<Vec<std::path::PathBuf>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.path FROM files f JOIN roots r ON r.id = f.root_id
             WHERE f.photo_id = ?1 AND f.status = 'ok' AND r.online = 1 ORDER BY f.id",
        )?;
        let rows = stmt.query_map([photo_id], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(paths::from_bytes(&row?));
        }
        Ok(out)
    }

    /// Photos that have tags or rejections.
    pub fn tagged_photo_ids(&self) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare(
            "SELECT photo_id FROM photo_tags UNION SELECT photo_id FROM tag_rejections ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Puts keywords read from a file's metadata on its photo as imported
/// tags (`(tag, Some(display name))` for a keyword the vocabulary does not
/// know, `(tag, None)` for a concept), inside the scan's transaction. An imported keyword replaces an
/// auto tag of the same name, never a user decision or a rejection.
pub(crate) fn import_keywords(
    tx: &Transaction,
    photo_id: i64,
    keywords: &[(String, Option<String>)],
) -> Result<()> {
    let now = now_rfc3339();
    for (tag, name) in keywords {
        let rejected: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM tag_rejections WHERE photo_id = ?1 AND tag = ?2)",
            params![photo_id, tag],
            |r| r.get(0),
        )?;
        if rejected {
            continue;
        }
        if let Some(name) = name {
            tx.execute(
                "INSERT OR IGNORE INTO tag_defs (tag, name, kind, created_at) VALUES (?1, ?2, 'keyword', ?3)",
                params![tag, name, now],
            )?;
        }
        tx.execute(
            "INSERT INTO photo_tags (photo_id, tag, source, score) VALUES (?1, ?2, 'imported', NULL)
             ON CONFLICT(photo_id, tag) DO UPDATE SET source = 'imported', score = NULL
             WHERE photo_tags.source = 'auto'",
            params![photo_id, tag],
        )?;
    }
    Ok(())
}
