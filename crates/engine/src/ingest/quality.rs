//! Image quality figures for the keep suggestion.

use image::DynamicImage;

/// Images are compared at this short edge, so that sharpness does not
/// depend on how far the reduced decode happened to scale.
pub const SHARPNESS_EDGE: u32 = 256;

/// Sharpness as the variance of the 4-neighbour Laplacian of the luma,
/// divided by the variance of the luma itself, on the image scaled to a
/// 256 px short edge. Dividing makes it contrast-independent (a contrast
/// boost scales both variances alike, so an edited copy does not look
/// "sharper" than its original), while blur and heavy recompression, which
/// remove fine detail but little overall contrast, lower it. The figure
/// (×1000) is only meaningful between copies of the same picture.
pub fn sharpness(image: &DynamicImage) -> Option<f32> {
    let (w, h) = (image.width(), image.height());
    if w < 3 || h < 3 {
        return None;
    }
    let short = w.min(h);
    let luma = if short > SHARPNESS_EDGE {
        let scale = SHARPNESS_EDGE as f64 / short as f64;
        let nw = ((w as f64 * scale).round() as u32).max(3);
        let nh = ((h as f64 * scale).round() as u32).max(3);
        image
            .resize_exact(nw, nh, image::imageops::FilterType::Triangle)
            .to_luma8()
    } else {
        image.to_luma8()
    };
    let (w, h) = (luma.width() as usize, luma.height() as usize);
    let px = luma.as_raw();
    let (mut sum, mut sum2, mut n) = (0f64, 0f64, 0f64);
    let (mut lsum, mut lsum2) = (0f64, 0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let c = px[y * w + x] as f64;
            let lap = px[(y - 1) * w + x] as f64
                + px[(y + 1) * w + x] as f64
                + px[y * w + x - 1] as f64
                + px[y * w + x + 1] as f64
                - 4.0 * c;
            sum += lap;
            sum2 += lap * lap;
            lsum += c;
            lsum2 += c * c;
            n += 1.0;
        }
    }
    let mean = sum / n;
    let lap_var = (sum2 / n - mean * mean).max(0.0);
    let lmean = lsum / n;
    let luma_var = lsum2 / n - lmean * lmean;
    if luma_var < 1.0 {
        // A flat picture has no detail to compare.
        return Some(0.0);
    }
    Some((1000.0 * lap_var / luma_var) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_lowers_sharpness() {
        let img = image::RgbImage::from_fn(300, 300, |x, y| {
            let v = if (x / 7 + y / 5) % 2 == 0 { 230 } else { 20 };
            image::Rgb([v, v, v])
        });
        let sharp = DynamicImage::ImageRgb8(img);
        let blurred = sharp.blur(2.0);
        let (a, b) = (sharpness(&sharp).unwrap(), sharpness(&blurred).unwrap());
        assert!(a > 2.0 * b, "{a} vs {b}");
        // Contrast alone does not count as sharpness.
        let contrasty = sharp.adjust_contrast(-40.0);
        let c = sharpness(&contrasty).unwrap();
        assert!((c - a).abs() < 0.1 * a, "{c} vs {a}");
        assert!(sharpness(&DynamicImage::new_rgb8(2, 2)).is_none());
    }
}

/// Short edge below which a picture is too small to compare by hashes: a
/// camera's 8x8 placeholder preview hashes like every other one.
pub const MIN_COMPARABLE_EDGE: u32 = 32;
/// Long edge below which a RAW file's embedded preview is a thumbnail, too
/// small to stand for the sensor image.
pub const MIN_RAW_PREVIEW_EDGE: u32 = 1024;
/// Share of the picture at one flat grey level that makes it "mostly one
/// colour". Night skies and snow stay well below: sensor noise and JPEG
/// ringing spread them over several levels.
const FLAT_SHARE: f64 = 0.9;
/// A flat band this deep (share of the height, at the end of the stored
/// image) means the data ran out: decoders fill what is missing with one
/// colour.
const TRUNCATED_BAND: f64 = 0.2;

/// What the content check found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Content {
    /// Why the picture has too little content to be matched by hashes or
    /// crops (tiny, blank, mostly one colour, partly decoded); `None` when
    /// it has enough.
    pub lacking: Option<String>,
    /// A warning for the file: its image data seems to end early.
    pub truncated: Option<String>,
}

/// The side of the upright picture where the stored image's last rows
/// (the end of the data) are, for an EXIF orientation.
fn stored_end_side(orientation: u16) -> u8 {
    match orientation {
        3 | 4 => b't',
        5 | 8 => b'r',
        6 | 7 => b'l',
        _ => b'b',
    }
}

