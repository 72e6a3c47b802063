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
    // A cut-off copy may still hold the thumbnail item; it is a damaged
    // file all the same.
    if data_beyond_end(bytes) {
        return Err("HEIF is truncated: the file ends before the image data does (an incomplete copy or download?)".into());
    }
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
        icc: primary.color_profile_raw().map(|p| p.data),
        ..reduce(image, min_edge)
    })
}

/// The shortest short edge a thumbnail item may have and still stand in for
/// the image: the model input of CLIP-family models. iPhones store 240x320
/// thumbnails, enough for a 224 px model input and, with their 320 px long
/// edge, for a 256 px grid thumbnail.
pub const MIN_THUMBNAIL_SHORT_EDGE: u32 = 224;

/// The smallest thumbnail that serves a request for `min_edge`: its long
/// edge at least `min_edge` and its short edge at least `min_edge` or
/// [`MIN_THUMBNAIL_SHORT_EDGE`], whichever is less (the scan asks for 256 to
/// fill the grid's 256 px box, which only the long edge has to), with the
/// primary image's shape (a thumbnail of another aspect ratio would be
/// cropped or padded).
fn usable_thumbnail(primary: &ImageHandle, min_edge: u32) -> Option<ImageHandle> {
    let count = primary.number_of_thumbnails();
    if count == 0 || min_edge == u32::MAX {
        return None;
    }
    let mut ids: Vec<ItemId> = vec![0; count];
    let found = primary.thumbnail_ids(&mut ids);
    let aspect = primary.width() as f64 / primary.height() as f64;
    let short_needed = min_edge.min(MIN_THUMBNAIL_SHORT_EDGE);
    ids.truncate(found);
    ids.into_iter()
        .filter_map(|id| primary.thumbnail(id).ok())
        .filter(|t| {
            let (w, h) = (t.width(), t.height());
            w.min(h) >= short_needed
                && w.max(h) >= min_edge
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

/// Whether any item's data, as the `iloc` box places it, lies past the end
/// of the file. Unreadable structure answers `false`: libheif reports that
/// itself, with its own reason.
fn data_beyond_end(bytes: &[u8]) -> bool {
    let Some(meta) = child(bytes, b"meta") else {
        return false;
    };
    // `meta` is a full box: version and flags come before its children.
    let Some(iloc) = meta.get(4..).and_then(|b| child(b, b"iloc")) else {
        return false;
    };
    iloc_end(iloc).is_some_and(|end| end > bytes.len() as u64)
}

/// The payload of the first box of type `kind` in `data`. A box running
/// past the end is cut short, not skipped: truncation is what is looked for.
fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    super::bmff::Boxes::new(data)
        .find(|b| &b.kind == kind)
        .map(|b| b.payload)
}

/// The furthest file offset any `iloc` extent reaches (items stored in the
/// file itself, construction method 0).
fn iloc_end(iloc: &[u8]) -> Option<u64> {
    let mut r = Reader { data: iloc, at: 0 };
    let version = r.uint(1)?;
    r.uint(3)?; // flags
    let sizes = r.uint(2)?;
    let (offset_size, length_size) = ((sizes >> 12) & 0xF, (sizes >> 8) & 0xF);
    let (base_size, index_size) = ((sizes >> 4) & 0xF, sizes & 0xF);
    let items = if version < 2 { r.uint(2)? } else { r.uint(4)? };
    let mut furthest = 0u64;
    for _ in 0..items {
        r.uint(if version < 2 { 2 } else { 4 })?; // item id
        let method = if version >= 1 { r.uint(2)? & 0xF } else { 0 };
        r.uint(2)?; // data reference index
        let base = r.uint(base_size)?;
        let extents = r.uint(2)?;
        for _ in 0..extents {
            if version >= 1 && index_size > 0 {
                r.uint(index_size)?;
            }
            let offset = r.uint(offset_size)?;
            let length = r.uint(length_size)?;
            if method == 0 {
                furthest = furthest.max(base.saturating_add(offset).saturating_add(length));
            }
        }
    }
    Some(furthest)
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    /// A big-endian unsigned integer of `n` bytes (0 reads nothing: 0).
    fn uint(&mut self, n: u64) -> Option<u64> {
        let n = n as usize;
        if n > 8 {
            return None;
        }
        let bytes = self.data.get(self.at..self.at + n)?;
        self.at += n;
        Some(bytes.iter().fold(0u64, |v, b| (v << 8) | *b as u64))
    }
}
