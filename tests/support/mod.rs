//! Test helpers shared by the engine and CLI integration tests: real image
//! files generated on the fly (with real EXIF), and the cc0 fixtures.
#![allow(dead_code)]

pub mod hub;
pub mod library;
pub mod variants;

use std::path::{Path, PathBuf};

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::{DynamicImage, Rgb, RgbImage};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The committed tiny model the tests embed with (random weights, real
/// architecture): CLIP, or SigLIP when `SHOEBOX_TEST_FAMILY=siglip` (the
/// test command runs the CLI tests once with each family).
pub fn tiny_model_dir() -> PathBuf {
    let name = match std::env::var("SHOEBOX_TEST_FAMILY").as_deref() {
        Ok("siglip") => "siglip-tiny",
        _ => "clip-tiny",
    };
    repo_root().join("tests/fixtures/models").join(name)
}

/// The committed tiny SigLIP model, whatever the family under test.
pub fn tiny_siglip_dir() -> PathBuf {
    repo_root().join("tests/fixtures/models/siglip-tiny")
}

pub fn cc0_dir() -> PathBuf {
    repo_root().join("tests/fixtures/cc0")
}

pub fn cc0_images() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cc0_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg"))
        .collect();
    v.sort();
    v
}

/// A deterministic, photo-like picture: smooth gradients plus a few blocks,
/// different for every seed.
pub fn synthetic(width: u32, height: u32, seed: u32) -> RgbImage {
    let s = seed.wrapping_mul(2654435761);
    RgbImage::from_fn(width, height, |x, y| {
        let fx = x as f32 / width as f32;
        let fy = y as f32 / height as f32;
        let block = ((x * 7 / width.max(1)) + (y * 5 / height.max(1)) + s % 11) % 3;
        let base = [
            (fx * 200.0) as u8,
            (fy * 200.0) as u8,
            ((s >> 8) % 200) as u8,
        ];
        let mut px = base;
        px[block as usize] = px[block as usize].saturating_add(55);
        // A 32-bit barcode of the seed along the top edge keeps every seed's
        // picture distinct (identical pictures would be one photo).
        let bar_h = (height / 16).max(1);
        if y < bar_h {
            let bit = (x * 32 / width.max(1)).min(31);
            let on = (seed >> bit) & 1 == 1;
            px = if on { [250, 250, 250] } else { [5, 5, 5] };
        }
        Rgb(px)
    })
}

/// A large synthetic picture, made by upscaling a small one (per-pixel
/// closures in unoptimised test code are slow; the resize is optimised).
pub fn synthetic_large(width: u32, height: u32, seed: u32) -> RgbImage {
    let small = synthetic((width / 8).max(32), (height / 8).max(32), seed);
    image::imageops::resize(&small, width, height, image::imageops::FilterType::Triangle)
}

pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

/// A byte-distinct copy of a JPEG with the same pixels: a COM segment right
/// after SOI. Identity is the file's content hash, so each copy is its own
/// photo, without paying for another encode.
pub fn with_comment(jpeg: &[u8], comment: &str) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let len = u16::try_from(comment.len() + 2).unwrap();
    let mut out = Vec::with_capacity(jpeg.len() + comment.len() + 4);
    out.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xFE]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(comment.as_bytes());
    out.extend_from_slice(&jpeg[2..]);
    out
}

pub fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// EXIF fields a test wants in a JPEG.
#[derive(Default, Clone)]
pub struct ExifSpec {
    pub date: Option<&'static str>,
    pub offset: Option<&'static str>,
    pub make: Option<&'static str>,
    pub model: Option<&'static str>,
    pub lens: Option<&'static str>,
    /// (lat, lon) in signed degrees.
    pub gps: Option<(f64, f64)>,
    pub orientation: Option<u16>,
}

fn ascii(tag: Tag, s: &str) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![s.as_bytes().to_vec()]),
    }
}

fn dms(v: f64) -> Value {
    let v = v.abs();
    let d = v.trunc();
    let m = ((v - d) * 60.0).trunc();
    let s = ((v - d) * 60.0 - m) * 60.0;
    Value::Rational(vec![
        Rational {
            num: d as u32,
            denom: 1,
        },
        Rational {
            num: m as u32,
            denom: 1,
        },
        Rational {
            num: (s * 10000.0).round() as u32,
            denom: 10000,
        },
    ])
}

/// A TIFF-structured EXIF block (no "Exif\0\0" prefix).
pub fn exif_block(spec: &ExifSpec) -> Vec<u8> {
    let mut fields = Vec::new();
    if let Some(d) = spec.date {
        fields.push(ascii(Tag::DateTimeOriginal, d));
    }
    if let Some(o) = spec.offset {
        fields.push(ascii(Tag::OffsetTimeOriginal, o));
    }
    if let Some(m) = spec.make {
        fields.push(ascii(Tag::Make, m));
    }
    if let Some(m) = spec.model {
        fields.push(ascii(Tag::Model, m));
    }
    if let Some(l) = spec.lens {
        fields.push(ascii(Tag::LensModel, l));
    }
    if let Some(o) = spec.orientation {
        fields.push(Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![o]),
        });
    }
    if let Some((lat, lon)) = spec.gps {
        fields.push(ascii(
            Tag::GPSLatitudeRef,
            if lat < 0.0 { "S" } else { "N" },
        ));
        fields.push(Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: dms(lat),
        });
        fields.push(ascii(
            Tag::GPSLongitudeRef,
            if lon < 0.0 { "W" } else { "E" },
        ));
        fields.push(Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: dms(lon),
        });
    }
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    writer.write(&mut out, false).unwrap();
    out.into_inner()
}

