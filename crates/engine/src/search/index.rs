//! The in-memory search index: every visible photo's filterable facts, and
//! the active model's vectors as int8. Loaded once, then kept in sync by
//! following the catalog's change log, so queries never touch SQLite except
//! to re-rank a few candidates and read the page they return.

use std::collections::HashMap;

use super::quant::{dot_i8, quantize};
use crate::catalog::{Catalog, Changes, IndexRow, IndexSink};
use crate::error::Result;
use crate::query::Filters;

/// No date known.
const NO_TIME: i64 = i64::MIN;

/// Strings shared by many photos (cameras, formats, folder names, tags),
/// stored once, lowercased.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        let key = s.to_lowercase();
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(key.clone());
        self.ids.insert(key, id);
        id
    }

    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(&s.to_lowercase()).copied()
    }

    /// A mask over string ids: which strings contain one of `needles`
    /// (case-insensitive).
    fn containing(&self, needles: &[String]) -> Vec<bool> {
        let needles: Vec<String> = needles.iter().map(|n| n.to_lowercase()).collect();
        self.names
            .iter()
            .map(|name| needles.iter().any(|n| name.contains(n.as_str())))
            .collect()
    }
}

/// Distinct folder lists. Photos of one directory share a list, so a
/// million photos have only as many lists as directories, and an `in:`
/// filter is decided once per list instead of once per photo.
#[derive(Default)]
struct FolderSets {
    ids: HashMap<Box<[u32]>, u32>,
    sets: Vec<Box<[u32]>>,
}

impl FolderSets {
    fn intern(&mut self, mut folders: Vec<u32>) -> u32 {
        folders.sort_unstable();
        folders.dedup();
        let key = folders.into_boxed_slice();
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = self.sets.len() as u32;
        self.sets.push(key.clone());
        self.ids.insert(key, id);
        id
    }
}

/// Whether id `i` is in a mask (ids interned after the mask was built are
/// not).
fn in_mask(mask: &[bool], i: u32) -> bool {
    mask.get(i as usize).copied().unwrap_or(false)
}

/// Filterable facts about one photo.
#[derive(Debug, Clone)]
struct Meta {
    /// Local wall-clock seconds of the date taken (the offset is dropped:
    /// "photos from December" means December where they were taken).
    taken: i64,
    month: u8,
    camera: u32,
    format: u32,
    gps: bool,
    /// Id in [`FolderSets`]; 0 is the empty list.
    folder_set: u32,
    tags: Box<[u32]>,
}

/// A compiled filter: everything resolved to interned ids and seconds.
pub struct Predicate {
    after: Option<i64>,
    before: Option<i64>,
    months: u16,
    /// Masks over folder-set ids, camera and format string ids.
    folder_sets: Option<Vec<bool>>,
    cameras: Option<Vec<bool>>,
    /// `None` inside means a required tag nobody has: nothing matches.
    tags: Vec<Option<u32>>,
    gps: Option<bool>,
    formats: Option<Vec<bool>>,
}

impl Predicate {
    fn matches(&self, m: &Meta) -> bool {
        if self.after.is_some() || self.before.is_some() || self.months != 0 {
            if m.taken == NO_TIME {
                return false;
            }
            if self.after.is_some_and(|a| m.taken < a) || self.before.is_some_and(|b| m.taken >= b)
            {
                return false;
            }
            if self.months != 0 && self.months & (1 << m.month) == 0 {
                return false;
            }
        }
        if self.gps.is_some_and(|g| g != m.gps) {
            return false;
        }
        if self.cameras.as_ref().is_some_and(|c| !in_mask(c, m.camera))
            || self.formats.as_ref().is_some_and(|f| !in_mask(f, m.format))
            || self
                .folder_sets
                .as_ref()
                .is_some_and(|f| !in_mask(f, m.folder_set))
        {
            return false;
        }
        self.tags
            .iter()
            .all(|t| t.is_some_and(|t| m.tags.contains(&t)))
    }
}

