//! Hostile files (issue 22): special files named like photos or sidecars,
//! decompression bombs in side channels, keyword floods, absurd names. Each
//! becomes a per-file entry with a reason; the scan finishes.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use shoebox_engine::catalog::ErrorEntry;
use shoebox_engine::ingest::{ScanOptions, ScanReport};
use shoebox_engine::Library;
use support::*;

use support::library::LibraryFixture as Fixture;

/// Scans in another thread, so that a scan that would hang fails the test
/// with a message instead of hanging CI. The bound is a hang guard, far
/// above any real scan of these few files, not a speed assertion.
fn scan_or_hang(f: &Fixture) -> ScanReport {
    let root = f.photos.parent().unwrap().join("library");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let lib = Library::open(&root).unwrap();
        let _ = tx.send(lib.scan(&ScanOptions::default(), &|_| {}).unwrap());
    });
    rx.recv_timeout(Duration::from_secs(300))
        .expect("the scan hung (no answer in 5 minutes)")
}

fn entry<'a>(errors: &'a [ErrorEntry], name: &str) -> &'a ErrorEntry {
    errors
        .iter()
        .find(|e| e.path.ends_with(name))
        .unwrap_or_else(|| panic!("no entry for {name}: {errors:#?}"))
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

#[cfg(unix)]
#[test]
fn special_files_named_like_photos_or_sidecars_are_reported_not_opened() {
    let f = Fixture::new();
    let jpeg = encode_jpeg(&synthetic(64, 48, 1), 90);
    write(&f.photos.join("photo.jpg"), &jpeg);
    write(
        &f.photos.join("other.jpg"),
        &encode_jpeg(&synthetic(64, 48, 2), 90),
    );
    // Blocks any reader forever: the scan must not open it.
    mkfifo(&f.photos.join("photo.jpg.xmp"));
    mkfifo(&f.photos.join("pipe.jpg"));
    // Reads without end.
    std::os::unix::fs::symlink("/dev/zero", f.photos.join("other.jpg.xmp")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", f.photos.join("zero.png")).unwrap();

    let report = scan_or_hang(&f);
    assert_eq!(report.new_photos, 2, "{report:?}");
    let errors = f.lib.errors().unwrap();
    for name in ["pipe.jpg", "zero.png"] {
        let e = entry(&errors, name);
        assert!(e.reason.contains("not a regular file"), "{name}: {e:?}");
        assert_eq!(e.kind, "error");
    }
    // The photos are in; their sidecars are warnings that say why.
    for name in ["photo.jpg", "other.jpg"] {
        let e = entry(&errors, name);
        assert_eq!(e.kind, "warning", "{e:?}");
        assert!(e.reason.contains("not a regular file"), "{e:?}");
    }
}

fn sidecar_with_keywords(n: usize) -> String {
    let mut xml = String::from(
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag>"#,
    );
    for i in 0..n {
        xml.push_str(&format!("<rdf:li>k{i}</rdf:li>"));
    }
    xml.push_str("</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>");
    xml
}

#[test]
fn keyword_floods_and_huge_sidecars_are_capped_with_a_warning() {
    let f = Fixture::new();
    write(
        &f.photos.join("many.jpg"),
        &encode_jpeg(&synthetic(64, 48, 1), 90),
    );
    write(
        &f.photos.join("huge.jpg"),
        &encode_jpeg(&synthetic(64, 48, 2), 90),
    );
    // 40,000 keywords in 0.7 MB: quadratic de-duplication took minutes.
    let many = sidecar_with_keywords(40_000);
    assert!(many.len() < 1 << 20);
    write(&f.photos.join("many.jpg.xmp"), many.as_bytes());
    // 2.4 MB, over the sidecar size limit.
    write(
        &f.photos.join("huge.jpg.xmp"),
        sidecar_with_keywords(100_000).as_bytes(),
    );

    let report = scan_or_hang(&f);
    assert_eq!(report.new_photos, 2, "{report:?}");
    let errors = f.lib.errors().unwrap();
    let many = entry(&errors, "many.jpg");
    assert_eq!(many.kind, "warning");
    assert!(many.reason.contains("keywords"), "{many:?}");
    let huge = entry(&errors, "huge.jpg");
    assert!(huge.reason.contains("larger than 1 MiB"), "{huge:?}");
}

#[test]
fn keywords_are_read_in_linear_time_and_capped() {
    let xml = sidecar_with_keywords(200_000);
    let keywords = shoebox_engine::tags::xmp::read_keywords(&xml).unwrap();
    assert_eq!(keywords.len(), shoebox_engine::tags::xmp::MAX_KEYWORDS);
    assert_eq!(keywords[0], "k0");
}

#[test]
fn side_channel_and_header_bombs_are_refused_before_allocating() {
    let f = Fixture::new();
    // A 64 MiB ICC profile that compresses to about 64 KiB.
    let png = encode(
        &image::DynamicImage::ImageRgb8(synthetic(32, 32, 3)),
        image::ImageFormat::Png,
    );
    let mut iccp = b"bomb\0\0".to_vec();
    iccp.extend(miniz_oxide::deflate::compress_to_vec_zlib(
        &vec![0u8; 64 << 20],
        6,
    ));
    write(
        &f.photos.join("icc-bomb.png"),
        &png_with_chunk(&png, b"iCCP", &iccp),
    );
    // A sane ICC-sized chunk is fine.
    let mut small = b"icc\0\0".to_vec();
    small.extend(miniz_oxide::deflate::compress_to_vec_zlib(&[7u8; 3000], 6));
    write(
        &f.photos.join("icc-ok.png"),
        &png_with_chunk(&png, b"iCCP", &small),
    );
    // 35 bytes declaring 14000 x 14000 (837 MB once decoded).
    write(&f.photos.join("screen.gif"), &gif_declaring(14_000, 14_000));

    let report = scan_or_hang(&f);
    assert_eq!(report.new_photos, 1, "{report:?}");
    let errors = f.lib.errors().unwrap();
    let bomb = entry(&errors, "icc-bomb.png");
    assert!(bomb.reason.contains("decompression bomb"), "{bomb:?}");
    let gif = entry(&errors, "screen.gif");
    assert!(gif.reason.contains("declares 14000x14000"), "{gif:?}");
    assert!(!errors.iter().any(|e| e.path.ends_with("icc-ok.png")));
}

/// A GIF whose screen and frame declare `w`x`h`, with two bytes of image
/// data.
fn gif_declaring(w: u16, h: u16) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend(w.to_le_bytes());
    g.extend(h.to_le_bytes());
    g.extend([0x80, 0, 0]); // global colour table of 2
    g.extend([0, 0, 0, 255, 255, 255]);
    g.push(0x2C);
    g.extend([0, 0, 0, 0]);
    g.extend(w.to_le_bytes());
    g.extend(h.to_le_bytes());
    g.push(0);
    g.extend([2, 2, 0x4C, 0x01, 0]); // LZW: clear, end
    g.push(0x3B);
    g
}

