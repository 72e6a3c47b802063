//! Thumbnail cache: JPEG files keyed by photo hash, so moves and copies share
//! one thumbnail and a rescan never redoes them.

use std::path::{Path, PathBuf};

use image::DynamicImage;

use crate::catalog::hex;

/// Grid thumbnails fit in this box.
pub const GRID_SIZE: u32 = 256;
/// Large previews (photo view) fit in this box; made on first view.
pub const PREVIEW_SIZE: u32 = 1024;
/// The cache folder inside a library folder.
pub const THUMBS_DIR: &str = "thumbs";
const JPEG_QUALITY: u8 = 85;
/// What transparent areas of a thumbnail show: a light neutral grey, so
/// neither black nor white artwork vanishes into it. (The model input drops
/// alpha instead, as the reference does; see docs/formats.md.)
pub const TRANSPARENT_BACKDROP: u8 = 0xE6;

/// RGB for a JPEG thumbnail: images with alpha are composited onto
/// [`TRANSPARENT_BACKDROP`], where dropping alpha would show whatever colour
/// the encoder left under transparent pixels (often black).
pub fn flatten_for_display(image: &DynamicImage) -> image::RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    let bg = TRANSPARENT_BACKDROP as u32;
    let pixels = rgba
        .as_raw()
        .chunks_exact(4)
        .flat_map(|p| {
            let a = p[3] as u32;
            [p[0], p[1], p[2]].map(|c| ((c as u32 * a + bg * (255 - a) + 127) / 255) as u8)
        })
        .collect();
    image::RgbImage::from_raw(rgba.width(), rgba.height(), pixels).expect("same size")
}

#[derive(Debug, Clone)]
pub struct ThumbCache {
    dir: PathBuf,
}

impl ThumbCache {
    pub fn new(dir: PathBuf) -> Self {
        ThumbCache { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, hash: &[u8; 32], size: u32) -> PathBuf {
        let name = hex(hash);
        self.dir.join(&name[..2]).join(format!("{name}-{size}.jpg"))
    }

    /// Resizes `upright` to fit `size` and writes it atomically (temp file +
    /// rename), so a kill -9 never leaves half a thumbnail under the real name.
    pub fn write(
        &self,
        hash: &[u8; 32],
        size: u32,
        upright: &DynamicImage,
    ) -> Result<PathBuf, String> {
        let fitted = if upright.width() > size || upright.height() > size {
            upright.resize(size, size, image::imageops::FilterType::Triangle)
        } else {
            upright.clone()
        };
        let rgb = flatten_for_display(&fitted);
        let target = self.path(hash, size);
        let parent = target.parent().expect("thumbnail path has a parent");
        std::fs::create_dir_all(parent).map_err(|e| {
            format!(
                "cannot create the thumbnail folder {}: {e}",
                parent.display()
            )
        })?;
        // Unique per write: copies of one photo share a hash, and may be
        // thumbnailed at once by two workers of one process.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let tmp = target.with_extension(format!(
            "tmp{}-{}",
            std::process::id(),
            WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let write = || -> Result<(), String> {
            let file = std::fs::File::create(&tmp).map_err(|e| e.to_string())?;
            let mut out = std::io::BufWriter::new(file);
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
                .encode_image(&rgb)
                .map_err(|e| e.to_string())?;
            use std::io::Write;
            out.flush().map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, &target).map_err(|e| e.to_string())
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write thumbnail {}: {e}", target.display())
        })?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparency_shows_the_backdrop_and_opaque_pixels_stay() {
        let rgba = image::RgbaImage::from_raw(2, 1, vec![0, 0, 0, 0, 10, 20, 30, 255]).unwrap();
        let flat = flatten_for_display(&DynamicImage::ImageRgba8(rgba));
        assert_eq!(flat.as_raw(), &[0xE6, 0xE6, 0xE6, 10, 20, 30]);
    }
}
