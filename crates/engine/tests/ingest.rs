//! Ingest end to end on real files and a real SQLite catalog.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::path::Path;

use image::DynamicImage;
use shoebox_engine::ingest::{ScanOptions, ScanReport};
use shoebox_engine::Library;
use support::*;

use support::library::LibraryFixture as Fixture;

fn scan(lib: &Library) -> ScanReport {
    lib.scan(&ScanOptions::default(), &|_| {}).unwrap()
}

fn id_of(lib: &Library, path: &Path) -> i64 {
    lib.resolve_photo(path.to_str().unwrap()).unwrap()
}

#[test]
fn cc0_fixtures_are_catalogued_with_thumbnails() {
    let f = Fixture::new();
    for src in cc0_images() {
        std::fs::copy(&src, f.photos.join(src.file_name().unwrap())).unwrap();
    }
    let report = scan(&f.lib);
    assert_eq!(report.new_photos, 10, "{report:?}");
    let status = f.lib.status().unwrap();
    assert_eq!((status.photos, status.files, status.errors), (10, 10, 0));
    // Thumbnails are done; only the embeddings are pending.
    assert_eq!((status.pending, status.pending_embeddings), (10, 10));
    let astronaut = f
        .lib
        .info(id_of(&f.lib, &f.photos.join("astronaut.png")))
        .unwrap();
    assert_eq!(
        (astronaut.width, astronaut.height, astronaut.format.as_str()),
        (512, 512, "png")
    );
    let rocket = f
        .lib
        .info(id_of(&f.lib, &f.photos.join("rocket.jpg")))
        .unwrap();
    assert_eq!(rocket.format, "jpeg");
    let thumb = f.lib.thumbnail(rocket.id, 256).unwrap();
    let t = image::open(&thumb).unwrap();
    assert_eq!(t.width().max(t.height()), 256);
    // The 1024 preview is made on demand; the photo is smaller, so it keeps its size.
    let preview = image::open(f.lib.thumbnail(rocket.id, 1024).unwrap()).unwrap();
    assert_eq!(
        (preview.width(), preview.height()),
        (rocket.width, rocket.height)
    );
}

#[test]
fn every_format_is_read_by_content_not_extension() {
    let f = Fixture::new();
    let img = DynamicImage::ImageRgb8(synthetic(300, 200, 7));
    for (name, fmt) in [
        ("a.png", image::ImageFormat::Png),
        ("b.webp", image::ImageFormat::WebP),
        ("c.gif", image::ImageFormat::Gif),
        ("d.tiff", image::ImageFormat::Tiff),
        ("e.bmp", image::ImageFormat::Bmp),
        // A PNG wearing a .jpg extension is still a PNG.
        ("f-really-png.jpg", image::ImageFormat::Png),
    ] {
        let variant = if name.starts_with('f') {
            img.fliph()
        } else {
            img.clone()
        };
        write(&f.photos.join(name), &encode(&variant, fmt));
    }
    write(
        &f.photos.join("g.jpg"),
        &encode_jpeg(&synthetic(300, 200, 8), 90),
    );
    // Unrelated files are skipped without complaint.
    write(&f.photos.join("notes.txt"), b"shopping list");
    write(&f.photos.join("g.jpg.xmp"), b"<x:xmpmeta/>");
    scan(&f.lib);
    let formats: Vec<String> = [
        "a.png",
        "b.webp",
        "c.gif",
        "d.tiff",
        "e.bmp",
        "f-really-png.jpg",
        "g.jpg",
    ]
    .iter()
    .map(|n| f.lib.info(id_of(&f.lib, &f.photos.join(n))).unwrap().format)
    .collect();
    assert_eq!(
        formats,
        ["png", "webp", "gif", "tiff", "bmp", "png", "jpeg"]
    );
    assert_eq!(f.lib.errors().unwrap(), vec![]);
}

