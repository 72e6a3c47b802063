//! Decode once, small. JPEGs are decoded in the DCT domain at 1/2, 1/4 or 1/8
//! scale, so a 12-megapixel photo never becomes 12 million pixels just to make
//! a 256 px thumbnail and a 224 px model input. Other formats are decoded in
//! full (their codecs cannot scale) and reduced right away.

use image::{DynamicImage, ImageReader};

use super::format::Format;
use super::{heif, raw};

/// Refuse images larger than this before allocating anything: decompression
/// bombs declare huge dimensions in a tiny file. 200 MP covers stitched
/// panoramas and medium-format cameras.
pub const MAX_PIXELS: u64 = 200_000_000;
/// Also refuse any side longer than this (a 1 x 10^9 strip is no photo).
pub const MAX_SIDE: u32 = 65_535;

/// The shortest edge the reduced decode must keep: enough for a 256 px
/// thumbnail and the 224 px input of CLIP-family models.
pub const WORKING_EDGE: u32 = 256;

#[derive(Debug)]
pub struct Decoded {
    /// The reduced image, as stored (orientation not applied).
    pub image: DynamicImage,
    /// Full-size dimensions as stored in the file.
    pub width: u32,
    pub height: u32,
    /// BLAKE3 of the decoded pixels: equal for files that differ only in
    /// metadata.
    pub pixel_hash: [u8; 32],
    pub from: DecodedFrom,
    /// The ICC profile the pixels are in, when the file has one; applied
    /// for display only (`ingest::display`).
    pub icc: Option<Vec<u8>>,
}

/// Which pixels of a file were decoded, recorded with the photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodedFrom {
    /// The file's own image (whole, or reduced while decoding).
    Image,
    /// A RAW file's embedded JPEG or JPEG XL preview.
    EmbeddedPreview,
    /// A HEIF thumbnail item large enough for what was asked.
    EmbeddedThumbnail,
}

impl DecodedFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            DecodedFrom::Image => "image",
            DecodedFrom::EmbeddedPreview => "embedded preview",
            DecodedFrom::EmbeddedThumbnail => "embedded thumbnail",
        }
    }
}

pub fn check_dimensions(width: u32, height: u32) -> Result<(), String> {
    if width == 0 || height == 0 {
        return Err(format!("image declares an empty size ({width}x{height})"));
    }
    let pixels = width as u64 * height as u64;
    if width > MAX_SIDE || height > MAX_SIDE || pixels > MAX_PIXELS {
        return Err(format!(
            "image is too large to open safely ({width}x{height}, {} megapixels; the limit is {} megapixels and {MAX_SIDE} px per side)",
            pixels / 1_000_000,
            MAX_PIXELS / 1_000_000
        ));
    }
    Ok(())
}

/// Decodes `bytes` so that the shorter edge is at least `min_edge` (or the
/// full image when it is smaller than that).
pub fn decode_reduced(bytes: &[u8], format: Format, min_edge: u32) -> Result<Decoded, String> {
    match format {
        Format::Jpeg if !jpeg_is_complete(bytes) => Err(
            "JPEG is truncated: the file ends before the image data does (an incomplete copy or download?)".into(),
        ),
        Format::Jpeg => decode_jpeg_scaled(bytes, min_edge).or_else(|scaled_err| {
            // A few JPEG flavours are beyond jpeg-decoder but fine for the
            // image crate's decoder; only give up if both fail.
            decode_with_image_crate(bytes, image::ImageFormat::Jpeg, min_edge)
                .map_err(|_| scaled_err)
        }),
        Format::Heif | Format::Avif => heif::decode_reduced(bytes, min_edge),
        Format::Jxl => decode_jxl(bytes, min_edge),
        other => match other.image_format() {
            Some(fmt) => decode_with_image_crate(bytes, fmt, min_edge),
            None => Err(format!("{} images cannot be decoded", other.name())),
        },
    }
}

