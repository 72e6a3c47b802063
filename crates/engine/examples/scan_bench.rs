//! Scan benchmark: the real engine scan against a naive full-decode baseline,
//! on realistic 12-megapixel JPEGs with real EXIF.
//!
//! ```text
//! cargo run --release -p shoebox-engine --example scan_bench -- [N] [RUNS]
//! ```
//!
//! N photos (default 48) are generated into a temp dir from the cc0 fixtures:
//! a per-photo 4:3 crop upscaled to 4000x3000 (Lanczos3), a per-photo tint
//! and brightness, mild sensor-like grain (so the entropy-coded data is as
//! dense as a camera's, not that of a smooth upscale), JPEG quality 90, and an
//! EXIF APP1 segment (DateTimeOriginal, Make, Model, Orientation). Generation
//! is not timed.
//!
//! Then, RUNS times (default 2), interleaved:
//! - engine: `Library::open` on a fresh library, `add_folder`, `scan_timed`
//!   with the default thread count;
//! - naive: with as many threads, read each file, `image::load_from_memory`
//!   (full decode), resize to a 256 px short edge (Triangle, as the engine's
//!   thumbnail).
//!
//! The best run of each is reported. Set SCAN_BENCH_KEEP=1 to keep the
//! generated photos and libraries (the path is printed at the end).

use std::hint::black_box;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use exif::experimental::Writer;
use exif::{Field, In, Tag, Value};
use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};
use shoebox_engine::ingest::analyze::StageTimes;
use shoebox_engine::ingest::ScanOptions;
use shoebox_engine::Library;

#[path = "common/camera_photos.rs"]
mod camera_photos;
use camera_photos::{photo_jpeg, Look, HEIGHT, QUALITY, WIDTH};

const THUMB_EDGE: u32 = 256;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(48, |a| a.parse().expect("N must be a number"));
    let runs: usize = args
        .next()
        .map_or(2, |a| a.parse().expect("RUNS must be a number"))
        .max(1);
    let threads = std::thread::available_parallelism().map_or(2, |t| t.get());

    let tmp = tempfile::tempdir().expect("temp dir");
    let photos_dir = tmp.path().join("photos");
    std::fs::create_dir_all(&photos_dir).unwrap();

    println!("scan_bench: N={n}, runs={runs}, threads={threads}");
    let started = Instant::now();
    let files = generate(&photos_dir, n, threads);
    let total_bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    println!(
        "generated {n} JPEGs {WIDTH}x{HEIGHT} q{QUALITY} with EXIF in {:.1} s: {:.1} MB total, {:.2} MB average",
        started.elapsed().as_secs_f64(),
        total_bytes as f64 / 1e6,
        total_bytes as f64 / 1e6 / n as f64
    );

    let mut best_engine: Option<EngineRun> = None;
    let mut best_naive: Option<NaiveRun> = None;
    for run in 0..runs {
        let engine = engine_scan(tmp.path(), &photos_dir, run, n);
        println!(
            "run {}: engine {:.2} photos/s ({:.2} s wall, {:.2} s CPU, peak {} threads)",
            run + 1,
            n as f64 / engine.seconds,
            engine.seconds,
            engine.cpu_seconds,
            engine.peak_threads
        );
        if best_engine
            .as_ref()
            .is_none_or(|b| engine.seconds < b.seconds)
        {
            best_engine = Some(engine);
        }
        let naive = naive_scan(&files, threads);
        println!(
            "run {}: naive  {:.2} photos/s ({:.2} s wall, {:.2} s CPU)",
            run + 1,
            n as f64 / naive.seconds,
            naive.seconds,
            naive.cpu_seconds
        );
        if best_naive
            .as_ref()
            .is_none_or(|b| naive.seconds < b.seconds)
        {
            best_naive = Some(naive);
        }
    }
    let (engine, naive) = (best_engine.unwrap(), best_naive.unwrap());
    let engine_rate = n as f64 / engine.seconds;
    let naive_rate = n as f64 / naive.seconds;

    println!();
    println!("## Scan benchmark: {n} x 12 MP JPEG, {threads} threads, best of {runs}");
    println!();
    println!("| measure | wall s | CPU s | photos/s | ms/photo (wall) |");
    println!("|---|---:|---:|---:|---:|");
    for (name, secs, cpu) in [
        ("engine scan", engine.seconds, engine.cpu_seconds),
        (
            "naive full decode + resize",
            naive.seconds,
            naive.cpu_seconds,
        ),
    ] {
        println!(
            "| {name} | {secs:.2} | {cpu:.2} | {:.2} | {:.1} |",
            n as f64 / secs,
            secs * 1e3 / n as f64
        );
    }
    println!();
    println!(
        "engine / naive throughput: **{:.2}x**",
        engine_rate / naive_rate
    );
    println!();
    let stage_total: f64 = engine.stages.iter().map(|(_, s)| s).sum();
    println!(
        "Engine stage split (seconds summed over threads; workers for all but database, which is the writer thread):"
    );
    println!();
    println!("| stage | s | % of stages | ms/photo |");
    println!("|---|---:|---:|---:|");
    for (name, secs) in &engine.stages {
        println!(
            "| {name} | {secs:.3} | {:.1}% | {:.2} |",
            100.0 * secs / stage_total.max(1e-12),
            secs * 1e3 / n as f64
        );
    }
    let worker_busy: f64 = engine
        .stages
        .iter()
        .filter(|(name, _)| *name != "database")
        .map(|(_, s)| s)
        .sum();
    println!(
        "| **total** | {stage_total:.3} | 100% | {:.2} |",
        stage_total * 1e3 / n as f64
    );
    println!();
    println!(
        "Worker time in timed stages: {worker_busy:.2} s of {:.2} s available ({threads} x wall), {:.0}% busy.",
        threads as f64 * engine.seconds,
        100.0 * worker_busy / (threads as f64 * engine.seconds)
    );
    println!(
        "Report: {} new photos, {} failed, engine-reported {:.2} s.",
        engine.new_photos, engine.failed, engine.report_seconds
    );
    if std::env::var_os("SCAN_BENCH_KEEP").is_some() {
        println!("kept the generated files in {}", tmp.keep().display());
    }
}

