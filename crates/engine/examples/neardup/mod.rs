//! The neardup-dev evaluation, shared by `examples/neardup_eval.rs` and the
//! `neardup` integration test: ingest the 350 JPEGs through a real scan,
//! group them, and score the pairs against `groups.csv`.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use image_hasher::{FilterType, HashAlg, HasherConfig};
use shoebox_engine::dupes::{Params, Tier};
use shoebox_engine::ingest::ScanOptions;
use shoebox_engine::Library;

/// Where the data set is: `SHOEBOX_NEARDUP_DIR`, else `../shared/data/neardup-dev`
/// next to the repository. `None` when it is absent.
pub fn data_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SHOEBOX_NEARDUP_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/neardup-dev"),
    };
    (dir.join("groups.csv").is_file() && dir.join("images").is_dir()).then_some(dir)
}

#[derive(Debug, Clone)]
pub struct Row {
    pub file: String,
    pub group: i64,
    pub transform: String,
}

pub fn truth(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("groups.csv")).expect("groups.csv");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split(',');
            Some(Row {
                file: cols.next()?.to_string(),
                group: cols.next()?.parse().ok()?,
                transform: cols.next()?.to_string(),
            })
        })
        .collect()
}

pub type Pairs = HashSet<(usize, usize)>;

fn ordered(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

pub fn true_pairs(rows: &[Row]) -> Pairs {
    let mut out = Pairs::new();
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            if rows[i].group >= 0 && rows[i].group == rows[j].group {
                out.insert((i, j));
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy)]
pub struct Score {
    pub predicted: usize,
    pub true_positives: usize,
    pub truth: usize,
    pub precision: f64,
    pub recall: f64,
}

pub fn score(pred: &Pairs, truth: &Pairs) -> Score {
    let tp = pred.intersection(truth).count();
    Score {
        predicted: pred.len(),
        true_positives: tp,
        truth: truth.len(),
        precision: if pred.is_empty() {
            1.0
        } else {
            tp as f64 / pred.len() as f64
        },
        recall: if truth.is_empty() {
            1.0
        } else {
            tp as f64 / truth.len() as f64
        },
    }
}

/// A library with the data set's images scanned into it.
pub struct Scanned {
    pub _tmp: tempfile::TempDir,
    pub lib: Library,
    /// Row index of each photo id's files.
    pub rows_of_photo: HashMap<i64, Vec<usize>>,
    pub seconds: f64,
}

pub fn scan(dir: &Path, rows: &[Row]) -> Scanned {
    let tmp = tempfile::tempdir().expect("temp dir");
    let lib = Library::open(&tmp.path().join("library")).expect("library");
    let images = dir.join("images");
    lib.add_folder(&images).expect("add folder");
    let started = std::time::Instant::now();
    lib.scan(&ScanOptions::default(), &|_| {}).expect("scan");
    let seconds = started.elapsed().as_secs_f64();
    let images = images.canonicalize().expect("images");
    let mut rows_of_photo: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let path = images.join(&r.file);
        if let Ok(id) = lib.resolve_photo(path.to_str().expect("utf-8 path")) {
            rows_of_photo.entry(id).or_default().push(i);
        }
    }
    Scanned {
        _tmp: tmp,
        lib,
        rows_of_photo,
        seconds,
    }
}

/// Pairs (of rows) put together by Shoebox's exact and near tiers (the
/// transitive closure within each group, as the user sees it).
pub fn shoebox_pairs(s: &Scanned, params: &Params) -> Pairs {
    let mut out = Pairs::new();
    for g in s.lib.duplicates_with(params, None).expect("duplicates") {
        if g.tier == Tier::Similar {
            continue;
        }
        let rows: Vec<usize> = g
            .members
            .iter()
            .flat_map(|m| {
                s.rows_of_photo
                    .get(&m.photo_id)
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        for (k, &a) in rows.iter().enumerate() {
            for &b in &rows[k + 1..] {
                if a != b {
                    out.insert(ordered(a, b));
                }
            }
        }
    }
    out
}

/// Czkawka's similar-image check as configured by default: image_hasher
/// with the given hash size, the Gradient algorithm and resize filter, on
/// the fully decoded image; a pair is similar when the Hamming distance is
/// at most `max_distance`.
pub fn czkawka_pairs(
    dir: &Path,
    rows: &[Row],
    size: u32,
    filter: FilterType,
    max_distance: u32,
) -> Pairs {
    let hasher = HasherConfig::new()
        .hash_size(size, size)
        .hash_alg(HashAlg::Gradient)
        .resize_filter(filter)
        .to_hasher();
    let hashes: Vec<Option<image_hasher::ImageHash>> = rows
        .iter()
        .map(|r| {
            image::open(dir.join("images").join(&r.file))
                .ok()
                .map(|img| hasher.hash_image(&img))
        })
        .collect();
    let mut out = Pairs::new();
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            if let (Some(a), Some(b)) = (&hashes[i], &hashes[j]) {
                if a.dist(b) <= max_distance {
                    out.insert((i, j));
                }
            }
        }
    }
    out
}