#[test]
fn exif_metadata_is_read() {
    let f = Fixture::new();
    let spec = ExifSpec {
        date: Some("2019:07:14 18:30:05"),
        offset: Some("+02:00"),
        make: Some("Google"),
        model: Some("Pixel 7"),
        lens: Some("Pixel 7 back camera 6.81mm f/1.85"),
        gps: Some((48.858_37, -2.294_48)),
        orientation: None,
    };
    write(
        &f.photos.join("exif.jpg"),
        &jpeg_with_exif(&synthetic(400, 300, 3), &spec),
    );
    scan(&f.lib);
    let info = f
        .lib
        .info(id_of(&f.lib, &f.photos.join("exif.jpg")))
        .unwrap();
    assert_eq!(
        info.capture.taken_at.as_deref(),
        Some("2019-07-14T18:30:05+02:00")
    );
    assert_eq!(
        info.capture.taken_at_source.as_deref(),
        Some("exif:DateTimeOriginal")
    );
    assert_eq!(info.capture.camera_make.as_deref(), Some("Google"));
    assert_eq!(info.capture.camera_model.as_deref(), Some("Pixel 7"));
    assert_eq!(
        info.capture.lens.as_deref(),
        Some("Pixel 7 back camera 6.81mm f/1.85")
    );
    let gps = info.gps.unwrap();
    assert!(
        (gps.lat - 48.858_37).abs() < 1e-5 && (gps.lon + 2.294_48).abs() < 1e-5,
        "{gps:?}"
    );
    assert_eq!(info.orientation, 1);
}

/// For every EXIF orientation, store the raster the way a camera would and
/// check that the catalog and the thumbnail show it upright.
#[test]
fn orientation_is_applied_to_thumbnails_and_dimensions() {
    let f = Fixture::new();
    // Upright: 320x200, a red block in the top-left corner, blue elsewhere.
    let upright = image::RgbImage::from_fn(320, 200, |x, y| {
        if x < 80 && y < 60 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 0, 255])
        }
    });
    for o in 1..=8u8 {
        let mut stored = DynamicImage::ImageRgb8(upright.clone());
        stored.apply_orientation(
            image::metadata::Orientation::from_exif(inverse_orientation(o)).unwrap(),
        );
        let spec = ExifSpec {
            orientation: Some(o as u16),
            ..Default::default()
        };
        write(
            &f.photos.join(format!("o{o}.jpg")),
            &jpeg_with_exif(&stored.to_rgb8(), &spec),
        );
    }
    scan(&f.lib);
    for o in 1..=8u8 {
        let info = f
            .lib
            .info(id_of(&f.lib, &f.photos.join(format!("o{o}.jpg"))))
            .unwrap();
        assert_eq!(info.orientation, o as u16);
        assert_eq!((info.width, info.height), (320, 200), "orientation {o}");
        let thumb = image::open(f.lib.thumbnail(info.id, 256).unwrap())
            .unwrap()
            .to_rgb8();
        assert_eq!(
            (thumb.width(), thumb.height()),
            (256, 160),
            "orientation {o}"
        );
        let corner = thumb.get_pixel(10, 10);
        let far = thumb.get_pixel(245, 150);
        assert!(
            corner[0] > 200 && corner[2] < 60,
            "orientation {o}: top-left is {corner:?}"
        );
        assert!(
            far[2] > 200 && far[0] < 60,
            "orientation {o}: bottom-right is {far:?}"
        );
    }
}

