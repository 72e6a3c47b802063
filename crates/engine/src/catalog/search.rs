//! Read side of search: what the in-memory index loads and the rows
//! behind a page of results (the index follows `changelog`).

use std::collections::HashMap;

use super::embeddings::blob_to_vector;
use super::Catalog;
use crate::error::Result;

/// Everything the index keeps about one visible photo.
#[derive(Debug, Clone)]
pub struct IndexRow {
    pub photo_id: i64,
    /// The active model's vector, when the photo has one.
    pub vector: Option<Vec<f32>>,
    pub taken_at: Option<String>,
    pub camera: String,
    pub has_gps: bool,
    pub format: String,
    /// Folder names from each file's root down to its directory.
    pub folders: Vec<String>,
    pub tags: Vec<String>,
}

/// Receives a streamed index load: first every photo (folders and tags
/// empty), then per photo its folder names, then its tags. Photos the sink
/// was not given in the first pass must be ignored in the later ones.
pub trait IndexSink {
    fn photo(&mut self, row: IndexRow);
    fn folders(&mut self, photo_id: i64, names: Vec<String>);
    fn tags(&mut self, photo_id: i64, tags: Vec<String>);
}

/// Collects a streamed load into rows.
#[derive(Default)]
struct CollectRows {
    rows: Vec<IndexRow>,
    slots: HashMap<i64, usize>,
}

impl CollectRows {
    fn finish(self) -> Vec<IndexRow> {
        self.rows
    }
}

impl IndexSink for CollectRows {
    fn photo(&mut self, row: IndexRow) {
        self.slots.insert(row.photo_id, self.rows.len());
        self.rows.push(row);
    }

    fn folders(&mut self, photo_id: i64, names: Vec<String>) {
        if let Some(&slot) = self.slots.get(&photo_id) {
            let folders = &mut self.rows[slot].folders;
            for name in names {
                if !folders.contains(&name) {
                    folders.push(name);
                }
            }
        }
    }

    fn tags(&mut self, photo_id: i64, tags: Vec<String>) {
        if let Some(&slot) = self.slots.get(&photo_id) {
            self.rows[slot].tags.extend(tags);
        }
    }
}

/// Photos with a readable file in an online folder.
const VISIBLE: &str = "EXISTS (SELECT 1 FROM files f JOIN roots r ON r.id = f.root_id
     WHERE f.photo_id = p.id AND f.status = 'ok' AND r.online = 1)";

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

impl Catalog {
    /// Index rows of visible photos: all of them, or only those in `only`
    /// (ids missing from the answer are no longer visible). Collects
    /// everything; the index itself streams with [`Self::stream_index_rows`].
    pub fn index_rows(&self, model_id: i64, only: Option<&[i64]>) -> Result<Vec<IndexRow>> {
        let mut rows = CollectRows::default();
        self.stream_index_rows(model_id, only, &mut rows)?;
        Ok(rows.finish())
    }

    /// Feeds `sink` every visible photo (without folders and tags), then
    /// each photo's folder names, then its tags, one photo at a time. No
    /// more than one f32 vector is held at once, which keeps a million-photo
    /// load from passing through gigabytes of temporary rows.
    pub fn stream_index_rows(
        &self,
        model_id: i64,
        only: Option<&[i64]>,
        sink: &mut dyn IndexSink,
    ) -> Result<()> {
        match only {
            None => self.stream_where(model_id, "1", sink),
            Some(ids) => ids.chunks(500).try_for_each(|chunk| {
                self.stream_where(model_id, &format!("p.id IN ({})", id_list(chunk)), sink)
            }),
        }
    }