#[cfg(unix)]
#[test]
fn a_name_at_the_file_system_limit_gets_no_false_sidecar_warning() {
    let f = Fixture::new();
    let name = format!("{}.jpg", "a".repeat(251));
    assert_eq!(name.len(), 255);
    write(
        &f.photos.join(&name),
        &encode_jpeg(&synthetic(64, 48, 4), 90),
    );
    let report = scan_or_hang(&f);
    assert_eq!(report.new_photos, 1, "{report:?}");
    assert_eq!(f.lib.errors().unwrap(), vec![]);
}

/// A process that crashed while decoding a file left `B <path>` without
/// `E`, and `C`, in its journal. The first time, the file is retried
/// (other files were in flight too); a file that was already retried once
/// and crashed again is recorded as an error and never decoded again.
#[test]
fn a_file_that_crashed_the_scan_twice_is_recorded_and_skipped() {
    let f = Fixture::new();
    let once = f.photos.join("once.jpg");
    let twice = f.photos.join("twice.jpg");
    write(&once, &encode_jpeg(&synthetic(64, 48, 5), 90));
    write(&twice, &encode_jpeg(&synthetic(64, 48, 6), 90));
    let hex = |p: &Path| shoebox_engine::catalog::hex(p.as_os_str().as_encoded_bytes());
    let journals = f.lib.dir().join("decoding");
    std::fs::create_dir_all(&journals).unwrap();
    // pid 4194305 is above Linux's largest pid: that process is gone.
    std::fs::write(
        journals.join("4194305-0.journal"),
        format!(
            "P 1 {}\nB {}\nB {}\nC\n",
            hex(&twice),
            hex(&twice),
            hex(&once)
        ),
    )
    .unwrap();

    let report = scan_or_hang(&f);
    assert_eq!(report.new_photos, 1, "{report:?}");
    let errors = f.lib.errors().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].path.ends_with("twice.jpg"));
    assert!(errors[0].reason.contains("stopped twice"), "{errors:?}");
    // A clean run leaves no journal behind.
    assert_eq!(std::fs::read_dir(&journals).unwrap().count(), 0);
}

