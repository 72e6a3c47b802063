//! HEIC, HEIF and AVIF through libheif: iPhone grid images, 8 and 10 bit,
//! alpha, and the container's `irot`/`imir` transforms (which libheif
//! applies, so the decoded raster is already upright and EXIF Orientation
//! must not be applied again).
//!
//! Reduced decoding: a HEIF file may carry thumbnail items (Sony's .HIF
//! has a 1616x1080 one); when one keeps the short edge the caller asked
//! for, it is decoded instead of the full image. Otherwise the primary image
//! is decoded whole (libheif 1.15 cannot decode single tiles) and reduced.

use image::DynamicImage;
use libheif_rs::{
    ColorSpace, DecodingOptions, HeifContext, ImageHandle, ItemId, LibHeif, RgbChroma,
};

use super::decode::{check_dimensions, reduce, Decoded, DecodedFrom};

pub fn decode_reduced(bytes: &[u8], min_edge: u32) -> Result<Decoded, String> {
    let ctx = HeifContext::read_from_bytes(bytes)
        .map_err(|e| format!("not a readable HEIF image ({})", e.message.trim()))?;
    let primary = ctx
        .primary_image_handle()
        .map_err(|e| format!("the HEIF file has no primary image ({})", e.message.trim()))?;
    let (width, height) = (primary.width(), primary.height());
    check_dimensions(width, height)?;
    // A thumbnail that will not decode (Sony's JPEG-coded one disagrees
    // with its declared size under libheif) only costs the full decode.
    let (image, from) = match usable_thumbnail(&primary, min_edge).map(|t| decode_handle(&t)) {
        Some(Ok(image)) => (image, DecodedFrom::EmbeddedThumbnail),
        _ => (decode_handle(&primary)?, DecodedFrom::Image),
    };
    // The size on record is the full image's, even when a thumbnail was
    // decoded.
    Ok(Decoded {
        width,
        height,
        from,
        ..reduce(image, min_edge)
    })
}

/// The smallest thumbnail whose short edge is at least `min_edge` and whose
/// shape matches the primary image's (a thumbnail of another aspect ratio
/// would be cropped or padded).
fn usable_thumbnail(primary: &ImageHandle, min_edge: u32) -> Option<ImageHandle> {
    let count = primary.number_of_thumbnails();
    if count == 0 || min_edge == u32::MAX {
        return None;
    }
    let mut ids: Vec<ItemId> = vec![0; count];
    let found = primary.thumbnail_ids(&mut ids);
    let aspect = primary.width() as f64 / primary.height() as f64;
    ids.truncate(found);
    ids.into_iter()
        .filter_map(|id| primary.thumbnail(id).ok())
        .filter(|t| {
            let (w, h) = (t.width(), t.height());
            w.min(h) >= min_edge
                && h > 0
                && ((w as f64 / h as f64) / aspect - 1.0).abs() < 0.02
                && check_dimensions(w, h).is_ok()
        })
        .min_by_key(|t| t.width() as u64 * t.height() as u64)
}

fn decode_handle(handle: &ImageHandle) -> Result<DynamicImage, String> {
    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    // 10- and 12-bit images are reduced to 8 bits by libheif when 8-bit
    // interleaved RGB is asked for.
    // Strict: a grid whose tiles are missing (a truncated copy) is an
    // error, not a photo with grey holes.
    let mut options = DecodingOptions::new().ok_or("libheif could not allocate its options")?;
    options.set_strict_decoding(true);
    options.set_convert_hdr_to_8bit(true);
    let decoded = LibHeif::new()
        .decode(handle, ColorSpace::Rgb(chroma), Some(options))
        .map_err(|e| {
            format!(
                "HEIF data is corrupt or cannot be decoded ({})",
                e.message.trim()
            )
        })?;
    let (w, h) = (decoded.width(), decoded.height());
    if w == 0 || h == 0 {
        return Err("the HEIF decoder returned an empty image".into());
    }
    let planes = decoded.planes();
    let plane = planes
        .interleaved
        .ok_or("the HEIF decoder returned no RGB pixels")?;
    let channels = if alpha { 4 } else { 3 };
    let row = w as usize * channels;
    if plane.stride < row || plane.data.len() < plane.stride * (h as usize - 1) + row {
        return Err("the HEIF decoder returned a short buffer".into());
    }
    let mut pixels = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        pixels.extend_from_slice(&plane.data[y * plane.stride..y * plane.stride + row]);
    }
    let image = if alpha {
        image::RgbaImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgba8)
    } else {
        image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
    };
    image.ok_or_else(|| "the HEIF decoder returned a short buffer".into())
}