/// JPEG decoders pad a truncated stream with grey instead of failing, so
/// check the structure: the last start-of-scan must be followed by an
/// end-of-image marker. Entropy-coded data byte-stuffs 0xFF, so neither marker
/// can appear inside it by accident.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_marker = |marker: u8| bytes.windows(2).rposition(|w| w == [0xFF, marker]);
    match (last_marker(0xDA), last_marker(0xD9)) {
        (Some(sos), Some(eoi)) => eoi > sos,
        _ => false,
    }
}

fn decode_jpeg_scaled(bytes: &[u8], min_edge: u32) -> Result<Decoded, String> {
    let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(bytes));
    decoder
        .read_info()
        .map_err(|e| format!("not a readable JPEG ({e})"))?;
    let info = decoder.info().ok_or("JPEG has no frame header")?;
    let (width, height) = (info.width as u32, info.height as u32);
    check_dimensions(width, height)?;
    let (req_w, req_h) = requested_size(width, height, min_edge);
    // jpeg-decoder picks the smallest of 1/8..1/1 that is at least this big.
    let (out_w, out_h) = decoder
        .scale(req_w as u16, req_h as u16)
        .map_err(|e| format!("JPEG cannot be scaled ({e})"))?;
    let pixels = decoder
        .decode()
        .map_err(|e| format!("JPEG data is corrupt or truncated ({e})"))?;
    let icc = decoder.icc_profile();
    let info = decoder.info().ok_or("JPEG has no frame header")?;
    let (w, h) = (out_w as u32, out_h as u32);
    let pixel_hash = hash_pixels(w, h, &pixels);
    let image = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
        }
        jpeg_decoder::PixelFormat::L16 => {
            let wide: Vec<u16> = pixels
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            image::ImageBuffer::from_raw(w, h, wide).map(DynamicImage::ImageLuma16)
        }
        jpeg_decoder::PixelFormat::RGB24 => {
            image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::CMYK32 => {
            let rgb: Vec<u8> = pixels
                .chunks_exact(4)
                .flat_map(cmyk_to_rgb_like_pil)
                .collect();
            image::RgbImage::from_raw(w, h, rgb).map(DynamicImage::ImageRgb8)
        }
    }
    .ok_or("JPEG decoder returned a short buffer")?;
    Ok(Decoded {
        image,
        width,
        height,
        pixel_hash,
        from: DecodedFrom::Image,
        icc,
    })
}

/// One CMYK pixel as jpeg-decoder returns it, to RGB exactly as PIL does.
///
/// PIL reads every 4-channel JPEG as Adobe-inverted CMYK (`CMYK;I`), and
/// libjpeg turns YCCK into CMYK first; jpeg-decoder's output for both CMYK
/// and YCCK files already equals that inverted image. PIL's `cmyk2rgb` then
/// computes `nk - nk * c / 255` with `nk = 255 - k`, in its rounding
/// `MULDIV255`.
fn cmyk_to_rgb_like_pil(p: &[u8]) -> [u8; 3] {
    let nk = 255 - p[3] as u32;
    let muldiv255 = |a: u32, b: u32| {
        let t = a * b + 128;
        ((t >> 8) + t) >> 8
    };
    [p[0], p[1], p[2]].map(|c| (nk - muldiv255(c as u32, nk)) as u8)
}