/// Copies of one photo analysed at once wrote the same thumbnail temp
/// file (`<hash>.tmp<pid>`), so one worker's rename failed and its photo
/// lost its thumbnail with a spurious warning.
#[test]
fn one_thumbnail_written_by_many_threads_at_once_always_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let cache = shoebox_engine::ingest::thumbs::ThumbCache::new(dir.path().to_path_buf());
    let image = image::DynamicImage::ImageRgb8(synthetic(300, 200, 8));
    let barrier = std::sync::Barrier::new(4);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for round in 0..100u8 {
                    barrier.wait();
                    let hash = [round; 32];
                    let size = shoebox_engine::ingest::thumbs::GRID_SIZE;
                    if let Err(e) = cache.write(&hash, size, &image) {
                        failures.lock().unwrap().push(e);
                    }
                }
            });
        }
    });
    assert_eq!(failures.into_inner().unwrap(), Vec::<String>::new());
}

/// The sample files of `../shared/fixtures/formats` that lack real content
/// to the engine (8x8 placeholder previews, a RAW stub, animated GIFs, a
/// truncated 12 MP Motion Photo), when the folder is there.
fn bare_format_samples() -> Vec<PathBuf> {
    let dir = repo_root().join("../shared/fixtures/formats");
    [
        "raw/exiftool_FujiFilm.raf",
        "exif/makernote_canon.jpg",
        "exif/makernote_nikon.jpg",
        "gif/star_animated.gif",
        "gif/traffic_light_animated.gif",
        "jpeg/pixel4xl_motion_photo.jpg",
    ]
    .iter()
    .map(|f| dir.join(f))
    .filter(|p| p.is_file())
    .collect()
}