// ---------------------------------------------------------------- generation

const CAMERAS: [(&str, &str); 4] = [
    ("Canon", "Canon EOS 80D"),
    ("FUJIFILM", "X-T30"),
    ("Apple", "iPhone 12"),
    ("SONY", "ILCE-6400"),
];

/// One distinct 12 MP photo: crop, upscale, tint, grain, encode, EXIF.
fn make_photo(index: usize, sources: &[(String, RgbImage)]) -> Vec<u8> {
    let look = Look {
        crop_seed: index as u64 + 1,
        grain_seed: 0xC0FFEE ^ index as u64,
        max_zoom: 0.25,
    };
    let jpeg = photo_jpeg(index, sources, &look);

    let (make, model) = CAMERAS[index % CAMERAS.len()];
    // One in five shot in portrait (rotated 90 CW), as phones and cameras do.
    let orientation: u16 = if index % 5 == 4 { 6 } else { 1 };
    let date = format!(
        "2023:{:02}:{:02} {:02}:{:02}:{:02}",
        1 + index % 12,
        1 + index % 28,
        8 + index % 12,
        (index * 7) % 60,
        (index * 13) % 60
    );
    let ascii = |tag, s: &str| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![s.as_bytes().to_vec()]),
    };
    let fields = [
        ascii(Tag::DateTimeOriginal, &date),
        ascii(Tag::Make, make),
        ascii(Tag::Model, model),
        Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![orientation]),
        },
    ];
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("EXIF write");
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff.into_inner());

    // APP1 right after SOI.
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let len = u16::try_from(payload.len() + 2).expect("EXIF fits a segment");
    let mut out = Vec::with_capacity(jpeg.len() + payload.len() + 4);
    out.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn generate(dir: &Path, n: usize, threads: usize) -> Vec<PathBuf> {
    camera_photos::generate(dir, n, threads, make_photo)
}

// ---------------------------------------------------------------- measuring

/// User + system CPU seconds of this process so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the ")" that closes the command name; utime and stime are
    // fields 14 and 15 of the whole line, in clock ticks (100 per second).
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

struct EngineRun {
    seconds: f64,
    cpu_seconds: f64,
    report_seconds: f64,
    peak_threads: usize,
    new_photos: u64,
    failed: u64,
    stages: Vec<(&'static str, f64)>,
}

fn engine_scan(tmp: &Path, photos: &Path, run: usize, n: usize) -> EngineRun {
    let peak = AtomicUsize::new(0);
    let times = StageTimes::default();
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let library = Library::open(&tmp.join(format!("library-{run}"))).expect("open library");
    library.add_folder(photos).expect("add folder");
    let report = library
        .scan_timed(&ScanOptions::default(), &times, &|_| {
            peak.fetch_max(thread_count(), Ordering::Relaxed);
        })
        .expect("scan");
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = cpu_seconds() - cpu0;
    if report.new_photos != n as u64 || report.failed != 0 {
        eprintln!(
            "warning: expected {n} new photos and no failures, got {} new and {} failed",
            report.new_photos, report.failed
        );
    }
    EngineRun {
        seconds,
        cpu_seconds,
        report_seconds: report.seconds,
        peak_threads: peak.into_inner(),
        new_photos: report.new_photos,
        failed: report.failed,
        stages: times.snapshot().to_vec(),
    }
}

struct NaiveRun {
    seconds: f64,
    cpu_seconds: f64,
}

fn naive_one(path: &Path) -> DynamicImage {
    let bytes = std::fs::read(path).expect("read photo");
    let full = image::load_from_memory(&bytes).expect("decode photo");
    let (w, h) = (full.width(), full.height());
    let short = w.min(h);
    let (tw, th) = (
        (w as u64 * THUMB_EDGE as u64).div_ceil(short as u64) as u32,
        (h as u64 * THUMB_EDGE as u64).div_ceil(short as u64) as u32,
    );
    full.resize_exact(tw, th, FilterType::Triangle)
}

fn naive_scan(files: &[PathBuf], threads: usize) -> NaiveRun {
    let next = AtomicUsize::new(0);
    let cpu0 = cpu_seconds();
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                black_box(naive_one(path));
            });
        }
    });
    NaiveRun {
        seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: cpu_seconds() - cpu0,
    }
}
