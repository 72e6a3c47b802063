//! Format benchmark (issue 16): how fast 12 MP HEICs index compared with
//! 12 MP JPEGs of the same pictures, in one run.
//!
//! ```text
//! cargo run --release -p shoebox-engine --example format_bench -- [N] [--model DIR] [--runs R]
//! ```
//! (`tools/bench/formats.sh` builds and runs it with the ViT-B/32-shaped model
//! when `tools/reference/regenerate.sh --config vit-b-32` has made one.)
//!
//! N photos (default 16) are generated from the cc0 fixtures as 4000x3000
//! camera-like JPEGs (quality 90), and each is encoded to HEIC with Debian's
//! `heif-enc -q 50` twice: once with a 320x240 thumbnail item, as iPhones
//! store them (`-t 320`), and once without. Not timed.
//!
//! Then, R times (default 2), alternating the sides, keeping the best of each:
//! - jpeg: a fresh library, `add_folder`, `scan`, `embed` (the user's first
//!   run: every photo catalogued, thumbnailed and embedded);
//! - heic: the same on the HEICs with thumbnail items;
//! - heic-no-thumb: the same on the HEICs without;
//! - heif-convert: `heif-convert` every HEIC (with thumbnails) to JPEG
//!   (quality 90, as many processes at once as cores), then the jpeg path
//!   on the results: what a user converting first would spend.
//!
//! Reported: photos/s per side and the ratio of each to jpeg. Also the
//! fidelity of the thumbnail-item path: the cosine between the stored
//! vector of a HEIC and its full-decode embedding.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use shoebox_engine::embed::{EmbedOptions, LoadedModel};
use shoebox_engine::ingest::{decode, ScanOptions};
use shoebox_engine::model::{DeviceChoice, ResolveOptions};
use shoebox_engine::Library;

#[path = "common/camera_photos.rs"]
mod camera_photos;
use camera_photos::{parallel, photo_jpeg, Look};

struct Args {
    n: usize,
    model: PathBuf,
    runs: usize,
}

fn parse_args() -> Args {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = Args {
        n: 16,
        model: root.join("tests/fixtures/models/clip-tiny"),
        runs: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match a.as_str() {
            "--model" => args.model = PathBuf::from(value("--model")),
            "--runs" => args.runs = value("--runs").parse().expect("--runs: a number"),
            "-h" | "--help" => {
                println!("format_bench [N] [--model DIR] [--runs R]");
                std::process::exit(0);
            }
            n => args.n = n.parse().expect("N must be a number"),
        }
    }
    args
}

fn load(library: &Library, model: &Path) -> LoadedModel {
    library
        .load_model(
            Some(model.to_str().unwrap()),
            DeviceChoice::Cpu,
            &ResolveOptions {
                offline: true,
                ..ResolveOptions::from_env()
            },
        )
        .expect("load model")
}