/// Checks whether `upright` (the reduced decode, EXIF orientation applied)
/// has enough content to be compared with other pictures. `full_*` are the
/// stored full-size dimensions; `format` is the catalog's format name.
pub fn content(
    upright: &DynamicImage,
    orientation: u16,
    full_width: u32,
    full_height: u32,
    format: &str,
) -> Content {
    let mut out = Content::default();
    if full_width.min(full_height) < MIN_COMPARABLE_EDGE {
        out.lacking = Some(format!(
            "too small to compare ({full_width}x{full_height}: a placeholder or icon)"
        ));
        return out;
    }
    if format.starts_with("raw") && full_width.max(full_height) < MIN_RAW_PREVIEW_EDGE {
        out.lacking = Some(format!(
            "a RAW file whose only image is a {full_width}x{full_height} thumbnail preview"
        ));
        return out;
    }
    let luma = upright.to_luma8();
    let (w, h) = (luma.width() as usize, luma.height() as usize);
    if w == 0 || h == 0 {
        out.lacking = Some("no pixels".into());
        return out;
    }
    let px = luma.as_raw();
    let mut histogram = [0u64; 256];
    for &v in px {
        histogram[v as usize] += 1;
    }
    let (mode, _) = histogram
        .iter()
        .enumerate()
        .max_by_key(|(_, n)| **n)
        .expect("256 bins");
    let near_mode: u64 = histogram[mode.saturating_sub(2)..=(mode + 2).min(255)]
        .iter()
        .sum();
    let flat_share = near_mode as f64 / px.len() as f64;

    // The flat band at the end of the stored data.
    let side = stored_end_side(orientation);
    let (lines, across) = if matches!(side, b't' | b'b') {
        (h, w)
    } else {
        (w, h)
    };
    let value = |line: usize, i: usize| -> u8 {
        let (x, y) = match side {
            b'b' => (i, h - 1 - line),
            b't' => (i, line),
            b'r' => (w - 1 - line, i),
            _ => (line, i),
        };
        px[y * w + x]
    };
    let reference = value(0, 0);
    let mut band = 0;
    'lines: for line in 0..lines {
        for i in 0..across {
            if value(line, i).abs_diff(reference) > 1 {
                break 'lines;
            }
        }
        band += 1;
    }
    let band_share = band as f64 / lines as f64;
    if band_share >= TRUNCATED_BAND && band < lines {
        out.truncated = Some(format!(
            "the last {:.0}% of the image is one flat colour: the file may be truncated (an incomplete copy or download)",
            band_share * 100.0
        ));
    }
    out.lacking = if flat_share >= 0.999 {
        Some("blank: a single flat colour".into())
    } else if flat_share >= FLAT_SHARE {
        Some(format!(
            "mostly one flat colour ({:.0}% of the picture)",
            flat_share * 100.0
        ))
    } else if out.truncated.is_some() {
        Some(format!(
            "only partly decoded ({:.0}% of it is a flat band where the data ends)",
            band_share * 100.0
        ))
    } else {
        None
    };
    out
}

#[cfg(test)]
mod content_tests {
    use super::*;
    use image::{GrayImage, Luma};

    fn noisy(w: u32, h: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| Luma([((x * 7 + y * 13) % 200) as u8 + 20]))
    }

    #[test]
    fn photos_with_detail_have_content() {
        let img = DynamicImage::ImageLuma8(noisy(300, 200));
        assert_eq!(content(&img, 1, 3000, 2000, "jpeg"), Content::default());
    }

    #[test]
    fn tiny_blank_and_mostly_flat_pictures_lack_content() {
        let img = DynamicImage::ImageLuma8(noisy(8, 8));
        assert!(content(&img, 1, 8, 8, "jpeg")
            .lacking
            .unwrap()
            .contains("too small"));
        let raw = content(
            &DynamicImage::ImageLuma8(noisy(160, 120)),
            1,
            160,
            120,
            "raw-raf",
        );
        assert!(raw.lacking.unwrap().contains("RAW"));
        let white = DynamicImage::ImageLuma8(GrayImage::from_pixel(300, 200, Luma([255])));
        assert!(content(&white, 1, 300, 200, "png")
            .lacking
            .unwrap()
            .contains("blank"));
        let mut mostly = GrayImage::from_pixel(300, 200, Luma([10]));
        for y in 0..10 {
            for x in 0..300 {
                mostly.put_pixel(x, y, Luma([((x * 31) % 250) as u8]));
            }
        }
        let c = content(&DynamicImage::ImageLuma8(mostly), 1, 300, 200, "jpeg");
        assert!(c.lacking.unwrap().contains("mostly one flat colour"));
    }

    #[test]
    fn a_flat_band_where_the_data_ends_is_a_truncation() {
        // Stored bottom 40% flat; upright with orientation 6 puts it on the left.
        let mut stored = noisy(300, 200);
        for y in 120..200 {
            for x in 0..300 {
                stored.put_pixel(x, y, Luma([128]));
            }
        }
        let c = content(
            &DynamicImage::ImageLuma8(stored.clone()),
            1,
            3000,
            2000,
            "jpeg",
        );
        assert!(c.truncated.is_some() && c.lacking.unwrap().contains("partly decoded"));
        let upright = DynamicImage::ImageLuma8(image::imageops::rotate90(&stored));
        let c = content(&upright, 6, 3000, 2000, "jpeg");
        assert!(c.truncated.is_some(), "{c:?}");
        // The same band at the top of the stored image is not a truncation.
        let flipped = DynamicImage::ImageLuma8(image::imageops::flip_vertical(&stored));
        assert_eq!(content(&flipped, 1, 3000, 2000, "jpeg").truncated, None);
    }
}
