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