/// Scan and embed `photos` into a fresh library; returns the seconds.
fn index(photos: &Path, library_dir: &Path, model: &Path, n: usize) -> f64 {
    let _ = std::fs::remove_dir_all(library_dir);
    let library = Library::open(library_dir).expect("open library");
    let loaded = load(&library, model); // loading the model is not timed
    let started = Instant::now();
    library.add_folder(photos).expect("add folder");
    let scan = library
        .scan(&ScanOptions::default(), &|_| {})
        .expect("scan");
    assert_eq!(scan.new_photos, n as u64, "scan found every photo");
    let report = library
        .embed(&loaded, &EmbedOptions::default(), &|_| {})
        .expect("embed");
    assert_eq!(report.embedded, n as u64, "embedded every photo");
    started.elapsed().as_secs_f64()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn main() {
    let args = parse_args();
    let threads = std::thread::available_parallelism().map_or(2, |t| t.get());
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = |name: &str| {
        let d = tmp.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let (jpeg_dir, heic_dir, bare_dir) = (dir("jpeg"), dir("heic"), dir("heic-no-thumb"));
    println!(
        "format_bench: N={}, runs={}, threads={threads}, model={}",
        args.n,
        args.runs,
        args.model.display()
    );

    let jpegs = camera_photos::generate(&jpeg_dir, args.n, threads, |i, sources| {
        let look = Look {
            crop_seed: 0xF0_4A7 + i as u64,
            grain_seed: 0xBEEF ^ i as u64,
            max_zoom: 0.4,
        };
        photo_jpeg(i, sources, &look)
    });
    let heic_name = |p: &Path| format!("{}.heic", p.file_stem().unwrap().to_string_lossy());
    parallel(jpegs.len(), threads, |i| {
        let src = &jpegs[i];
        run(Command::new("heif-enc")
            .args(["-q", "50", "-t", "320", "-o"])
            .arg(heic_dir.join(heic_name(src)))
            .arg(src));
        run(Command::new("heif-enc")
            .args(["-q", "50", "-o"])
            .arg(bare_dir.join(heic_name(src)))
            .arg(src));
    });
    let size = |d: &Path| -> u64 {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum::<u64>()
            / args.n as u64
    };
    println!(
        "mean file size: jpeg {:.1} MB, heic {:.1} MB, heic-no-thumb {:.1} MB",
        size(&jpeg_dir) as f64 / 1e6,
        size(&heic_dir) as f64 / 1e6,
        size(&bare_dir) as f64 / 1e6
    );

    let heics: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&heic_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let sides = ["jpeg", "heic", "heic-no-thumb", "heif-convert"];
    let mut best = [f64::INFINITY; 4];
    for r in 0..args.runs {
        for (side, name) in sides.iter().enumerate() {
            let library = tmp.path().join(format!("library-{name}"));
            let seconds = match *name {
                "jpeg" => index(&jpeg_dir, &library, &args.model, args.n),
                "heic" => index(&heic_dir, &library, &args.model, args.n),
                "heic-no-thumb" => index(&bare_dir, &library, &args.model, args.n),
                _ => {
                    let converted = tmp.path().join("converted");
                    let _ = std::fs::remove_dir_all(&converted);
                    std::fs::create_dir_all(&converted).unwrap();
                    let started = Instant::now();
                    parallel(heics.len(), threads, |i| {
                        let out = converted.join(format!(
                            "{}.jpg",
                            heics[i].file_stem().unwrap().to_string_lossy()
                        ));
                        run(Command::new("heif-convert")
                            .args(["-q", "90"])
                            .arg(&heics[i])
                            .arg(out));
                    });
                    let convert = started.elapsed().as_secs_f64();
                    convert + index(&converted, &library, &args.model, args.n)
                }
            };
            println!(
                "run {} {name}: {:.2} s, {:.2} photos/s",
                r + 1,
                seconds,
                args.n as f64 / seconds
            );
            best[side] = best[side].min(seconds);
        }
    }

    println!("\n| side | photos/s (best of {}) | vs jpeg |", args.runs);
    println!("|---|---|---|");
    for (side, name) in sides.iter().enumerate() {
        println!(
            "| {name} | {:.2} | {:.2}x |",
            args.n as f64 / best[side],
            best[0] / best[side]
        );
    }

    // Fidelity of the thumbnail-item path against a full decode.
    let library = Library::open(&tmp.path().join("library-heic")).unwrap();
    let loaded = load(&library, &args.model);
    let mut worst: f64 = 1.0;
    for path in heics.iter().take(8) {
        let id = library.resolve_photo(path.to_str().unwrap()).unwrap();
        let stored = library
            .catalog()
            .embedding(id, loaded.row.id)
            .unwrap()
            .expect("stored vector");
        let full = decode::load_full_upright(path).unwrap();
        let exact = &loaded.model.embed_images(&[full]).unwrap()[0];
        let cos: f64 = stored.iter().zip(exact).map(|(a, b)| (a * b) as f64).sum();
        worst = worst.min(cos);
    }
    println!("\nthumbnail-item embedding vs full decode: worst cosine {worst:.4} (8 photos)");
}