#[test]
fn bad_input_becomes_per_file_errors_and_the_scan_goes_on() {
    let f = Fixture::new();
    let good = encode_jpeg(&synthetic(640, 480, 1), 90);
    write(&f.photos.join("good.jpg"), &good);
    write(&f.photos.join("truncated.jpg"), &good[..good.len() / 2]);
    write(&f.photos.join("empty.jpg"), b"");
    write(
        &f.photos.join("text.png"),
        b"this is not a picture at all, just text",
    );
    write(&f.photos.join("bomb.png"), &png_bomb(100_000, 100_000));
    write(&f.photos.join("bomb.jpg"), &jpeg_bomb(60_000, 60_000));
    write(
        &f.photos.join("photo.heic"),
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
    );
    // EXIF segment with garbage inside: imported, with a warning.
    write(
        &f.photos.join("broken-exif.jpg"),
        &with_app1(
            &encode_jpeg(&synthetic(64, 48, 2), 90),
            b"Exif\0\0II*\0\xff\xff\xff\x7fgarbage",
        ),
    );
    // A RAW whose embedded preview we can use, and one without.
    let preview = encode_jpeg(&synthetic(600, 400, 9), 85);
    write(
        &f.photos.join("camera.nef"),
        &fake_raw_with_preview(&preview),
    );
    write(
        &f.photos.join("sensor-only.dng"),
        b"II*\0\x08\0\0\0\0\0\0\0\0\0",
    );
    // A symlink loop and a non-UTF-8 name.
    let nested = f.photos.join("nested");
    std::fs::create_dir_all(&nested).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&f.photos, nested.join("loop")).unwrap();
    #[cfg(unix)]
    let odd_name = {
        use std::os::unix::ffi::OsStrExt;
        let p = f
            .photos
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9-\xff.jpg"));
        write(&p, &encode_jpeg(&synthetic(64, 64, 5), 90));
        p
    };

    let report = scan(&f.lib);
    assert_eq!(report.new_photos, 4, "{report:?}"); // good, broken-exif, camera.nef, non-UTF-8

    let errors = f.lib.errors().unwrap();
    let reason = |name: &str| -> String {
        errors
            .iter()
            .find(|e| e.path.ends_with(name))
            .unwrap_or_else(|| panic!("no error for {name}: {errors:#?}"))
            .reason
            .clone()
    };
    assert!(reason("truncated.jpg").contains("truncated"));
    assert!(reason("empty.jpg").contains("empty"));
    assert!(reason("text.png").contains("not an image"));
    assert!(
        reason("bomb.png").contains("too large"),
        "{}",
        reason("bomb.png")
    );
    assert!(
        reason("bomb.jpg").contains("too large"),
        "{}",
        reason("bomb.jpg")
    );
    // Only a file type box: a damaged HEIC, not an unsupported one.
    assert!(
        reason("photo.heic").contains("HEIF"),
        "{}",
        reason("photo.heic")
    );
    assert!(reason("sensor-only.dng").contains("not supported yet"));
    assert!(reason("broken-exif.jpg").contains("EXIF"));
    assert!(reason("loop").contains("loop"));
    assert_eq!(
        errors
            .iter()
            .find(|e| e.path.ends_with("broken-exif.jpg"))
            .unwrap()
            .kind,
        "warning"
    );

    let raw = f
        .lib
        .info(id_of(&f.lib, &f.photos.join("camera.nef")))
        .unwrap();
    assert_eq!(
        (raw.format.as_str(), raw.width, raw.height),
        ("raw-nef", 600, 400)
    );
    #[cfg(unix)]
    {
        let id = f
            .lib
            .catalog()
            .photo_id_for_path(&odd_name)
            .unwrap()
            .unwrap();
        assert_eq!(f.lib.info(id).unwrap().paths.len(), 1);
    }
    let status = f.lib.status().unwrap();
    assert_eq!(status.photos, 4);
    assert_eq!(status.warnings, 1);
    // The list holds every problem; the counts keep the format not read
    // yet (sensor-only.dng) apart from the errors (the damaged photo.heic
    // among them).
    assert_eq!(status.unsupported, 1);
    assert_eq!(
        (status.errors + status.unsupported) as usize,
        errors.len() - 1
    );
}

#[test]
fn a_file_vanishing_mid_scan_is_reported_not_fatal() {
    let f = Fixture::new();
    let catalog = shoebox_engine::catalog::Catalog::open(f.lib.catalog().path()).unwrap();
    let thumbs = shoebox_engine::ingest::thumbs::ThumbCache::new(f.lib.dir().join("thumbs"));
    let times = Default::default();
    let journal = shoebox_engine::ingest::journal::DecodeJournal::open(f.lib.dir());
    let analyzer = shoebox_engine::ingest::analyze::Analyzer {
        catalog: &catalog,
        thumbs: &thumbs,
        times: &times,
        journal: &journal,
    };
    // The walk listed it; by the time a worker gets to it, it is gone.
    let gone = f.photos.join("gone.jpg");
    let write = analyzer.analyze(1, &gone).unwrap();
    assert!(
        matches!(write, shoebox_engine::catalog::ScanWrite::Vanished { .. }),
        "{write:?}"
    );
    catalog
        .apply_scan_batch(catalog.begin_scan().unwrap(), &[write])
        .unwrap();
    let errors = f.lib.errors().unwrap();
    assert!(errors[0].reason.contains("disappeared"), "{errors:?}");
}