/// Issue 22, defect 8: unique photos were grouped, and suggested for the
/// trash, because bare pictures (tiny previews, blank or partly decoded
/// images) hash alike and a crop match was never checked on the pixels.
#[test]
fn bare_pictures_never_send_a_unique_photo_to_the_trash() {
    let f = Fixture::new();
    for src in cc0_images() {
        std::fs::copy(&src, f.photos.join(src.file_name().unwrap())).unwrap();
    }
    let samples = bare_format_samples();
    if samples.is_empty() {
        eprintln!("note: ../shared/fixtures/formats is absent; generated bare pictures only");
    }
    for src in &samples {
        std::fs::copy(src, f.photos.join(src.file_name().unwrap())).unwrap();
    }
    let flat = |w, h, v: u8| image::RgbImage::from_pixel(w, h, image::Rgb([v, v, v]));
    write(
        &f.photos.join("white-8x8.jpg"),
        &encode_jpeg(&flat(8, 8, 255), 90),
    );
    write(
        &f.photos.join("white-8x8-b.png"),
        &encode(&flat(8, 8, 255).into(), image::ImageFormat::Png),
    );
    write(
        &f.photos.join("black.jpg"),
        &encode_jpeg(&flat(1600, 1200, 0), 90),
    );
    write(
        &f.photos.join("grey.png"),
        &encode(&flat(640, 480, 128).into(), image::ImageFormat::Png),
    );
    // A real picture whose lower part never arrived: the decoder's flat fill.
    let mut partial = synthetic(1200, 900, 11);
    for y in 300..900 {
        for x in 0..1200 {
            partial.put_pixel(x, y, image::Rgb([0, 0, 0]));
        }
    }
    write(&f.photos.join("partial.jpg"), &encode_jpeg(&partial, 92));
    let mut partial2 = synthetic(1200, 900, 12);
    for y in 250..900 {
        for x in 0..1200 {
            partial2.put_pixel(x, y, image::Rgb([0, 0, 0]));
        }
    }
    write(&f.photos.join("partial-2.jpg"), &encode_jpeg(&partial2, 92));

    scan_or_hang(&f);
    // Every photo here is unique: no tier may group any two of them.
    let groups = f.lib.duplicates(None).unwrap();
    assert!(groups.is_empty(), "{groups:#?}");
    for tier in [
        shoebox_engine::dupes::Tier::Exact,
        shoebox_engine::dupes::Tier::Near,
    ] {
        let plans = f.lib.resolve_all_duplicates(tier, true).unwrap();
        assert!(
            plans.groups.iter().all(|p| p.trash.is_empty()),
            "{plans:#?}"
        );
    }
    // With a model (the real architecture, random weights), the embedding
    // tiers join in: still no bare picture in any group, and nothing for
    // the trash in bulk.
    let model = support::library::load_tiny_model(&f.lib);
    f.lib.embed(&model, &Default::default(), &|_| {}).unwrap();
    // (The animated GIFs are small but real pictures: they may join similar
    // shots, which are never resolved in bulk.)
    let bare: Vec<String> = samples
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".gif"))
        .chain(
            [
                "white-8x8.jpg",
                "white-8x8-b.png",
                "black.jpg",
                "grey.png",
                "partial.jpg",
                "partial-2.jpg",
            ]
            .map(String::from),
        )
        .collect();
    for g in f.lib.duplicates(None).unwrap() {
        for m in &g.members {
            assert!(
                !bare.iter().any(|b| m.path.ends_with(b.as_str())),
                "{} is in group {}: {g:#?}",
                m.path,
                g.id
            );
        }
    }
    for tier in [
        shoebox_engine::dupes::Tier::Exact,
        shoebox_engine::dupes::Tier::Near,
    ] {
        let plans = f.lib.resolve_all_duplicates(tier, true).unwrap();
        assert!(
            plans.groups.iter().all(|p| p.trash.is_empty()),
            "{plans:#?}"
        );
    }

    // The partly decoded pictures carry a warning saying so.
    let errors = f.lib.errors().unwrap();
    let partial = entry(&errors, "partial.jpg");
    assert_eq!(partial.kind, "warning");
    assert!(partial.reason.contains("truncated"), "{partial:?}");
    if samples
        .iter()
        .any(|p| p.ends_with("pixel4xl_motion_photo.jpg"))
    {
        let motion = entry(&errors, "pixel4xl_motion_photo.jpg");
        assert!(motion.reason.contains("truncated"), "{motion:?}");
    }
}

/// The crash handler: a process that aborts (as on a failed allocation)
/// while decoding leaves `C` in its journal, so the next start blames the
/// files in flight; a process killed with SIGKILL blames nobody.
#[cfg(unix)]
#[test]
fn an_abort_while_decoding_is_a_crash_and_a_kill_is_not() {
    use shoebox_engine::ingest::journal::DecodeJournal;
    if let Some(dir) = std::env::var_os("SHOEBOX_JOURNAL_CHILD") {
        let journal = DecodeJournal::open(Path::new(&dir));
        let _decoding = journal.begin(Path::new("/photos/bomb.png"));
        match std::env::var("SHOEBOX_JOURNAL_DEATH").as_deref() {
            // SAFETY: sending SIGKILL to ourselves.
            Ok("kill") => unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            },
            Ok("overflow") => {
                fn deeper(n: u64) -> u64 {
                    let pad = std::hint::black_box([n; 64]);
                    if pad[3] == u64::MAX {
                        return 0; // never: black_box hides it from the compiler
                    }
                    deeper(pad[3] + 1) + pad[5]
                }
                std::hint::black_box(deeper(0));
            }
            _ => {}
        }
        std::process::abort();
    }
    let me = std::env::current_exe().unwrap();
    for (death, strikes) in [("abort", 1), ("kill", 0), ("overflow", 1)] {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(&me)
            .args([
                "--exact",
                "an_abort_while_decoding_is_a_crash_and_a_kill_is_not",
                "--nocapture",
            ])
            .env("SHOEBOX_JOURNAL_CHILD", dir.path())
            .env("SHOEBOX_JOURNAL_DEATH", death)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let journal = DecodeJournal::open(dir.path());
        assert_eq!(
            journal.strikes(Path::new("/photos/bomb.png")),
            strikes,
            "{death}"
        );
        if death == "overflow" {
            // Rust's own report still runs: our handler hands over to it.
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("overflowed its stack"), "{stderr}");
        }
    }
}
