//! Duplicate fixtures: edited variants of the cc0 photos, written as real
//! files, plus distractors that must never group.

use std::path::Path;

use image::imageops::FilterType;
use image::DynamicImage;

use super::{cc0_dir, encode_jpeg, jpeg_with_exif, with_comment, write, ExifSpec};

/// The cc0 photos the variants are made from, and the distractors.
pub const SOURCES: &[&str] = &["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"];
pub const DISTRACTORS: &[&str] = &[
    "brick.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "camera.png",
];

/// The near-duplicate edits written for each source (besides `original`).
pub const EDITS: &[&str] = &["resize50", "q35", "crop90", "colour", "gray"];

pub fn load(name: &str, long_edge: u32) -> DynamicImage {
    let img = image::open(cc0_dir().join(name)).unwrap();
    img.resize(long_edge, long_edge, FilterType::Triangle)
}

pub fn stem(name: &str) -> &str {
    name.split('.').next().unwrap()
}

/// Writes `dir/<stem>/original.jpg` (with EXIF), the edits, a
/// metadata-only change (`meta.jpg`: same pixels, other bytes) and, with
/// `copy`, a byte-identical copy in `dir/backup/<stem>.jpg`.
pub fn write_variants(dir: &Path, name: &str, copy: bool) {
    let src = load(name, 640).to_rgb8();
    let s = stem(name);
    let original = jpeg_with_exif(
        &src,
        &ExifSpec {
            date: Some("2021:06:01 10:00:00"),
            offset: Some("+02:00"),
            make: Some("Canon"),
            model: Some("EOS 5D"),
            ..Default::default()
        },
    );
    write(&dir.join(s).join("original.jpg"), &original);
    write(
        &dir.join(s).join("meta.jpg"),
        &with_comment(&original, "caption edited, pixels untouched"),
    );
    if copy {
        write(&dir.join("backup").join(format!("{s}.jpg")), &original);
    }
    for edit in EDITS {
        write(
            &dir.join(s).join(format!("{edit}.jpg")),
            &edit_jpeg(&src, edit),
        );
    }
}

pub fn edit_jpeg(src: &image::RgbImage, edit: &str) -> Vec<u8> {
    let (w, h) = src.dimensions();
    let img = DynamicImage::ImageRgb8(src.clone());
    let out = match edit {
        "resize50" => img.resize_exact(w / 2, h / 2, FilterType::Lanczos3),
        "q35" => return encode_jpeg(src, 35),
        "crop90" => img.crop_imm(w / 20, h / 20, w * 9 / 10, h * 9 / 10),
        "colour" => img.brighten(18).adjust_contrast(12.0),
        "gray" => DynamicImage::ImageRgb8(img.grayscale().to_rgb8()),
        other => panic!("unknown edit {other}"),
    };
    encode_jpeg(&out.to_rgb8(), 90)
}

pub fn write_distractors(dir: &Path) {
    for name in DISTRACTORS {
        let img = load(name, 640).to_rgb8();
        write(
            &dir.join("other").join(format!("{}.jpg", stem(name))),
            &encode_jpeg(&img, 90),
        );
    }
}