/// Hamming distances (256-bit engine hash) of every true pair by
/// transform, and the smallest distance between unrelated photos.
pub fn distance_report(s: &Scanned, rows: &[Row]) -> (Vec<(String, u32, u32)>, u32) {
    let photos = s.lib.catalog().dupe_photos().expect("photos");
    let mut hash_of_row: HashMap<usize, shoebox_engine::dupes::hashindex::Hash256> = HashMap::new();
    for p in &photos {
        if let Some(h) = p
            .phash
            .as_deref()
            .and_then(shoebox_engine::dupes::hashindex::hash_from_bytes)
        {
            for &r in s.rows_of_photo.get(&p.id).into_iter().flatten() {
                hash_of_row.insert(r, h);
            }
        }
    }
    let mut by_transform: HashMap<String, Vec<u32>> = HashMap::new();
    let mut min_false = u32::MAX;
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            let (Some(a), Some(b)) = (hash_of_row.get(&i), hash_of_row.get(&j)) else {
                continue;
            };
            let d = shoebox_engine::dupes::hashindex::distance(a, b);
            if rows[i].group >= 0 && rows[i].group == rows[j].group {
                // Name the pair by its edit (original vs edit), or both edits.
                let t = match (rows[i].transform.as_str(), rows[j].transform.as_str()) {
                    ("original", t) | (t, "original") => t.to_string(),
                    (a, b) if a < b => format!("{a}+{b}"),
                    (a, b) => format!("{b}+{a}"),
                };
                by_transform.entry(t).or_default().push(d);
            } else {
                min_false = min_false.min(d);
            }
        }
    }
    let mut out: Vec<(String, u32, u32)> = by_transform
        .into_iter()
        .filter(|(t, _)| !t.contains('+'))
        .map(|(t, d)| {
            (
                t,
                *d.iter().min().unwrap_or(&0),
                *d.iter().max().unwrap_or(&0),
            )
        })
        .collect();
    out.sort();
    (out, min_false)
}

/// Crop distance (a photo's hash against the other's region hashes, both
/// ways) of every true pair by transform, and the smallest between
/// unrelated photos.
pub fn crop_distance_report(s: &Scanned, rows: &[Row]) -> (Vec<(String, u32, u32)>, u32) {
    use shoebox_engine::dupes::hashindex::{distance, hash_from_bytes, Hash256};
    let photos = s.lib.catalog().dupe_photos().expect("photos");
    let mut full: HashMap<usize, Hash256> = HashMap::new();
    let mut regions: HashMap<usize, Vec<Hash256>> = HashMap::new();
    for p in &photos {
        for &r in s.rows_of_photo.get(&p.id).into_iter().flatten() {
            if let Some(h) = p.phash.as_deref().and_then(hash_from_bytes) {
                full.insert(r, h);
            }
            let subs: Vec<Hash256> = p
                .crop_hashes
                .as_deref()
                .unwrap_or_default()
                .chunks_exact(32)
                .filter_map(hash_from_bytes)
                .collect();
            regions.insert(r, subs);
        }
    }
    let crop_d = |a: usize, b: usize| -> Option<u32> {
        let (fa, fb) = (full.get(&a)?, full.get(&b)?);
        let ab = regions.get(&b)?.iter().map(|h| distance(fa, h));
        let ba = regions.get(&a)?.iter().map(|h| distance(fb, h));
        ab.chain(ba).min()
    };
    let mut by_transform: HashMap<String, Vec<u32>> = HashMap::new();
    let mut min_false = u32::MAX;
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            let Some(d) = crop_d(i, j) else { continue };
            if rows[i].group >= 0 && rows[i].group == rows[j].group {
                if let ("original", t) | (t, "original") =
                    (rows[i].transform.as_str(), rows[j].transform.as_str())
                {
                    by_transform.entry(t.to_string()).or_default().push(d);
                }
            } else {
                min_false = min_false.min(d);
            }
        }
    }
    let mut out: Vec<(String, u32, u32)> = by_transform
        .into_iter()
        .map(|(t, d)| {
            (
                t,
                *d.iter().min().unwrap_or(&0),
                *d.iter().max().unwrap_or(&0),
            )
        })
        .collect();
    out.sort();
    (out, min_false)
}

/// Keeper suggestions in the near groups that hold exactly one true group:
/// `(kept the original, kept a full-resolution edit that ties with it,
/// groups)`. A brightness/contrast edit has the original's resolution and
/// quality, so the rules may keep either; a smaller, recompressed or
/// cropped copy must never be kept.
pub fn keeper_is_original(s: &Scanned, rows: &[Row], params: &Params) -> (usize, usize, usize) {
    let (mut original, mut tie, mut total) = (0, 0, 0);
    for g in s
        .lib
        .duplicates_with(params, Some(Tier::Near))
        .expect("duplicates")
    {
        let groups: HashSet<i64> = g
            .members
            .iter()
            .flat_map(|m| {
                s.rows_of_photo
                    .get(&m.photo_id)
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|r| rows[r].group)
            .collect();
        if groups.len() != 1 || groups.contains(&-1) {
            continue;
        }
        total += 1;
        let kept: Vec<&str> = g
            .members
            .iter()
            .find(|m| m.id == g.keep)
            .and_then(|m| s.rows_of_photo.get(&m.photo_id))
            .into_iter()
            .flatten()
            .map(|&r| rows[r].transform.as_str())
            .collect();
        if kept.contains(&"original") {
            original += 1;
        } else if kept.contains(&"enhance") {
            tie += 1;
        }
        if !kept.contains(&"original") && std::env::var_os("NEARDUP_VERBOSE").is_some() {
            eprintln!("kept {kept:?}: {}", g.reason);
        }
    }
    (original, tie, total)
}
