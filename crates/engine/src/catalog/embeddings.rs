//! Vectors per (photo, model), embedding failures, and the active model.

use rusqlite::{params, OptionalExtension};

use super::{now_rfc3339, Catalog};
use crate::error::{EngineError, Result};
use crate::paths;

/// A model the catalog holds (or will hold) vectors for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModelRow {
    pub id: i64,
    /// Stable identity of the weights (`repo@revision` or `local:<hash>`).
    pub key: String,
    /// What the user asked for (registry name, repo id or folder).
    pub spec: String,
    pub dim: usize,
}

/// A photo waiting for a vector, with a readable file to decode it from.
#[derive(Debug, Clone)]
pub struct EmbedTask {
    pub photo_id: i64,
    pub path: std::path::PathBuf,
    pub orientation: u16,
}

const ACTIVE_MODEL: &str = "active_model";
const NEXT_MODEL: &str = "next_model";

/// Photos that have a readable file in an online folder.
const VISIBLE_PHOTO: &str = "EXISTS (SELECT 1 FROM files f JOIN roots r ON r.id = f.root_id
     WHERE f.photo_id = p.id AND f.status = 'ok' AND r.online = 1)";

pub fn vector_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn blob_to_vector(blob: &[u8]) -> Vec<f32> {
    blob.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Catalog {
    /// Registers a model (or updates its spec) and returns its row.
    pub fn upsert_model(&self, key: &str, spec: &str, dim: usize) -> Result<ModelRow> {
        if let Some(existing) = self.model_by_key(key)? {
            if existing.dim != dim {
                return Err(EngineError::Invalid(format!(
                    "model {key} was stored with {} dimensions but now has {dim}",
                    existing.dim
                )));
            }
            if existing.spec != spec {
                self.conn.execute(
                    "UPDATE models SET spec = ?1 WHERE id = ?2",
                    params![spec, existing.id],
                )?;
            }
            return Ok(ModelRow {
                spec: spec.to_string(),
                ..existing
            });
        }
        self.conn.execute(
            "INSERT INTO models (key, spec, dim, added_at) VALUES (?1, ?2, ?3, ?4)",
            params![key, spec, dim as i64, now_rfc3339()],
        )?;
        Ok(ModelRow {
            id: self.conn.last_insert_rowid(),
            key: key.to_string(),
            spec: spec.to_string(),
            dim,
        })
    }

    pub fn model_by_key(&self, key: &str) -> Result<Option<ModelRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, key, spec, dim FROM models WHERE key = ?1",
                [key],
                model_row,
            )
            .optional()?)
    }

    pub fn models(&self) -> Result<Vec<ModelRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, key, spec, dim FROM models ORDER BY id")?;
        let rows = stmt.query_map([], model_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The model chosen with `model use` or last used for embedding.
    pub fn active_model(&self) -> Result<Option<ModelRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT m.id, m.key, m.spec, m.dim FROM settings s
                 JOIN models m ON CAST(s.value AS INTEGER) = m.id WHERE s.key = ?1",
                [ACTIVE_MODEL],
                model_row,
            )
            .optional()?)
    }

    /// The model being embedded to replace the active one (`embed::switch`).
    pub fn next_model(&self) -> Result<Option<ModelRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT m.id, m.key, m.spec, m.dim FROM settings s
                 JOIN models m ON CAST(s.value AS INTEGER) = m.id WHERE s.key = ?1",
                [NEXT_MODEL],
                model_row,
            )
            .optional()?)
    }

    pub fn set_next_model(&self, model_id: Option<i64>) -> Result<()> {
        match model_id {
            Some(id) => self.set_setting(NEXT_MODEL, &id.to_string()),
            None => {
                self.conn
                    .execute("DELETE FROM settings WHERE key = ?1", [NEXT_MODEL])?;
                Ok(())
            }
        }
    }

    pub fn set_active_model(&self, model_id: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![ACTIVE_MODEL, model_id.to_string()],
        )?;
        Ok(())
    }

    /// Visible photos with neither a vector nor a recorded failure for the
    /// model, oldest first, each with one readable file.
    pub fn embed_tasks(&self, model_id: i64) -> Result<Vec<EmbedTask>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT p.id, p.orientation,
                    (SELECT f.path FROM files f JOIN roots r ON r.id = f.root_id
                     WHERE f.photo_id = p.id AND f.status = 'ok' AND r.online = 1
                     ORDER BY f.id LIMIT 1)
             FROM photos p
             WHERE {VISIBLE_PHOTO}
               AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = p.id AND e.model_id = ?1)
               AND NOT EXISTS (SELECT 1 FROM embed_errors x WHERE x.photo_id = p.id AND x.model_id = ?1)
             ORDER BY p.id"
        ))?;
        let rows = stmt.query_map([model_id], |r| {
            let path: Vec<u8> = r.get(2)?;
            Ok(EmbedTask {
                photo_id: r.get(0)?,
                orientation: r.get::<_, i64>(1)?.clamp(1, 8) as u16,
                path: paths::from_bytes(&path),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Visible photos still lacking a vector (failures excluded); with no
    /// model yet, every visible photo.
    pub fn count_pending_embeddings(&self, model_id: Option<i64>) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM photos p WHERE {VISIBLE_PHOTO}
               AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = p.id AND e.model_id = ?1)
               AND NOT EXISTS (SELECT 1 FROM embed_errors x WHERE x.photo_id = p.id AND x.model_id = ?1)"
        );
        Ok(self
            .conn
            .query_row(&sql, [model_id.unwrap_or(-1)], |r| r.get(0))?)
    }

    pub fn count_embeddings(&self, model_id: i64) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM embeddings WHERE model_id = ?1",
            [model_id],
            |r| r.get(0),
        )?)
    }

    /// Stores one batch of results in a single transaction, so a kill
    /// loses at most the batch in flight and never half of one.
    pub fn store_embeddings(&self, model_id: i64, results: &[(i64, EmbedOutcome)]) -> Result<()> {
        let tx = self.write_tx()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO embeddings (photo_id, model_id, vector) VALUES (?1, ?2, ?3)",
            )?;
            let mut clear = tx
                .prepare_cached("DELETE FROM embed_errors WHERE photo_id = ?1 AND model_id = ?2")?;
            let mut fail = tx.prepare_cached(
                "INSERT OR REPLACE INTO embed_errors (photo_id, model_id, reason, at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let now = now_rfc3339();
            for (photo_id, outcome) in results {
                // The photo may have been pruned by a concurrent scan.
                let exists: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM photos WHERE id = ?1)",
                    [photo_id],
                    |r| r.get(0),
                )?;
                if !exists {
                    continue;
                }
                match outcome {
                    EmbedOutcome::Vector(v) => {
                        put.execute(params![photo_id, model_id, vector_to_blob(v)])?;
                        clear.execute(params![photo_id, model_id])?;
                    }
                    EmbedOutcome::Failed(reason) => {
                        fail.execute(params![photo_id, model_id, reason, now])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets recorded failures so the next job tries those photos again.
    pub fn clear_embed_errors(&self, model_id: i64) -> Result<usize> {
        Ok(self
            .conn
            .execute("DELETE FROM embed_errors WHERE model_id = ?1", [model_id])?)
    }

    pub fn embedding(&self, photo_id: i64, model_id: i64) -> Result<Option<Vec<f32>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT vector FROM embeddings WHERE photo_id = ?1 AND model_id = ?2",
                [photo_id, model_id],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .optional()?
            .map(|b| blob_to_vector(&b)))
    }

    /// Failures for the model, as (path of a file of the photo, reason).
    pub fn embed_errors(&self, model_id: i64) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT COALESCE((SELECT f.display_path FROM files f WHERE f.photo_id = x.photo_id
                              ORDER BY f.id LIMIT 1), '#' || x.photo_id), x.reason
             FROM embed_errors x WHERE x.model_id = ?1 ORDER BY x.photo_id",
        )?;
        let rows = stmt.query_map([model_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// What the embedding job learned about one photo.
#[derive(Debug, Clone)]
pub enum EmbedOutcome {
    /// L2-normalised.
    Vector(Vec<f32>),
    Failed(String),
}

fn model_row(r: &rusqlite::Row) -> rusqlite::Result<ModelRow> {
    Ok(ModelRow {
        id: r.get(0)?,
        key: r.get(1)?,
        spec: r.get(2)?,
        dim: r.get::<_, i64>(3)? as usize,
    })
}