/// JPEG XL through jxl-oxide, which applies the codestream's orientation
/// while rendering (so the EXIF tag is not applied again) and returns 8- or
/// 16-bit samples. The size is checked before any pixel is decoded.
fn decode_jxl(bytes: &[u8], min_edge: u32) -> Result<Decoded, String> {
    use image::ImageDecoder;
    let decoder = jxl_oxide::integration::JxlDecoder::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable JPEG XL image ({e})"))?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height)?;
    let mut decoder = decoder;
    let icc = decoder.icc_profile().ok().flatten();
    // jxl-oxide renders whatever part of a truncated file it has.
    let parsed = jxl_oxide::JxlImage::builder()
        .read(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable JPEG XL image ({e})"))?;
    if !parsed.is_loading_done() {
        return Err("JPEG XL is truncated: the file ends before the image data does (an incomplete copy or download?)".into());
    }
    let mut full = DynamicImage::from_decoder(decoder)
        .map_err(|e| format!("JPEG XL data is corrupt or truncated ({e})"))?;
    if full.color().has_alpha() && alpha_is_premultiplied(&parsed) {
        unpremultiply(&mut full);
    }
    Ok(Decoded {
        icc,
        ..reduce(full, min_edge)
    })
}

/// Whether the JPEG XL's alpha channel is "associated": its colours are
/// stored multiplied by alpha, and jxl-oxide returns them so.
fn alpha_is_premultiplied(image: &jxl_oxide::JxlImage) -> bool {
    let metadata = &image.image_header().metadata;
    metadata
        .alpha()
        .and_then(|i| metadata.ec_info.get(i))
        .and_then(|ec| ec.alpha_associated())
        .unwrap_or(false)
}

/// Straight alpha from premultiplied, as every other decoder returns it.
fn unpremultiply(image: &mut DynamicImage) {
    fn straight<T: Copy + Into<u32> + TryFrom<u32>>(pixels: &mut [T], max: u32) {
        for p in pixels.chunks_exact_mut(4) {
            let a: u32 = p[3].into();
            for c in &mut p[..3] {
                let v: u32 = (*c).into();
                let out = (v * max + a / 2).checked_div(a).unwrap_or(0);
                *c = T::try_from(out.min(max)).unwrap_or(*c);
            }
        }
    }
    match image {
        DynamicImage::ImageRgba8(b) => straight(b, 255),
        DynamicImage::ImageRgba16(b) => straight(b, 65_535),
        _ => {}
    }
}

/// A fully decoded image, hashed and brought down to `min_edge`.
pub(crate) fn reduce(full: DynamicImage, min_edge: u32) -> Decoded {
    let (width, height) = (full.width(), full.height());
    let pixel_hash = hash_pixels(width, height, full.as_bytes());
    let (req_w, req_h) = requested_size(width, height, min_edge);
    let image = if req_w < width && req_h < height {
        full.resize_exact(req_w, req_h, image::imageops::FilterType::Triangle)
    } else {
        full
    };
    Decoded {
        image,
        width,
        height,
        pixel_hash,
        from: DecodedFrom::Image,
        icc: None,
    }
}

/// The most a PNG's compressed side channels (ICC profile, compressed
/// text) may inflate to, together. Real ICC profiles are well under 1 MiB.
pub const MAX_PNG_SIDE_BYTES: usize = 16 << 20;

/// Inflates each compressed side channel of a PNG (iCCP, zTXt, compressed
/// iTXt) within [`MAX_PNG_SIDE_BYTES`] before any decoder sees the file: the
/// decoder would inflate an ICC profile with only the pixel budget as its
/// limit, so a 1.5 MB file could claim 1.5 GB.
pub fn check_png_side_channels(bytes: &[u8]) -> Result<(), String> {
    let mut at = 8; // after the signature
    let mut budget = MAX_PNG_SIDE_BYTES;
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let Some(data) = bytes.get(at + 8..(at + 8).saturating_add(len)) else {
            return Ok(()); // truncated: the decoder reports it
        };
        let compressed = match kind {
            b"iCCP" | b"zTXt" => {
                // keyword \0 method data
                data.iter()
                    .position(|&b| b == 0)
                    .and_then(|nul| data.get(nul + 2..))
            }
            b"iTXt" => data.iter().position(|&b| b == 0).and_then(|nul| {
                // keyword \0 flag method language \0 translated \0 text
                if data.get(nul + 1) != Some(&1) {
                    return None;
                }
                let rest = data.get(nul + 3..)?;
                let lang = rest.iter().position(|&b| b == 0)?;
                let rest = &rest[lang + 1..];
                let translated = rest.iter().position(|&b| b == 0)?;
                Some(&rest[translated + 1..])
            }),
            b"IEND" => return Ok(()),
            _ => None,
        };
        if let Some(stream) = compressed {
            match miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(stream, budget) {
                Ok(inflated) => budget -= inflated.len(),
                Err(e) if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                    return Err(format!(
                        "the PNG's {} chunk inflates past {} MiB: a decompression bomb, not decoded",
                        String::from_utf8_lossy(kind),
                        MAX_PNG_SIDE_BYTES >> 20
                    ));
                }
                // Corrupt metadata: the decoder ignores or reports it.
                Err(_) => {}
            }
        }
        at = at.saturating_add(12).saturating_add(len);
    }
    Ok(())
}