#[test]
fn moves_renames_and_copies_keep_identity() {
    let f = Fixture::new();
    write(
        &f.photos.join("a.jpg"),
        &encode_jpeg(&synthetic(320, 240, 11), 90),
    );
    write(
        &f.photos.join("b.jpg"),
        &encode_jpeg(&synthetic(320, 240, 12), 90),
    );
    scan(&f.lib);
    let a = id_of(&f.lib, &f.photos.join("a.jpg"));
    let b = id_of(&f.lib, &f.photos.join("b.jpg"));

    std::fs::create_dir_all(f.photos.join("2019/trip")).unwrap();
    std::fs::rename(
        f.photos.join("a.jpg"),
        f.photos.join("2019/trip/renamed.jpg"),
    )
    .unwrap();
    std::fs::copy(f.photos.join("b.jpg"), f.photos.join("b copy.jpg")).unwrap();
    let report = scan(&f.lib);
    assert_eq!(
        (report.new_photos, report.linked_files, report.removed),
        (0, 2, 1),
        "{report:?}"
    );
    assert_eq!(id_of(&f.lib, &f.photos.join("2019/trip/renamed.jpg")), a);
    assert_eq!(f.lib.info(b).unwrap().paths.len(), 2);
    let status = f.lib.status().unwrap();
    assert_eq!((status.photos, status.files), (2, 3));
    assert!(f
        .lib
        .resolve_photo(f.photos.join("a.jpg").to_str().unwrap())
        .is_err());
}

#[test]
fn a_rescan_changes_nothing_and_edits_are_picked_up() {
    let f = Fixture::new();
    for i in 0..5 {
        write(
            &f.photos.join(format!("{i}.jpg")),
            &encode_jpeg(&synthetic(200, 150, i), 90),
        );
    }
    scan(&f.lib);
    let dump = |lib: &Library| -> Vec<(String, i64, i64)> {
        let conn = lib.catalog().connection();
        let mut stmt = conn
            .prepare("SELECT display_path, photo_id, size FROM files ORDER BY 1")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before = dump(&f.lib);
    let again = scan(&f.lib);
    assert_eq!(
        (again.new_photos, again.unchanged, again.removed),
        (0, 5, 0)
    );
    assert_eq!(dump(&f.lib), before);

    // Editing a file in place makes it a new photo at the same location.
    let old = id_of(&f.lib, &f.photos.join("0.jpg"));
    write(
        &f.photos.join("0.jpg"),
        &encode_jpeg(&synthetic(200, 150, 99), 70),
    );
    let report = scan(&f.lib);
    assert_eq!(report.new_photos, 1);
    assert_ne!(id_of(&f.lib, &f.photos.join("0.jpg")), old);
}

#[test]
fn a_missing_root_goes_offline_and_comes_back() {
    let f = Fixture::new();
    for i in 0..3 {
        write(
            &f.photos.join(format!("{i}.jpg")),
            &encode_jpeg(&synthetic(200, 150, i), 90),
        );
    }
    scan(&f.lib);
    let id = id_of(&f.lib, &f.photos.join("1.jpg"));
    let unmounted = f.photos.with_file_name("unmounted");
    std::fs::rename(&f.photos, &unmounted).unwrap();
    let report = scan(&f.lib);
    assert_eq!(report.offline_folders.len(), 1);
    let status = f.lib.status().unwrap();
    assert_eq!((status.photos, status.files, status.offline), (0, 0, 3));
    assert!(f.lib.info(id).unwrap().offline);

    std::fs::rename(&unmounted, &f.photos).unwrap();
    let report = scan(&f.lib);
    assert_eq!(
        (report.new_photos, report.unchanged, report.removed),
        (0, 3, 0)
    );
    let status = f.lib.status().unwrap();
    assert_eq!((status.photos, status.offline), (3, 0));
    assert_eq!(id_of(&f.lib, &f.photos.join("1.jpg")), id);
}

#[test]
fn removing_a_folder_never_touches_files() {
    let f = Fixture::new();
    write(
        &f.photos.join("keep.jpg"),
        &encode_jpeg(&synthetic(100, 100, 1), 90),
    );
    scan(&f.lib);
    f.lib.remove_folder(&f.photos).unwrap();
    assert!(f.photos.join("keep.jpg").is_file());
    assert_eq!(f.lib.status().unwrap().files, 0);
    assert!(f.lib.folders().unwrap().is_empty());
}

#[test]
fn nested_folders_are_refused() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.photos.join("sub")).unwrap();
    assert!(f.lib.add_folder(&f.photos.join("sub")).is_err());
    assert!(f.lib.add_folder(f.photos.parent().unwrap()).is_err());
    // Adding the same folder twice is harmless.
    f.lib.add_folder(&f.photos).unwrap();
    assert_eq!(f.lib.folders().unwrap().len(), 1);
}

