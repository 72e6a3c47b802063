//! Perceptual hash for near-duplicate detection.
//!
//! Gradient (dHash family) at 16x16 = 256 bits, from the upright reduced
//! decode. The 64-bit hashes Czkawka defaults to collide between unrelated
//! photos (its issue #429); 256 bits keep Hamming distances between unrelated
//! photos near 128, far from the single digits of re-saves and resizes.

use image::DynamicImage;
use image_hasher::{HashAlg, HasherConfig};

pub const HASH_BITS: u32 = 256;

pub fn perceptual_hash(upright: &DynamicImage) -> Vec<u8> {
    let hasher = HasherConfig::new()
        .hash_alg(HashAlg::Gradient)
        .hash_size(16, 16)
        .to_hasher();
    hasher.hash_image(upright).as_bytes().to_vec()
}

pub fn hamming(a: &[u8], b: &[u8]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// The regions (x, y, size as fractions of the width and height) whose
/// hashes let a crop find its original: central crops from 95% down to 70%,
/// and 85% and 80% crops anchored around a 3x3 grid (off-centre crops).
/// A crop's own full hash is close to the hash of the matching region of
/// the original, where the full hashes differ by as much as unrelated
/// photos do.
pub fn crop_regions() -> Vec<(f32, f32, f32)> {
    let mut out = Vec::new();
    for s in [0.95f32, 0.9, 0.85, 0.8, 0.75, 0.7] {
        let o = (1.0 - s) / 2.0;
        out.push((o, o, s));
    }
    for s in [0.85f32, 0.8] {
        let slack = 1.0 - s;
        for gy in 0..3 {
            for gx in 0..3 {
                if gx == 1 && gy == 1 {
                    continue;
                }
                out.push((slack * gx as f32 / 2.0, slack * gy as f32 / 2.0, s));
            }
        }
    }
    out
}

/// Short edge of the copy the region hashes are computed from.
pub const REGION_EDGE: u32 = 128;

/// The 256-bit gradient hashes of every [`crop_regions`] region of the
/// upright image, concatenated (32 bytes each).
pub fn crop_hashes(upright: &DynamicImage) -> Vec<u8> {
    let hasher = HasherConfig::new()
        .hash_alg(HashAlg::Gradient)
        .hash_size(16, 16)
        .to_hasher();
    let mut out = Vec::new();
    let short = upright.width().min(upright.height());
    if short < 32 {
        return out;
    }
    // Regions are cut from a 128 px copy: the hash only samples 17x16
    // points, and resampling each region of the full decode would cost
    // more than the rest of the analysis.
    let small = if short > REGION_EDGE {
        let scale = REGION_EDGE as f64 / short as f64;
        upright.resize_exact(
            ((upright.width() as f64 * scale).round() as u32).max(1),
            ((upright.height() as f64 * scale).round() as u32).max(1),
            image::imageops::FilterType::Triangle,
        )
    } else {
        upright.clone()
    };
    let (w, h) = (small.width() as f32, small.height() as f32);
    for (x, y, s) in crop_regions() {
        let region = small.crop_imm(
            (x * w).round() as u32,
            (y * h).round() as u32,
            ((s * w).round() as u32).max(1),
            ((s * h).round() as u32).max(1),
        );
        out.extend_from_slice(hasher.hash_image(&region).as_bytes());
    }
    out
}
