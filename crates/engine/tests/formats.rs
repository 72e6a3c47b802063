//! HEIC, HEIF, AVIF and JPEG XL end to end (issue 16): the real samples in
//! tests/fixtures/formats are scanned into a real catalog, and each must be
//! recorded with its format, upright size and metadata, get an upright
//! thumbnail whose colours match an independent decoder's
//! (tests/fixtures/formats/expected.json, from tools/reference/format_means.py),
//! embed, and find its JPEG export as a near duplicate.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Deserialize;
use shoebox_engine::dupes::Tier;
use shoebox_engine::embed::EmbedOptions;
use shoebox_engine::ingest::decode;
use support::library::{load_tiny_model, LibraryFixture as Fixture};
use support::*;

#[derive(Deserialize)]
struct Expected {
    upright_wh: [u32; 2],
    mean_rgb_shown: [f64; 3],
}

fn samples_dir() -> PathBuf {
    repo_root().join("tests/fixtures/formats")
}

fn expected() -> HashMap<String, Expected> {
    serde_json::from_str(&std::fs::read_to_string(samples_dir().join("expected.json")).unwrap())
        .unwrap()
}

fn format_of(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap() {
        "heic" | "hif" => "heif",
        "avif" => "avif",
        "jxl" => "jxl",
        other => panic!("no format for .{other}"),
    }
}

/// A fixture holding every sample, scanned.
fn scanned() -> Fixture {
    let f = Fixture::new();
    for name in expected().keys() {
        std::fs::copy(samples_dir().join(name), f.photos.join(name)).unwrap();
    }
    let report = f.scan();
    assert_eq!(report.new_photos as usize, expected().len(), "{report:?}");
    f
}

fn mean_rgb(image: &image::RgbImage) -> [f64; 3] {
    let mut sum = [0f64; 3];
    for p in image.pixels() {
        for c in 0..3 {
            sum[c] += p[c] as f64;
        }
    }
    let n = (image.width() * image.height()) as f64;
    sum.map(|s| s / n)
}