/// Inserts an APP1 segment with `payload` right after the SOI marker.
pub fn with_app1(jpeg: &[u8], payload: &[u8]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let len = (payload.len() + 2) as u16;
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

pub fn jpeg_with_exif(img: &RgbImage, spec: &ExifSpec) -> Vec<u8> {
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(exif_block(spec));
    with_app1(&encode_jpeg(img, 90), &payload)
}

/// A minimal TIFF-structured "RAW" whose IFD0 points at an embedded JPEG
/// preview, the way NEF/DNG/ARW files carry theirs.
pub fn fake_raw_with_preview(preview_jpeg: &[u8]) -> Vec<u8> {
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    // IFD0: 2 entries, then next-IFD = 0.
    let data_offset = 8 + 2 + 2 * 12 + 4;
    out.extend_from_slice(&2u16.to_le_bytes());
    for (tag, value) in [
        (0x0201u16, data_offset as u32),
        (0x0202, preview_jpeg.len() as u32),
    ] {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes()); // LONG
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(out.len(), data_offset);
    out.extend_from_slice(preview_jpeg);
    out
}

/// A PNG that declares `w`x`h` pixels in a few dozen bytes: a decompression
/// bomb as far as any decoder that trusts the header is concerned.
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let chunk = png_chunk;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Appends one PNG chunk (length, type, data, CRC).
pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc_input);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

/// `png` with one more chunk right after IHDR (where iCCP and text go).
pub fn png_with_chunk(png: &[u8], kind: &[u8], data: &[u8]) -> Vec<u8> {
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut out = png[..ihdr_end].to_vec();
    png_chunk(&mut out, kind, data);
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A JPEG whose frame header claims `w`x`h` (the data stays tiny).
pub fn jpeg_bomb(w: u16, h: u16) -> Vec<u8> {
    let mut jpeg = encode_jpeg(&synthetic(16, 16, 1), 80);
    let sof = jpeg
        .windows(2)
        .position(|p| p[0] == 0xFF && (p[1] == 0xC0 || p[1] == 0xC2))
        .unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    jpeg
}

pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// EXIF orientation whose transform undoes orientation `o`.
pub fn inverse_orientation(o: u8) -> u8 {
    match o {
        6 => 8,
        8 => 6,
        other => other,
    }
}

pub fn is_root() -> bool {
    // SAFETY-free check: root's home is /root and `id -u` prints 0.
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// xorshift: reproducible "random" choices without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The content identifier of the Live Photo still in
/// tests/fixtures/formats/live (Apple maker note, tag 0x11).
pub const LIVE_STILL_ID: &str = "570F1469-09C7-4E50-9875-05F21D5BD166";

pub fn live_still() -> Vec<u8> {
    std::fs::read(
        repo_root().join("tests/fixtures/formats/live/iphone11promax_livephoto_still_gps.heic"),
    )
    .unwrap()
}

fn qt_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut b = ((8 + payload.len()) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(payload);
    b
}

/// A QuickTime movie as an iPhone writes a Live Photo's video, as far as
/// pairing goes: `ftyp qt`, a large `mdat` first, then `moov/meta` with a
/// `keys` box naming `com.apple.quicktime.content.identifier` and an `ilst`
/// item holding `content_id` as UTF-8.
pub fn live_movie(content_id: &str) -> Vec<u8> {
    let key = b"com.apple.quicktime.content.identifier";
    let mut hdlr = vec![0u8; 8];
    hdlr.extend_from_slice(b"mdta");
    hdlr.extend_from_slice(&[0u8; 13]);
    let mut keys = vec![0, 0, 0, 0, 0, 0, 0, 1];
    keys.extend(qt_box(b"mdta", key));
    let mut data = vec![0, 0, 0, 1, 0, 0, 0, 0];
    data.extend_from_slice(content_id.as_bytes());
    let item = qt_box(&1u32.to_be_bytes(), &qt_box(b"data", &data));
    let meta = [
        qt_box(b"hdlr", &hdlr),
        qt_box(b"keys", &keys),
        qt_box(b"ilst", &item),
    ]
    .concat();
    let moov = qt_box(b"moov", &qt_box(b"meta", &meta));
    [
        qt_box(b"ftyp", b"qt  \0\0\0\0qt  "),
        qt_box(b"mdat", &vec![0x5A; 256 * 1024]),
        moov,
    ]
    .concat()
}