/// Local wall-clock seconds from an RFC 3339 string, ignoring its offset.
fn local_seconds(rfc3339: &str) -> Option<(i64, u8)> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    let naive = t.naive_local();
    use chrono::Datelike;
    Some((naive.and_utc().timestamp(), naive.month() as u8))
}

fn day_start(date: chrono::NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
}

pub struct VectorIndex {
    model_id: i64,
    dim: usize,
    /// Position in the catalog's change log this index reflects.
    seq: i64,
    slots: HashMap<i64, usize>,
    /// Photo id per slot; -1 marks a free slot.
    ids: Vec<i64>,
    codes: Vec<i8>,
    /// Per-slot scale; 0 when the photo has no vector yet.
    scales: Vec<f32>,
    meta: Vec<Meta>,
    free: Vec<usize>,
    strings: Interner,
    folder_sets: FolderSets,
}

impl IndexSink for VectorIndex {
    fn photo(&mut self, row: IndexRow) {
        self.upsert(row);
    }

    fn folders(&mut self, photo_id: i64, names: Vec<String>) {
        if let Some(&slot) = self.slots.get(&photo_id) {
            let ids = names.iter().map(|n| self.strings.intern(n)).collect();
            self.meta[slot].folder_set = self.folder_sets.intern(ids);
        }
    }

    fn tags(&mut self, photo_id: i64, tags: Vec<String>) {
        if let Some(&slot) = self.slots.get(&photo_id) {
            self.meta[slot].tags = tags.iter().map(|t| self.strings.intern(t)).collect();
        }
    }
}

/// A scored candidate.
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    pub photo_id: i64,
    pub score: f32,
    pub taken: i64,
}

impl VectorIndex {
    /// Loads every visible photo, with the model's vectors, from one
    /// snapshot of the catalog.
    pub fn load(catalog: &Catalog, model_id: i64, dim: usize) -> Result<Self> {
        let mut index = VectorIndex {
            model_id,
            dim,
            seq: 0,
            slots: HashMap::new(),
            ids: Vec::new(),
            codes: Vec::new(),
            scales: Vec::new(),
            meta: Vec::new(),
            free: Vec::new(),
            strings: Interner::default(),
            folder_sets: FolderSets::default(),
        };
        index.folder_sets.intern(Vec::new());
        catalog.read_snapshot(|c| index.reload(c))?;
        Ok(index)
    }

    /// Reloads everything; call inside a read snapshot.
    fn reload(&mut self, catalog: &Catalog) -> Result<()> {
        self.slots.clear();
        self.ids.clear();
        self.codes.clear();
        self.scales.clear();
        self.meta.clear();
        self.free.clear();
        self.seq = catalog.change_seq()?;
        catalog.stream_index_rows(self.model_id, None, self)?;
        self.shrink();
        Ok(())
    }

    /// Gives back the growth slack of the load (up to half the vectors).
    fn shrink(&mut self) {
        self.ids.shrink_to_fit();
        self.codes.shrink_to_fit();
        self.scales.shrink_to_fit();
        self.meta.shrink_to_fit();
    }

    /// Applies whatever changed in the catalog since the last sync, from
    /// one snapshot. Returns how many photos were updated.
    pub fn refresh(&mut self, catalog: &Catalog) -> Result<usize> {
        catalog.read_snapshot(|c| {
            let (latest, changes) = c.changes_since(self.seq)?;
            match changes {
                Changes::Everything => {
                    self.reload(c)?;
                    Ok(self.len())
                }
                Changes::Photos(mut ids) => {
                    ids.sort_unstable();
                    ids.dedup();
                    for &id in &ids {
                        self.remove(id);
                    }
                    if !ids.is_empty() {
                        c.stream_index_rows(self.model_id, Some(&ids), self)?;
                    }
                    self.seq = latest;
                    Ok(ids.len())
                }
            }
        })
    }