#[test]
fn the_library_inside_a_root_is_not_scanned() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("Pictures");
    write(
        &photos.join("a.jpg"),
        &encode_jpeg(&synthetic(300, 300, 1), 90),
    );
    let lib = Library::open(&photos.join("shoebox-library")).unwrap();
    lib.add_folder(&photos).unwrap();
    scan(&lib);
    scan(&lib);
    assert_eq!(lib.status().unwrap().files, 1);
}

/// Issue 21: "21 errors" for files that are merely not supported yet. The
/// status counts them apart; `errors` are files something is wrong with.
#[test]
fn unsupported_files_are_counted_apart_from_errors() {
    let f = Fixture::new();
    let good = encode_jpeg(&synthetic(64, 48, 3), 90);
    write(&f.photos.join("good.jpg"), &good);
    write(&f.photos.join("truncated.jpg"), &good[..good.len() / 2]);
    // A RAW without a preview: its sensor data is not read yet.
    write(
        &f.photos.join("sensor-only.dng"),
        b"II*\0\x08\0\0\0\0\0\0\0\0\0",
    );
    scan(&f.lib);
    let status = f.lib.status().unwrap();
    assert_eq!((status.errors, status.unsupported), (1, 1), "{status:?}");
    // The list still has both, each with its kind.
    let kinds: Vec<String> = f
        .lib
        .errors()
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"unsupported".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"error".to_string()), "{kinds:?}");
}

/// Issue 21: photos without an EXIF date take the date in their file or
/// folder name before the file's modification time, and say so.
#[test]
fn undated_photos_take_the_date_in_their_name() {
    let plain = encode_jpeg(&synthetic(64, 48, 9), 90);
    let f = Fixture::with_files(&[
        ("IMG-20190714-WA0001.jpg", plain.clone()),
        (
            "2013-07 Rome/DSC01234.jpg",
            encode_jpeg(&synthetic(64, 48, 10), 90),
        ),
        ("holiday.jpg", encode_jpeg(&synthetic(64, 48, 11), 90)),
    ]);
    scan(&f.lib);
    let taken = |rel: &str| {
        let c = f.lib.info(f.id(rel)).unwrap().capture;
        (
            c.taken_at.unwrap()[..10].to_string(),
            c.taken_at_source.unwrap(),
        )
    };
    assert_eq!(
        taken("IMG-20190714-WA0001.jpg"),
        ("2019-07-14".into(), "name:file".into())
    );
    assert_eq!(
        taken("2013-07 Rome/DSC01234.jpg"),
        ("2013-07-01".into(), "name:folder".into())
    );
    assert_eq!(taken("holiday.jpg").1, "file:modified");
}