#[test]
fn every_sample_is_catalogued_upright_with_the_right_colours() {
    let f = scanned();
    let status = f.lib.status().unwrap();
    assert_eq!((status.errors, status.unsupported), (0, 0), "{status:?}");
    let mut wrong = Vec::new();
    for (name, want) in expected() {
        let info = f.lib.info(f.id(&name)).unwrap();
        if info.format != format_of(&name) || [info.width, info.height] != want.upright_wh {
            wrong.push(format!(
                "{name}: {} {}x{}, want {} {:?}",
                info.format,
                info.width,
                info.height,
                format_of(&name),
                want.upright_wh
            ));
        }
        // The container's transforms are applied by the decoder; nothing
        // is left to turn.
        assert_eq!(info.orientation, 1, "{name}");
        let thumb = image::open(f.lib.thumbnail(info.id, 256).unwrap()).unwrap();
        let (tw, th) = (thumb.width(), thumb.height());
        let (w, h) = (want.upright_wh[0], want.upright_wh[1]);
        // Upright: the thumbnail has the photo's shape, not the stored one's.
        if (tw >= th) != (w >= h) && w != h {
            wrong.push(format!(
                "{name}: thumbnail {tw}x{th} is not upright ({w}x{h})"
            ));
        }
        let got = mean_rgb(&thumb.to_rgb8());
        let off = (0..3)
            .map(|c| (got[c] - want.mean_rgb_shown[c]).abs())
            .fold(0f64, f64::max);
        // JPEG quality 85 and the reduction move a mean by a level or two;
        // a wrong colour conversion, channel order or alpha moves it by tens.
        if off > 4.0 {
            wrong.push(format!(
                "{name}: thumbnail mean {got:.1?}, reference {:?}",
                want.mean_rgb_shown
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn iphone_heic_metadata_is_read() {
    let f = scanned();
    let grid = f
        .lib
        .info(f.id("iphone13promax_grid_orient6.heic"))
        .unwrap();
    assert_eq!(
        grid.capture.taken_at.as_deref(),
        Some("2022-02-16T12:55:41+01:00")
    );
    assert_eq!(
        grid.capture.camera_model.as_deref(),
        Some("iPhone 13 Pro Max")
    );
    let ios18 = f
        .lib
        .info(f.id("iphone15pro_ios18_tmap_gainmap.heic"))
        .unwrap();
    assert_eq!(
        ios18.capture.taken_at.as_deref(),
        Some("2025-11-07T18:52:57-08:00")
    );
    let sony = f.lib.info(f.id("sony_a7s3_10bit_422.hif")).unwrap();
    assert_eq!(sony.capture.camera_model.as_deref(), Some("ILCE-7SM3"));
    let avif = f.lib.info(f.id("paris_icc_exif_xmp.avif")).unwrap();
    assert_eq!(avif.capture.camera_model.as_deref(), Some("Pixel 4a"));
}

#[test]
fn samples_embed_and_a_heic_finds_its_jpeg_export() {
    let f = scanned();
    // The export a user makes when sharing: the same picture as a JPEG.
    let heic = f.photos.join("iphone13promax_grid_orient6.heic");
    let upright = decode::load_full_upright(&heic).unwrap();
    upright
        .resize(1512, 2016, image::imageops::FilterType::Triangle)
        .to_rgb8()
        .save(f.photos.join("IMG_0001 export.jpg"))
        .unwrap();
    f.scan();
    let model = load_tiny_model(&f.lib);
    let report = f
        .lib
        .embed(&model, &EmbedOptions::default(), &|_| {})
        .unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(f.lib.status().unwrap().pending_embeddings, 0);
    let (heic_id, jpeg_id) = (
        f.id("iphone13promax_grid_orient6.heic"),
        f.id("IMG_0001 export.jpg"),
    );
    let report = f.lib.duplicate_report(Some(Tier::Near)).unwrap();
    let paired = report.groups.iter().any(|g| {
        let ids: Vec<i64> = g.members.iter().map(|m| m.photo_id).collect();
        ids.contains(&heic_id) && ids.contains(&jpeg_id)
    });
    assert!(
        paired,
        "no near-duplicate group holds the HEIC and its export: {report:#?}"
    );
}

/// Every `ispe` (image spatial extent) property of a HEIF file rewritten to
/// declare `w` x `h`: a grid that claims to be enormous in a tiny file.
fn with_declared_size(heif: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = heif.to_vec();
    let mut at = 0;
    while let Some(i) = out[at..].windows(4).position(|x| x == b"ispe") {
        let start = at + i + 8; // type, then version and flags
        out[start..start + 4].copy_from_slice(&w.to_be_bytes());
        out[start + 4..start + 8].copy_from_slice(&h.to_be_bytes());
        at = start + 8;
    }
    assert!(at > 0, "no ispe box found");
    out
}

#[test]
fn broken_and_hostile_heif_avif_and_jxl_files_are_per_file_errors() {
    let read = |name: &str| std::fs::read(samples_dir().join(name)).unwrap();
    let heic = read("iphone13promax_grid_orient6.heic");
    let avif = read("kimono_mirror_vertical_rotate270.avif");
    let jxl = read("bench_oriented_brg.jxl");
    let f = Fixture::with_files(&[
        (
            "bomb.heic",
            with_declared_size(&read("blue_grid_alpha.heic"), 60_000, 60_000),
        ),
        ("truncated.heic", heic[..heic.len() / 3].to_vec()),
        ("truncated.avif", avif[..avif.len() / 2].to_vec()),
        ("truncated.jxl", jxl[..jxl.len() / 2].to_vec()),
        ("header only.heic", heic[..64].to_vec()),
        // Right content, wrong name: read by content.
        ("really an avif.jpg", avif.clone()),
    ]);
    let report = f.scan();
    assert_eq!(report.new_photos, 1, "{report:?}");
    assert_eq!(
        f.lib.info(f.id("really an avif.jpg")).unwrap().format,
        "avif"
    );
    let errors = f.lib.errors().unwrap();
    let reason = |name: &str| {
        errors
            .iter()
            .find(|e| e.path.ends_with(name))
            .map(|e| e.reason.clone())
            .unwrap_or_else(|| panic!("no error recorded for {name}: {errors:#?}"))
    };
    assert!(
        reason("bomb.heic").contains("too large"),
        "{}",
        reason("bomb.heic")
    );
    for name in [
        "truncated.heic",
        "truncated.avif",
        "truncated.jxl",
        "header only.heic",
    ] {
        let r = reason(name);
        assert!(
            r.contains("HEIF") || r.contains("JPEG XL"),
            "{name}: the reason should name the format: {r}"
        );
    }
}

/// A Canon CR3 as far as its preview goes: `ftyp crx`, then Canon's
/// preview `uuid` box holding a `PRVW` box (a short header, then the JPEG).
fn cr3_with_preview(jpeg: &[u8]) -> Vec<u8> {
    let mut prvw = Vec::new();
    prvw.extend_from_slice(&((8 + 16 + jpeg.len()) as u32).to_be_bytes());
    prvw.extend_from_slice(b"PRVW");
    prvw.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0x06, 0x54, 0x04, 0x38, 0, 0]);
    prvw.extend_from_slice(&(jpeg.len() as u32).to_be_bytes());
    prvw.extend_from_slice(jpeg);
    let mut uuid = Vec::new();
    uuid.extend_from_slice(&((8 + 16 + 8 + prvw.len()) as u32).to_be_bytes());
    uuid.extend_from_slice(b"uuid");
    uuid.extend_from_slice(&[
        0xea, 0xf4, 0x2b, 0x5e, 0x1c, 0x98, 0x4b, 0x88, 0xb9, 0xfb, 0xb7, 0xdc, 0x40, 0x6e, 0x4d,
        0x16,
    ]);
    uuid.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]);
    uuid.extend_from_slice(&prvw);
    let mut file = b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom".to_vec();
    file.extend_from_slice(&uuid);
    file.extend_from_slice(b"\0\0\0\x08mdat");
    file
}

/// A DNG 1.7 as Apple ProRAW writes its preview: a TIFF whose IFD holds a
/// reduced-resolution image compressed with JPEG XL (Compression 52546) in
/// one strip.
fn dng_with_jxl_preview(jxl: &[u8]) -> Vec<u8> {
    let entries: [(u16, u16, u32); 6] = [
        (0x00FE, 4, 1),                // NewSubfileType: reduced resolution
        (0x0100, 4, 924),              // ImageWidth
        (0x0101, 4, 1386),             // ImageLength
        (0x0103, 3, 52546),            // Compression: JPEG XL
        (0x0111, 4, 0),                // StripOffsets, filled in below
        (0x0117, 4, jxl.len() as u32), // StripByteCounts
    ];
    let ifd_len = 2 + 12 * entries.len() + 4;
    let data_at = (8 + ifd_len) as u32;
    let mut file = b"II*\0\x08\0\0\0".to_vec();
    file.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        let value = if tag == 0x0111 { data_at } else { value };
        file.extend_from_slice(&tag.to_le_bytes());
        file.extend_from_slice(&kind.to_le_bytes());
        file.extend_from_slice(&1u32.to_le_bytes());
        if kind == 3 {
            file.extend_from_slice(&(value as u16).to_le_bytes());
            file.extend_from_slice(&[0, 0]);
        } else {
            file.extend_from_slice(&value.to_le_bytes());
        }
    }
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(jxl);
    file
}

