//! Format detection from the first bytes of a file. The extension only decides
//! whether a non-image is worth reporting (a `.jpg` that is really text) or is
//! just an unrelated file to skip (notes, videos, sidecars).

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
    Gif,
    Tiff,
    Bmp,
    /// A camera RAW; the name is the family, e.g. "nef".
    Raw(&'static str),
    /// HEIC/HEIF containers (HEVC inside), decoded by libheif.
    Heif,
    /// AVIF (AV1 inside a HEIF container), decoded by libheif.
    Avif,
    /// JPEG XL, bare codestream or ISO BMFF container.
    Jxl,
}

impl Format {
    pub fn name(self) -> String {
        match self {
            Format::Jpeg => "jpeg".into(),
            Format::Png => "png".into(),
            Format::WebP => "webp".into(),
            Format::Gif => "gif".into(),
            Format::Tiff => "tiff".into(),
            Format::Bmp => "bmp".into(),
            Format::Raw(kind) => format!("raw-{kind}"),
            Format::Heif => "heif".into(),
            Format::Avif => "avif".into(),
            Format::Jxl => "jxl".into(),
        }
    }

    pub fn image_format(self) -> Option<image::ImageFormat> {
        Some(match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::WebP => image::ImageFormat::WebP,
            Format::Gif => image::ImageFormat::Gif,
            Format::Tiff => image::ImageFormat::Tiff,
            Format::Bmp => image::ImageFormat::Bmp,
            Format::Raw(_) | Format::Heif | Format::Avif | Format::Jxl => return None,
        })
    }
}

const RAW_TIFF_EXTENSIONS: &[&str] = &[
    "nef", "nrw", "cr2", "arw", "srf", "sr2", "dng", "pef", "3fr", "erf", "kdc", "mef", "mos",
    "srw", "iiq", "rwl",
];

const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "webp", "gif", "tif", "tiff", "bmp", "dib", "heic",
    "heif", "avif", "hif", "jxl", "cr3", "raf", "orf", "rw2",
];

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "mov", "m4v", "3gp", "avi", "mkv", "webm", "mts", "m2ts", "wmv", "mpg", "mpeg",
];

/// True for the videos phones and cameras record (by name: their content is
/// not read). They are listed as not indexed yet, unless they belong to a
/// Live Photo.
pub fn is_video(path: &Path) -> bool {
    extension(path).is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.as_str()))
}

/// True when the name promises an image, so failing to read it is an error
/// the user should see rather than a file to ignore.
pub fn looks_like_image(path: &Path) -> bool {
    extension(path).is_some_and(|e| {
        IMAGE_EXTENSIONS.contains(&e.as_str()) || RAW_TIFF_EXTENSIONS.contains(&e.as_str())
    })
}

/// How many leading bytes `sniff` needs.
pub const SNIFF_LEN: usize = 32;

pub fn sniff(head: &[u8], path: &Path) -> Option<Format> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some(Format::Png);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(Format::WebP);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some(Format::Gif);
    }
    if starts(b"BM") && head.len() >= 14 {
        return Some(Format::Bmp);
    }
    if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0CJXL \r\n\x87\n") {
        return Some(Format::Jxl);
    }
    if starts(b"FUJIFILMCCD-RAW") {
        return Some(Format::Raw("raf"));
    }
    if starts(b"IIRO") || starts(b"IIRS") || starts(b"MMOR") {
        return Some(Format::Raw("orf"));
    }
    if starts(b"IIU\0") {
        return Some(Format::Raw("rw2"));
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return match &head[8..12] {
            b"crx " => Some(Format::Raw("cr3")),
            b"avif" | b"avis" => Some(Format::Avif),
            // Generic HEIF brands: the compatible brands say which codec.
            b"mif1" | b"msf1" if compatible_brands(head).any(|b| b == b"avif" || b == b"avis") => {
                Some(Format::Avif)
            }
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                Some(Format::Heif)
            }
            _ => None,
        };
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        if head.len() >= 10 && &head[8..10] == b"CR" {
            return Some(Format::Raw("cr2"));
        }
        // NEF, ARW, DNG and friends are TIFF containers; only the name tells
        // them apart from a plain TIFF, and they must not be decoded as one
        // (the first IFD is often a tiny thumbnail or raw sensor data).
        if let Some(ext) = extension(path) {
            if let Some(kind) = RAW_TIFF_EXTENSIONS.iter().find(|k| **k == ext) {
                return Some(Format::Raw(kind));
            }
        }
        return Some(Format::Tiff);
    }
    None
}

/// The compatible brands of an `ftyp` box, as far as `head` holds them.
fn compatible_brands(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let size = head
        .get(..4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    head.get(16..size.min(head.len()))
        .unwrap_or_default()
        .chunks_exact(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_wins_over_extension() {
        let png = b"\x89PNG\r\n\x1a\n0000000000000000";
        assert_eq!(sniff(png, Path::new("x.jpg")), Some(Format::Png));
        assert_eq!(
            sniff(b"hello world, not an image", Path::new("x.jpg")),
            None
        );
        assert_eq!(
            sniff(b"II*\0\x08\0\0\0", Path::new("a.NEF")),
            Some(Format::Raw("nef"))
        );
        assert_eq!(
            sniff(b"II*\0\x08\0\0\0", Path::new("a.tif")),
            Some(Format::Tiff)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0", Path::new("a.heic")),
            Some(Format::Heif)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif", Path::new("a")),
            Some(Format::Avif)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic", Path::new("a")),
            Some(Format::Heif)
        );
        assert_eq!(
            sniff(b"\0\0\0\x0CJXL \r\n\x87\n\0\0", Path::new("a.bin")),
            Some(Format::Jxl)
        );
        assert_eq!(
            sniff(&[0xFF, 0x0A, 1, 2], Path::new("a")),
            Some(Format::Jxl)
        );
    }
}
