//! Which member of a group to keep, and why, in words.
//!
//! Photos are narrowed down criterion by criterion: highest resolution,
//! then sharpest (relative variance of the Laplacian, when the others are
//! below two thirds of the best), then least
//! compressed (bytes per pixel, same format only, within 25%), then has
//! EXIF, then has GPS, then earliest date, then first catalogued. The reason
//! names each criterion that removed a candidate.

use std::cmp::Ordering;

use crate::catalog::{DupeFile, DupePhoto};

// Only clear differences count: colour and contrast edits move the figure
// by up to about 40% (measured on neardup-dev), blur by 2x and more.
const SHARPNESS_TOLERANCE: f32 = 0.67;
// Only clear differences count: an edit (contrast, colour) changes the
// compressed size by 10–20% at the same quality, a re-save at a lower
// quality by 2–3x.
const BPP_TOLERANCE: f64 = 0.75;

fn bytes_per_pixel(p: &DupePhoto) -> f64 {
    let bytes = p.files.first().map_or(0, |f| f.size) as f64;
    bytes / ((p.width as f64) * (p.height as f64)).max(1.0)
}

fn timestamp(p: &DupePhoto) -> Option<i64> {
    let t = p.taken_at.as_deref()?;
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp())
}

/// Keeps the candidates `keep` says yes to; returns true when some were
/// removed (and at least one remains).
fn narrow(cands: &mut Vec<usize>, keep: impl Fn(usize) -> bool) -> bool {
    let kept: Vec<usize> = cands.iter().copied().filter(|&i| keep(i)).collect();
    if kept.is_empty() || kept.len() == cands.len() {
        return false;
    }
    *cands = kept;
    true
}

/// The index of the photo to keep and the reason.
pub fn keep_photo(photos: &[&DupePhoto]) -> (usize, String) {
    let mut cands: Vec<usize> = (0..photos.len()).collect();
    let mut why: Vec<String> = Vec::new();
    let pixels = |i: usize| photos[i].width as u64 * photos[i].height as u64;

    let best = cands.iter().map(|&i| pixels(i)).max().unwrap_or(0);
    let runner = cands.iter().map(|&i| pixels(i)).filter(|&p| p < best).max();
    if narrow(&mut cands, |i| pixels(i) == best) {
        let w = &photos[cands[0]];
        let other = runner.unwrap_or(0);
        why.push(format!(
            "highest resolution ({}×{}, {:.1} MP against {:.1} MP)",
            w.width,
            w.height,
            best as f64 / 1e6,
            other as f64 / 1e6
        ));
    }
    if cands.len() > 1 && cands.iter().all(|&i| photos[i].sharpness.is_some()) {
        let s = |i: usize| photos[i].sharpness.unwrap_or(0.0);
        let max = cands.iter().map(|&i| s(i)).fold(0f32, f32::max);
        let before: Vec<usize> = cands.clone();
        if narrow(&mut cands, |i| s(i) >= SHARPNESS_TOLERANCE * max) {
            let other = before
                .iter()
                .filter(|i| !cands.contains(i))
                .map(|&i| s(i))
                .fold(0f32, f32::max);
            why.push(format!(
                "sharpest (relative Laplacian variance {max:.0} against {other:.0})"
            ));
        }
    }
    if cands.len() > 1
        && cands
            .iter()
            .all(|&i| photos[i].format == photos[cands[0]].format)
    {
        let max = cands
            .iter()
            .map(|&i| bytes_per_pixel(photos[i]))
            .fold(0f64, f64::max);
        let before: Vec<usize> = cands.clone();
        if narrow(&mut cands, |i| {
            bytes_per_pixel(photos[i]) >= BPP_TOLERANCE * max
        }) {
            let other = before
                .iter()
                .filter(|i| !cands.contains(i))
                .map(|&i| bytes_per_pixel(photos[i]))
                .fold(0f64, f64::max);
            why.push(format!(
                "least compressed ({max:.2} bytes per pixel against {other:.2})"
            ));
        }
    }
    if cands.len() > 1 && narrow(&mut cands, |i| photos[i].has_exif) {
        why.push("has EXIF metadata".into());
    }
    if cands.len() > 1 && narrow(&mut cands, |i| photos[i].has_gps) {
        why.push("has a GPS position".into());
    }
    if cands.len() > 1 {
        let earliest = cands.iter().filter_map(|&i| timestamp(photos[i])).min();
        if let Some(t) = earliest {
            if narrow(&mut cands, |i| timestamp(photos[i]) == Some(t)) {
                let date = photos[cands[0]].taken_at.clone().unwrap_or_default();
                why.push(format!("earliest date ({date})"));
            }
        }
    }
    if cands.len() > 1 {
        cands.sort_by_key(|&i| photos[i].id);
        cands.truncate(1);
        why.push("otherwise equal: the first one catalogued".into());
    }
    let reason = if why.is_empty() {
        "the only candidate".to_string()
    } else {
        why.join("; ")
    };
    (cands[0], reason)
}

/// The index of the copy to keep (byte-identical files) and the reason:
/// the oldest file, then the shortest path.
pub fn keep_copy(files: &[DupeFile]) -> (usize, String) {
    let best = (0..files.len())
        .min_by(|&a, &b| {
            files[a]
                .mtime_ns
                .cmp(&files[b].mtime_ns)
                .then(files[a].display.len().cmp(&files[b].display.len()))
                .then(files[a].display.cmp(&files[b].display))
                .then(Ordering::Equal)
        })
        .unwrap_or(0);
    let oldest = files.iter().map(|f| f.mtime_ns).min().unwrap_or(0);
    let ties = files.iter().filter(|f| f.mtime_ns == oldest).count();
    let reason = if ties > 1 {
        "byte-identical copies of one photo: keeping the copy with the shortest path among the oldest files"
    } else {
        "byte-identical copies of one photo: keeping the oldest file"
    };
    (best, reason.to_string())
}