    fn upsert(&mut self, row: IndexRow) {
        let slot = match self.slots.get(&row.photo_id) {
            Some(&s) => s,
            None => match self.free.pop() {
                Some(s) => s,
                None => {
                    self.ids.push(-1);
                    self.codes.extend(std::iter::repeat_n(0, self.dim));
                    self.scales.push(0.0);
                    self.meta.push(Meta {
                        taken: NO_TIME,
                        month: 0,
                        camera: 0,
                        format: 0,
                        gps: false,
                        folder_set: 0,
                        tags: Box::new([]),
                    });
                    self.ids.len() - 1
                }
            },
        };
        self.ids[slot] = row.photo_id;
        self.slots.insert(row.photo_id, slot);
        let codes = &mut self.codes[slot * self.dim..(slot + 1) * self.dim];
        self.scales[slot] = match &row.vector {
            Some(v) if v.len() == self.dim => quantize(v, codes),
            _ => {
                codes.iter_mut().for_each(|c| *c = 0);
                0.0
            }
        };
        let (taken, month) = row
            .taken_at
            .as_deref()
            .and_then(local_seconds)
            .unwrap_or((NO_TIME, 0));
        self.meta[slot] = Meta {
            taken,
            month,
            camera: self.strings.intern(&row.camera),
            format: self.strings.intern(&row.format),
            gps: row.has_gps,
            folder_set: 0,
            tags: Box::new([]),
        };
        if !row.folders.is_empty() {
            self.folders(row.photo_id, row.folders);
        }
        if !row.tags.is_empty() {
            self.tags(row.photo_id, row.tags);
        }
    }

    fn remove(&mut self, photo_id: i64) {
        if let Some(slot) = self.slots.remove(&photo_id) {
            self.ids[slot] = -1;
            self.scales[slot] = 0.0;
            self.free.push(slot);
        }
    }

    /// Visible photos in the index.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Photos that have a vector.
    pub fn vectors(&self) -> usize {
        self.slots
            .values()
            .filter(|&&s| self.scales[s] != 0.0)
            .count()
    }