    fn stream_where(&self, model_id: i64, clause: &str, sink: &mut dyn IndexSink) -> Result<()> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT p.id, p.taken_at, TRIM(COALESCE(p.camera_make, '') || ' ' || COALESCE(p.camera_model, '')),
                    p.gps_lat IS NOT NULL, p.format, e.vector
             FROM photos p LEFT JOIN embeddings e ON e.photo_id = p.id AND e.model_id = ?1
             WHERE {VISIBLE} AND {clause} ORDER BY p.id"
        ))?;
        let mut rows = stmt.query([model_id])?;
        while let Some(r) = rows.next()? {
            sink.photo(IndexRow {
                photo_id: r.get(0)?,
                taken_at: r.get(1)?,
                camera: r.get(2)?,
                has_gps: r.get(3)?,
                format: r.get(4)?,
                vector: r
                    .get_ref(5)?
                    .as_blob_or_null()
                    .map_err(rusqlite::Error::from)?
                    .map(blob_to_vector),
                folders: Vec::new(),
                tags: Vec::new(),
            });
        }
        // Files of visible photos only: a photo whose row was not fed
        // above is ignored by the sink.
        let mut stmt = self.conn.prepare(&format!(
            "SELECT f.photo_id, f.display_path, r.display_path FROM photos p
             JOIN files f ON f.photo_id = p.id JOIN roots r ON r.id = f.root_id
             WHERE f.status = 'ok' AND r.online = 1 AND {clause} ORDER BY f.photo_id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut current: Option<(i64, Vec<String>)> = None;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let names = folder_names(&r.get::<_, String>(1)?, &r.get::<_, String>(2)?);
            match &mut current {
                Some((cur, acc)) if *cur == id => acc.extend(names),
                _ => {
                    if let Some((cur, acc)) = current.replace((id, names)) {
                        sink.folders(cur, acc);
                    }
                }
            }
        }
        if let Some((cur, acc)) = current {
            sink.folders(cur, acc);
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT p.id, t.tag FROM photos p JOIN photo_tags t ON t.photo_id = p.id
             WHERE {clause} ORDER BY p.id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut current: Option<(i64, Vec<String>)> = None;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let tag: String = r.get(1)?;
            match &mut current {
                Some((cur, acc)) if *cur == id => acc.push(tag),
                _ => {
                    if let Some((cur, acc)) = current.replace((id, vec![tag])) {
                        sink.tags(cur, acc);
                    }
                }
            }
        }
        if let Some((cur, acc)) = current {
            sink.tags(cur, acc);
        }
        Ok(())
    }

    /// Exact vectors of these photos for the model (for re-ranking).
    pub fn vectors(&self, model_id: i64, ids: &[i64]) -> Result<HashMap<i64, Vec<f32>>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT photo_id, vector FROM embeddings WHERE model_id = ?1 AND photo_id IN ({})",
                id_list(chunk)
            ))?;
            let rows = stmt.query_map([model_id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            for row in rows {
                let (id, blob) = row?;
                out.insert(id, blob_to_vector(&blob));
            }
        }
        Ok(out)
    }

    /// For a page of results: one readable path and the date of each photo
    /// that is still visible. Photos that vanished are simply absent.
    pub fn hit_rows(&self, ids: &[i64]) -> Result<HashMap<i64, HitRow>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT p.id, (SELECT f.display_path FROM files f JOIN roots r ON r.id = f.root_id
                               WHERE f.photo_id = p.id AND f.status = 'ok' AND r.online = 1
                               ORDER BY f.id LIMIT 1), p.taken_at, p.width, p.height
                 FROM photos p WHERE p.id IN ({}) AND {VISIBLE}",
                id_list(chunk)
            ))?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    HitRow {
                        path: r.get(1)?,
                        taken_at: r.get(2)?,
                        width: r.get(3)?,
                        height: r.get(4)?,
                    },
                ))
            })?;
            for row in rows {
                let (id, hit) = row?;
                out.insert(id, hit);
            }
        }
        Ok(out)
    }
}

/// What a search result shows of a photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitRow {
    pub path: String,
    pub taken_at: Option<String>,
    pub width: u32,
    pub height: u32,
}

/// The root folder's own name and every folder below it down to the file's
/// directory: `in:` matches any of them.
fn folder_names(file: &str, root: &str) -> Vec<String> {
    let file = std::path::Path::new(file);
    let root = std::path::Path::new(root);
    let mut names: Vec<String> = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .into_iter()
        .collect();
    if let Some(dir) = file.parent() {
        if let Ok(rel) = dir.strip_prefix(root) {
            names.extend(rel.iter().map(|c| c.to_string_lossy().into_owned()));
        }
    }
    names
}