#[test]
fn raw_previews_are_used_and_the_catalog_says_so() {
    let preview = encode_jpeg(&synthetic(1620, 1080, 7), 85);
    let rw2 = std::fs::read(samples_dir().join("raw/exiftool_Panasonic.rw2")).unwrap();
    let jxl = std::fs::read(samples_dir().join("sunset_logo.jxl")).unwrap();
    let f = Fixture::with_files(&[
        ("P1000001.RW2", rw2),
        ("IMG_0001.CR3", cr3_with_preview(&preview)),
        ("IMG_0002.DNG", dng_with_jxl_preview(&jxl)),
        // A CR3 whose preview box was cut off: not supported, with a reason.
        ("IMG_0003.CR3", cr3_with_preview(&preview)[..200].to_vec()),
        (
            "thumbnail item.heic",
            std::fs::read(samples_dir().join("heif_enc_hubble_thumb400.heic")).unwrap(),
        ),
    ]);
    let report = f.scan();
    assert_eq!(
        report.new_photos,
        4,
        "{report:?} {:#?}",
        f.lib.errors().unwrap()
    );
    let cases = [
        ("P1000001.RW2", "raw-rw2", "embedded preview"),
        ("IMG_0001.CR3", "raw-cr3", "embedded preview"),
        ("IMG_0002.DNG", "raw-dng", "embedded preview"),
        ("thumbnail item.heic", "heif", "embedded thumbnail"),
    ];
    for (name, format, from) in cases {
        let info = f.lib.info(f.id(name)).unwrap();
        assert_eq!(
            (info.format.as_str(), info.decoded_from.as_deref()),
            (format, Some(from)),
            "{name}"
        );
    }
    let dng = f.lib.info(f.id("IMG_0002.DNG")).unwrap();
    assert_eq!((dng.width, dng.height), (924, 1386));
    let cut = f.lib.errors().unwrap();
    let cut = cut
        .iter()
        .find(|e| e.path.ends_with("IMG_0003.CR3"))
        .unwrap();
    assert_eq!(cut.kind, "unsupported");
    assert!(cut.reason.contains("no embedded preview"), "{}", cut.reason);
    // A full decode (the model's reference path) is the file's own image.
    let full = decode::load_full_upright(&f.photos.join("thumbnail item.heic")).unwrap();
    assert_eq!((full.width(), full.height()), (1000, 872));
}