/// The most pixels one byte of each format's data can stand for (its
/// best-case compression, rounded up generously). A file declaring more
/// pixels than its size allows is a bomb or truncated, and is refused
/// before the full-size buffer is allocated: these formats cannot decode
/// at a reduced size.
fn max_pixels_per_byte(format: image::ImageFormat) -> Option<u64> {
    match format {
        // LZW: at most about 1,400 pixels per byte of codes.
        image::ImageFormat::Gif => Some(4096),
        // Deflate (at most 1,032:1) of 1-bit pixels.
        image::ImageFormat::Png => Some(16_384),
        // RLE: 255 pixels per 2-byte run.
        image::ImageFormat::Bmp => Some(1024),
        _ => None,
    }
}

fn check_density(
    bytes: usize,
    width: u32,
    height: u32,
    format: image::ImageFormat,
) -> Result<(), String> {
    let Some(ratio) = max_pixels_per_byte(format) else {
        return Ok(());
    };
    let pixels = width as u64 * height as u64;
    if pixels > (bytes as u64).saturating_mul(ratio) {
        return Err(format!(
            "the {} declares {width}x{height} pixels, more than its {bytes} bytes can hold: a decompression bomb or a truncated file, not decoded",
            format_name(format)
        ));
    }
    Ok(())
}

fn decode_with_image_crate(
    bytes: &[u8],
    format: image::ImageFormat,
    min_edge: u32,
) -> Result<Decoded, String> {
    if format == image::ImageFormat::Png {
        check_png_side_channels(bytes)?;
    }
    let reader = || ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|e| format!("not a readable {} image ({e})", format_name(format)))?;
    check_dimensions(width, height)?;
    check_density(bytes.len(), width, height, format)?;
    let mut limited = reader();
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 8);
    limited.limits(limits);
    let corrupt = |e: image::ImageError| {
        format!("{} data is corrupt or truncated ({e})", format_name(format))
    };
    let mut decoder = limited.into_decoder().map_err(corrupt)?;
    let icc = image::ImageDecoder::icc_profile(&mut decoder)
        .ok()
        .flatten();
    let full = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    Ok(Decoded {
        icc,
        ..reduce(full, min_edge)
    })
}

fn format_name(format: image::ImageFormat) -> &'static str {
    format.extensions_str().first().copied().unwrap_or("image")
}

/// The size whose shorter edge is `min_edge`, keeping the aspect ratio
/// (rounding up so the result never falls below it).
fn requested_size(width: u32, height: u32, min_edge: u32) -> (u32, u32) {
    let short = width.min(height);
    if short <= min_edge {
        return (width, height);
    }
    let scale = |side: u32| ((side as u64 * min_edge as u64).div_ceil(short as u64)) as u32;
    (scale(width), scale(height))
}

fn hash_pixels(width: u32, height: u32, pixels: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&width.to_le_bytes());
    hasher.update(&height.to_le_bytes());
    hasher.update(pixels);
    *hasher.finalize().as_bytes()
}

/// What to hand the decoder for a file of format `fmt`: the file itself, or
/// a RAW file's embedded JPEG preview. `Err` says why there is nothing to
/// decode (a RAW without a preview).
pub fn decodable(bytes: &[u8], fmt: Format) -> Result<(&[u8], Format), String> {
    match fmt {
        Format::Raw(kind) => raw::embedded_preview(bytes, kind)
            .ok_or_else(|| {
                format!("RAW ({kind}) sensor data is not supported yet, and this file has no embedded preview to show instead")
            }),
        other => Ok((bytes, other)),
    }
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    crate::regular_file::read(path, super::analyze::MAX_FILE_BYTES)
        .map_err(|e| format!("the file is {e}"))
}