    pub fn model_id(&self) -> i64 {
        self.model_id
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Bytes held for vectors (codes and scales).
    pub fn vector_bytes(&self) -> usize {
        self.codes.capacity() + self.scales.capacity() * 4
    }

    /// Approximate bytes held for everything but the vectors: photo ids,
    /// filter facts with their folder and tag lists, the id → slot map, free
    /// slots and interned strings (allocator overhead not included).
    pub fn metadata_bytes(&self) -> usize {
        use std::mem::size_of;
        let tag_lists: usize = self.meta.iter().map(|m| m.tags.len()).sum();
        let folder_lists: usize = self.folder_sets.sets.iter().map(|s| s.len()).sum();
        // Each folder list is held twice (list and map key).
        let lists = (tag_lists + 2 * folder_lists) * size_of::<u32>()
            + self.folder_sets.sets.len() * 2 * size_of::<Box<[u32]>>();
        let strings: usize = self
            .strings
            .names
            .iter()
            .map(|s| 2 * (s.capacity() + size_of::<String>()) + size_of::<u32>())
            .sum();
        self.ids.capacity() * size_of::<i64>()
            + self.meta.capacity() * size_of::<Meta>()
            + lists
            + self.slots.capacity() * (size_of::<(i64, usize)>() + 1)
            + self.free.capacity() * size_of::<usize>()
            + strings
    }

    pub fn compile(&self, f: &Filters) -> Predicate {
        let months = f.months.iter().fold(0u16, |m, &mo| m | (1 << mo));
        let non_empty = |v: &[String]| (!v.is_empty()).then(|| self.strings.containing(v));
        let formats = (!f.types.is_empty()).then(|| {
            let mut mask = vec![false; self.strings.names.len()];
            for id in f.types.iter().filter_map(|t| self.strings.get(t)) {
                mask[id as usize] = true;
            }
            mask
        });
        let folder_sets = non_empty(&f.folders).map(|names| {
            self.folder_sets
                .sets
                .iter()
                .map(|set| set.iter().any(|&n| in_mask(&names, n)))
                .collect()
        });
        Predicate {
            after: f.after.map(day_start),
            before: f.before.map(day_start),
            months,
            folder_sets,
            cameras: non_empty(&f.cameras),
            tags: f.tags.iter().map(|t| self.strings.get(t)).collect(),
            gps: f.has_gps,
            formats,
        }
    }

    /// Photos passing the filter, each with its approximate cosine to
    /// `query` (a unit vector), or 0 without a query. With a query, photos
    /// without a vector are left out.
    pub fn score(&self, pred: &Predicate, query: Option<&[f32]>) -> Vec<Scored> {
        self.score_min(pred, query, f32::NEG_INFINITY).0
    }

    /// Approximate scores of about `n` photos that pass the filter, taken
    /// at a fixed stride so they represent the whole library, and whether
    /// the stride was 1 (every photo scored).
    pub fn sample_scores(&self, pred: &Predicate, query: &[f32], n: usize) -> (Vec<f32>, bool) {
        let mut q_codes = vec![0i8; self.dim];
        let qs = quantize(query, &mut q_codes);
        let step = (self.ids.len() / n.max(1)).max(1);
        let scores = (0..self.ids.len())
            .step_by(step)
            .filter(|&slot| {
                self.ids[slot] >= 0 && self.scales[slot] != 0.0 && pred.matches(&self.meta[slot])
            })
            .map(|slot| self.approx(slot, &q_codes, qs))
            .collect();
        (scores, step == 1)
    }

    fn approx(&self, slot: usize, q_codes: &[i8], q_scale: f32) -> f32 {
        let codes = &self.codes[slot * self.dim..(slot + 1) * self.dim];
        dot_i8(codes, q_codes) as f32 * self.scales[slot] * q_scale
    }

    /// [`Self::score`] keeping only scores of at least `min`, and how many
    /// photos passed the filter (the candidates) in all. Keeping only what
    /// can be shown spares a million-entry list per query.
    pub fn score_min(
        &self,
        pred: &Predicate,
        query: Option<&[f32]>,
        min: f32,
    ) -> (Vec<Scored>, usize) {
        let mut q_codes = vec![0i8; self.dim];
        let q_scale = query.map(|q| quantize(q, &mut q_codes));
        let score_range = |range: std::ops::Range<usize>| -> (Vec<Scored>, usize) {
            let mut out = Vec::new();
            let mut passed = 0;
            for slot in range {
                let id = self.ids[slot];
                if id < 0 || !pred.matches(&self.meta[slot]) {
                    continue;
                }
                let score = match q_scale {
                    Some(qs) => {
                        if self.scales[slot] == 0.0 {
                            continue;
                        }
                        self.approx(slot, &q_codes, qs)
                    }
                    None => 0.0,
                };
                passed += 1;
                if score >= min {
                    out.push(Scored {
                        photo_id: id,
                        score,
                        taken: self.meta[slot].taken,
                    });
                }
            }
            (out, passed)
        };
        let n = self.ids.len();
        // Threads pay off only when the scan is long enough to dwarf their
        // start-up (tens of microseconds) — around 50k vectors.
        let threads = if n >= 50_000 {
            std::thread::available_parallelism().map_or(1, |t| t.get())
        } else {
            1
        };
        if threads <= 1 {
            return score_range(0..n);
        }
        let per = n.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let range = (t * per).min(n)..((t + 1) * per).min(n);
                    scope.spawn(move || score_range(range))
                })
                .collect();
            let mut all = Vec::new();
            let mut passed = 0;
            for h in handles {
                let (part, n) = h.join().expect("scoring thread panicked");
                all.extend(part);
                passed += n;
            }
            (all, passed)
        })
    }
}