/// Live Photos: the movie beside a still, with the same name and content
/// identifier, belongs to the still; it is no item of its own. Pairing
/// follows the disk at each scan.
#[test]
fn a_live_photo_movie_belongs_to_its_still() {
    let plain = std::fs::read(samples_dir().join("iphone13promax_grid_orient6.heic")).unwrap();
    let f = Fixture::with_files(&[
        ("IMG_5195.HEIC", live_still()),
        ("IMG_5195.MOV", live_movie(LIVE_STILL_ID)),
        // Same name, another identifier: a different recording.
        ("other/IMG_5195.HEIC", live_still()),
        (
            "other/IMG_5195.MOV",
            live_movie("0AA1B2C3-0000-4000-8000-000000000000"),
        ),
        // A still without an identifier is never paired by name alone.
        ("IMG_0001.HEIC", plain),
        ("IMG_0001.MOV", live_movie(LIVE_STILL_ID)),
    ]);
    f.scan();
    // The movies are no items: two photos (one of them in two files). The
    // two movies that belong to no still are listed as videos not indexed.
    let status = f.lib.status().unwrap();
    assert_eq!(
        (
            status.photos,
            status.files,
            status.errors,
            status.unsupported
        ),
        (2, 3, 0, 2),
        "{status:?}"
    );
    let mut listed: Vec<String> = f
        .lib
        .errors()
        .unwrap()
        .into_iter()
        .map(|e| {
            assert!(e.reason.contains("videos are not indexed yet"), "{e:?}");
            e.path
                .strip_prefix(f.photos.to_str().unwrap())
                .unwrap()
                .to_string()
        })
        .collect();
    listed.sort();
    assert_eq!(listed, ["/IMG_0001.MOV", "/other/IMG_5195.MOV"]);
    let live = |rel: &str| {
        f.lib
            .info(f.id(rel))
            .unwrap()
            .live_video
            .map(|p| p.rsplit('/').next().unwrap().to_string())
    };
    assert_eq!(live("IMG_5195.HEIC").as_deref(), Some("IMG_5195.MOV"));
    assert_eq!(live("IMG_0001.HEIC"), None);
    let other = f.photos.join("other/IMG_5195.HEIC");
    assert_eq!(f.lib.catalog().live_video_of_path(&other).unwrap(), None);

    // The movie goes: unpaired at the next scan; it comes back: paired.
    let movie = f.photos.join("IMG_5195.MOV");
    std::fs::rename(&movie, f.tmp.path().join("away.MOV")).unwrap();
    std::fs::remove_dir_all(f.photos.join("other")).unwrap();
    f.scan();
    assert_eq!(live("IMG_5195.HEIC"), None);
    std::fs::rename(f.tmp.path().join("away.MOV"), &movie).unwrap();
    f.scan();
    assert_eq!(live("IMG_5195.HEIC").as_deref(), Some("IMG_5195.MOV"));
    assert_eq!(f.lib.status().unwrap().unsupported, 1); // IMG_0001.MOV only
}

/// Videos are files of the library too: listed, with a clear "not indexed
/// yet", counted apart from errors, and skipped while unchanged.
#[test]
fn videos_are_listed_as_not_indexed_yet() {
    let clip = |name: &str| {
        std::fs::read(
            repo_root()
                .join("../shared/fixtures/formats/video")
                .join(name),
        )
    };
    let mut files = vec![("holiday.mp4", live_movie("not a live photo"))];
    // Real phone recordings when ../shared is here.
    if let Ok(mov) = clip("iphonex_h264_gps.mov") {
        files.push(("IMG_0042.MOV", mov));
    }
    let f = Fixture::with_files(&files);
    f.scan();
    let status = f.lib.status().unwrap();
    assert_eq!(
        (status.photos, status.errors, status.unsupported),
        (0, 0, files.len() as i64),
        "{status:?}"
    );
    for e in f.lib.errors().unwrap() {
        assert_eq!(e.kind, "unsupported");
        assert_eq!(
            e.reason,
            "videos are not indexed yet: the file is listed, and a later version will index it"
        );
    }
    let again = f.scan();
    assert_eq!(again.unchanged, files.len() as u64, "{again:?}");
}