/// A file read, sniffed and decoded so that its short edge is at least
/// `min_edge`; also its format, for the orientation rule.
fn decode_file(
    path: &std::path::Path,
    min_edge: u32,
) -> Result<(Decoded, Format, Vec<u8>), String> {
    let bytes = read_file(path)?;
    let head = &bytes[..bytes.len().min(super::format::SNIFF_LEN)];
    let fmt = super::format::sniff(head, path).ok_or("not an image")?;
    let (data, data_fmt) = decodable(&bytes, fmt)?;
    let decoded = decode_reduced(data, data_fmt, min_edge)?;
    Ok((decoded, fmt, bytes))
}

/// A file's pixels, upright, with a short edge of at least `min_edge`: the
/// same reduced decode the scan uses, for consumers that come later (the
/// embedding job, previews).
pub fn load_upright(
    path: &std::path::Path,
    min_edge: u32,
    orientation: u16,
) -> Result<DynamicImage, String> {
    let (decoded, _, _) = decode_file(path, min_edge)?;
    Ok(apply_orientation(decoded.image, orientation))
}

/// Like [`load_upright`], converted to sRGB from the file's colour profile:
/// what thumbnails and previews show.
pub fn load_upright_for_display(
    path: &std::path::Path,
    min_edge: u32,
    orientation: u16,
) -> Result<DynamicImage, String> {
    let (decoded, _, _) = decode_file(path, min_edge)?;
    let upright = apply_orientation(decoded.image, orientation);
    Ok(super::display::to_srgb(upright, decoded.icc.as_deref()))
}

/// A file's pixels at full size, upright: the input a reference
/// implementation (PIL) would see. Slower than [`load_upright`].
pub fn load_full_upright(path: &std::path::Path) -> Result<DynamicImage, String> {
    let (decoded, fmt, bytes) = decode_file(path, u32::MAX)?;
    let orientation = effective_orientation(fmt, orientation_of(&bytes));
    Ok(apply_orientation(decoded.image, orientation))
}

/// The orientation to apply to a file's decoded pixels; 1 when absent or
/// unreadable.
pub fn file_orientation(path: &std::path::Path) -> u16 {
    let Ok(bytes) = read_file(path) else {
        return 1;
    };
    let head = &bytes[..bytes.len().min(super::format::SNIFF_LEN)];
    match super::format::sniff(head, path) {
        Some(fmt) => effective_orientation(fmt, orientation_of(&bytes)),
        None => 1,
    }
}

/// The orientation to apply after decoding a file of format `fmt` whose
/// EXIF says `exif_orientation`. HEIF containers carry their own
/// transforms (`irot`, `imir`), which libheif applies while decoding; the
/// HEIF specification gives them precedence and iPhones write both, so the
/// EXIF tag must not turn the image a second time. JPEG XL's codestream
/// orientation is applied by its decoder likewise.
pub fn effective_orientation(fmt: Format, exif_orientation: u16) -> u16 {
    match fmt {
        Format::Heif | Format::Avif | Format::Jxl => 1,
        _ => exif_orientation.max(1),
    }
}

fn orientation_of(bytes: &[u8]) -> u16 {
    match super::metadata::read(bytes) {
        Ok(Some(m)) => m.orientation.max(1),
        _ => 1,
    }
}

/// Turns the stored raster upright according to the EXIF orientation.
pub fn apply_orientation(image: DynamicImage, orientation: u16) -> DynamicImage {
    let mut image = image;
    if let Some(o) = image::metadata::Orientation::from_exif(orientation as u8) {
        image.apply_orientation(o);
    }
    image
}

/// Width and height as the user sees them, after orientation.
pub fn upright_size(width: u32, height: u32, orientation: u16) -> (u32, u32) {
    if (5..=8).contains(&orientation) {
        (height, width)
    } else {
        (width, height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_size_keeps_short_edge() {
        assert_eq!(requested_size(4000, 3000, 256), (342, 256));
        assert_eq!(requested_size(3000, 4000, 256), (256, 342));
        assert_eq!(requested_size(200, 100, 256), (200, 100));
    }

    #[test]
    fn refuses_bombs_before_decoding() {
        assert!(check_dimensions(100_000, 100_000).is_err());
        assert!(check_dimensions(20_000, 20_000).is_err());
        assert!(check_dimensions(0, 10).is_err());
        assert!(check_dimensions(4000, 3000).is_ok());
    }
}
