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
