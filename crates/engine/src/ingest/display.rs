//! Colour for people: thumbnails and previews are converted from the
//! photo's ICC profile (Display P3 on iPhones, Adobe RGB on some cameras)
//! to sRGB, which is what browsers and the desktop webview assume for an
//! untagged JPEG. Without it a P3 photo's thumbnail looks washed out.
//!
//! The model input is *not* converted: the reference preprocessing ignores
//! ICC profiles (docs/formats.md), so only what people look at is.

use image::DynamicImage;
use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

/// `image` as sRGB, given the ICC profile its pixels are in. Without a
/// profile, or with one that is not an RGB profile or cannot be read, the
/// pixels are returned as they are (they are then assumed to be sRGB).
pub fn to_srgb(image: DynamicImage, icc: Option<&[u8]>) -> DynamicImage {
    let Some(icc) = icc else {
        return image;
    };
    match convert(&image, icc) {
        Ok(Some(converted)) => converted,
        Ok(None) => image,
        Err(e) => {
            tracing::debug!("colour profile not applied: {e}");
            image
        }
    }
}

fn convert(image: &DynamicImage, icc: &[u8]) -> Result<Option<DynamicImage>, String> {
    let source = ColorProfile::new_from_slice(icc).map_err(|e| e.to_string())?;
    if source.color_space != DataColorSpace::Rgb {
        return Ok(None);
    }
    let srgb = ColorProfile::new_srgb();
    let alpha = image.color().has_alpha();
    let layout = if alpha { Layout::Rgba } else { Layout::Rgb };
    let transform = source
        .create_transform_8bit(layout, &srgb, layout, TransformOptions::default())
        .map_err(|e| e.to_string())?;
    let (w, h) = (image.width(), image.height());
    let src = if alpha {
        image.to_rgba8().into_raw()
    } else {
        image.to_rgb8().into_raw()
    };
    let mut dst = vec![0u8; src.len()];
    transform
        .transform(&src, &mut dst)
        .map_err(|e| e.to_string())?;
    Ok(if alpha {
        image::RgbaImage::from_raw(w, h, dst).map(DynamicImage::ImageRgba8)
    } else {
        image::RgbImage::from_raw(w, h, dst).map(DynamicImage::ImageRgb8)
    })
}
