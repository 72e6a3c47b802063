//! Confirming a crop match on the pixels.
//!
//! A crop pair is found by hashes: one photo's hash is near the hash of a
//! region of the other. A 256-bit gradient hash samples a few hundred
//! points, so two unrelated pictures with a similar layout (a dark frame
//! with a bright middle) can match. Before such a pair counts, the matched
//! region of one photo and the whole of the other are compared on their
//! grid thumbnails: both scaled to 32x32 grey, they must correlate. The
//! correlation ignores brightness and contrast, so an edited crop still
//! matches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use image::DynamicImage;

use crate::catalog::DupePhoto;
use crate::ingest::{decode, phash, thumbs};

/// Side of the grey copies compared.
const SIDE: u32 = 32;
/// Smallest correlation of a real crop (re-saved, resized or brightened
/// crops on neardup-dev stay above 0.9; unrelated pictures rarely pass 0.6).
pub const MIN_CORRELATION: f64 = 0.8;

fn grey(image: &DynamicImage) -> Vec<f64> {
    image
        .resize_exact(SIDE, SIDE, image::imageops::FilterType::Triangle)
        .to_luma8()
        .into_raw()
        .into_iter()
        .map(f64::from)
        .collect()
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    if aa < 1e-9 || bb < 1e-9 {
        return 0.0; // a flat picture matches nothing
    }
    ab / (aa * bb).sqrt()
}

/// Whether `whole` is the picture in region `region` of `source` (both
/// upright).
pub fn crop_matches(whole: &DynamicImage, source: &DynamicImage, region: usize) -> bool {
    let Some(&(x, y, s)) = phash::crop_regions().get(region) else {
        return false;
    };
    let (w, h) = (source.width() as f32, source.height() as f32);
    let cut = source.crop_imm(
        (x * w).round() as u32,
        (y * h).round() as u32,
        ((s * w).round() as u32).max(1),
        ((s * h).round() as u32).max(1),
    );
    correlation(&grey(whole), &grey(&cut)) >= MIN_CORRELATION
}

/// Loads each photo's picture once (its grid thumbnail, or a reduced
/// decode of its file when the thumbnail is missing) for crop checks.
pub struct CropChecker<'a> {
    thumbs: &'a thumbs::ThumbCache,
    loaded: Mutex<HashMap<i64, Option<Arc<DynamicImage>>>>,
}

impl<'a> CropChecker<'a> {
    pub fn new(thumbs: &'a thumbs::ThumbCache) -> Self {
        CropChecker {
            thumbs,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    fn picture(&self, photo: &DupePhoto) -> Option<Arc<DynamicImage>> {
        if let Some(p) = self.loaded.lock().expect("not poisoned").get(&photo.id) {
            return p.clone();
        }
        let thumb = self.thumbs.path(&photo.hash, thumbs::GRID_SIZE);
        let picture = image::open(&thumb)
            .ok()
            .or_else(|| {
                let file = photo.files.first()?;
                decode::load_upright(&file.path, decode::WORKING_EDGE, photo.orientation).ok()
            })
            .map(Arc::new);
        self.loaded
            .lock()
            .expect("not poisoned")
            .insert(photo.id, picture.clone());
        picture
    }

    /// The check [`super::groups::edges`] takes. A picture that cannot be
    /// loaded confirms nothing.
    pub fn check(&self, whole: &DupePhoto, source: &DupePhoto, region: usize) -> bool {
        match (self.picture(whole), self.picture(source)) {
            (Some(w), Some(s)) => crop_matches(&w, &s, region),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn scene(w: u32, h: u32, seed: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            let v = ((x * (3 + seed)) ^ (y * (5 + seed * 2))) % 251;
            Rgb([v as u8, (v * 3 % 251) as u8, (255 - v) as u8])
        }))
    }

    #[test]
    fn a_real_crop_matches_and_an_unrelated_picture_does_not() {
        let source = scene(400, 300, 1);
        let (x, y, s) = phash::crop_regions()[3];
        let crop = source.crop_imm(
            (x * 400.0).round() as u32,
            (y * 300.0).round() as u32,
            (s * 400.0).round() as u32,
            (s * 300.0).round() as u32,
        );
        // Resized and brightened, as an edited export would be.
        let mut edited = crop.resize(200, 150, image::imageops::FilterType::Triangle);
        edited = edited.brighten(20);
        assert!(crop_matches(&edited, &source, 3));
        assert!(!crop_matches(&scene(200, 150, 7), &source, 3));
        let flat = DynamicImage::ImageRgb8(RgbImage::from_pixel(200, 150, Rgb([9, 9, 9])));
        assert!(!crop_matches(&flat, &source, 3));
    }
}
