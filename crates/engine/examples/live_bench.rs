//! Live-library benchmark: start-up reconcile time, idle RSS and CPU of
//! `shoebox watch`, and the time from a file's creation until a search
//! finds it.
//!
//! ```text
//! tools/bench/live.sh [--real 10000] [--synthetic 90000] [--idle-seconds 30]
//!                     [--latency-runs 5] [--model DIR] [--keep]
//! ```
//!
//! - A real tree of `--real` small JPEGs (64x48, each byte-distinct) in
//!   folders of 100 is generated and scanned (not timed).
//! - `--synthetic` more catalogued photos are inserted as rows (photo +
//!   file) under a second library folder that does not exist on disk (an
//!   unplugged archive drive), so the catalog holds real + synthetic
//!   entries.
//! - Reconcile: the start-up pass (`scan`, size + mtime compared, nothing
//!   re-hashed) on the unchanged tree, best and median of 3; then with 100
//!   files rewritten.
//! - Idle: `shoebox watch --no-embed` (the binary given by `--shoebox`) on
//!   that library; once its queue is empty, VmRSS and CPU time are read from
//!   /proc over `--idle-seconds`.
//! - Latency: in-process live engine with the model (default: the tiny test
//!   model) and the default debounce/settle; a file is written into a new
//!   folder and `Library::search("photo in:FOLDER")` is polled every 20 ms
//!   until it returns it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shoebox_engine::ingest::ScanOptions;
use shoebox_engine::live::LiveOptions;
use shoebox_engine::model::{DeviceChoice, ResolveOptions};
use shoebox_engine::search::SearchOptions;
use shoebox_engine::Library;

struct Args {
    real: usize,
    synthetic: usize,
    idle_seconds: u64,
    latency_runs: usize,
    model: PathBuf,
    shoebox: Option<PathBuf>,
    keep: bool,
}

fn parse() -> Args {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut a = Args {
        real: 10_000,
        synthetic: 90_000,
        idle_seconds: 30,
        latency_runs: 5,
        model: root.join("tests/fixtures/models/clip-tiny"),
        shoebox: None,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || it.next().expect("a value after the flag");
        match arg.as_str() {
            "--real" => a.real = val().parse().unwrap(),
            "--synthetic" => a.synthetic = val().parse().unwrap(),
            "--idle-seconds" => a.idle_seconds = val().parse().unwrap(),
            "--latency-runs" => a.latency_runs = val().parse().unwrap(),
            "--model" => a.model = PathBuf::from(val()),
            "--shoebox" => a.shoebox = Some(PathBuf::from(val())),
            "--keep" => a.keep = true,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn jpeg(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([
            (x * 4) as u8,
            (y * 5) as u8,
            (seed.wrapping_mul(2654435761) >> 24) as u8,
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .unwrap();
    out
}

/// A byte-distinct copy (COM segment after SOI).
fn distinct(base: &[u8], n: usize) -> Vec<u8> {
    let c = format!("live bench {n}");
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xFE];
    out.extend_from_slice(&((c.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(c.as_bytes());
    out.extend_from_slice(&base[2..]);
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn proc_rss_kb(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// utime + stime in clock ticks.
fn proc_cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn main() {
    let args = parse();
    let tmp = tempfile::tempdir().expect("temp dir");
    let photos = tmp.path().join("photos");
    let lib_dir = tmp.path().join("library");
    println!(
        "live_bench: {} real files, {} synthetic entries",
        args.real, args.synthetic
    );

    let base = jpeg(1);
    for i in 0..args.real {
        let p = photos.join(format!("d{:04}/{i:06}.jpg", i / 100));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, distinct(&base, i)).unwrap();
    }
    let lib = Library::open(&lib_dir).unwrap();
    lib.add_folder(&photos).unwrap();
    let t = Instant::now();
    let first = lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
    let first_secs = t.elapsed().as_secs_f64();
    println!(
        "first scan (baseline: every file read, hashed, decoded): {} photos in {first_secs:.1} s",
        first.new_photos,
    );

    if args.synthetic > 0 {
        let archive = tmp.path().join("archive-drive/photos");
        let conn = lib.catalog().connection();
        conn.execute(
            "INSERT INTO roots (path, display_path, added_at, online) VALUES (?1, ?2, '2020-01-01T00:00:00Z', 0)",
            rusqlite::params![archive.to_str().unwrap().as_bytes(), archive.to_str().unwrap()],
        )
        .unwrap();
        let root_id = conn.last_insert_rowid();
        let tx = conn.unchecked_transaction().unwrap();
        for i in 0..args.synthetic {
            let hash = blake3::hash(format!("synthetic {i}").as_bytes());
            tx.execute(
                "INSERT INTO photos (hash, width, height, format, added_at, thumb_ready) VALUES (?1, 4000, 3000, 'jpeg', '2020-01-01T00:00:00Z', 1)",
                [&hash.as_bytes()[..]],
            )
            .unwrap();
            let photo = tx.last_insert_rowid();
            let p = archive.join(format!("d{:04}/{i:06}.jpg", i / 100));
            tx.execute(
                "INSERT INTO files (root_id, photo_id, path, display_path, size, mtime_ns, status) VALUES (?1, ?2, ?3, ?4, 3000000, 0, 'ok')",
                rusqlite::params![root_id, photo, p.to_str().unwrap().as_bytes(), p.to_str().unwrap()],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let total: i64 = lib
        .catalog()
        .connection()
        .query_row("SELECT COUNT(*) FROM files", [], |r| r.get(0))
        .unwrap();
    println!("catalogued files: {total}");

    // Start-up reconcile on the unchanged tree.
    let mut runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
        runs.push(t.elapsed().as_secs_f64());
        assert_eq!(r.unchanged as usize, args.real);
        assert_eq!(r.new_photos, 0);
    }
    let best = runs.iter().cloned().fold(f64::INFINITY, f64::min);
    println!(
        "reconcile, unchanged tree of {} files: best {:.3} s, median {:.3} s (runs {:?}); {:.0}x faster than the first scan",
        args.real,
        best,
        median(runs.clone()),
        runs.iter().map(|r| format!("{r:.3}")).collect::<Vec<_>>(),
        first_secs / median(runs.clone()),
    );
    let changed = 100.min(args.real);
    for i in 0..changed {
        let p = photos.join(format!("d{:04}/{i:06}.jpg", i / 100));
        std::fs::write(&p, distinct(&base, 1_000_000 + i)).unwrap();
    }
    let t = Instant::now();
    let r = lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
    println!(
        "reconcile with {changed} files rewritten: {:.3} s ({} new photos, {} unchanged)",
        t.elapsed().as_secs_f64(),
        r.new_photos,
        r.unchanged
    );

    if let Some(bin) = &args.shoebox {
        idle(bin, &lib_dir, args.idle_seconds);
    }

    latency(&lib, &photos, &args);
    if args.keep {
        let kept = tmp.keep();
        println!("kept {}", kept.display());
    }
}

fn idle(bin: &Path, lib_dir: &Path, seconds: u64) {
    let mut child = std::process::Command::new(bin)
        .env("SHOEBOX_LIBRARY", lib_dir)
        .args(["watch", "--no-embed", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start shoebox watch");
    let pid = child.id();
    let out = child.stdout.take().unwrap();
    let started = Instant::now();
    {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(out).lines();
        for line in lines.by_ref() {
            if line.unwrap_or_default().contains("\"idle\"") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
    }
    println!(
        "shoebox watch: up to date (start-up reconcile done) after {:.2} s",
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(3));
    let ticks0 = proc_cpu_ticks(pid).unwrap_or(0);
    let t0 = Instant::now();
    let mut peak = 0;
    while t0.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_millis(500));
        peak = peak.max(proc_rss_kb(pid, "VmRSS:").unwrap_or(0));
    }
    let ticks = proc_cpu_ticks(pid).unwrap_or(0) - ticks0;
    let cpu = ticks as f64 / clock_ticks() / t0.elapsed().as_secs_f64() * 100.0;
    println!(
        "shoebox watch idle over {seconds} s: RSS {:.1} MB (peak while idle {:.1} MB, high-water since start {:.1} MB), CPU {cpu:.2}% of one core",
        proc_rss_kb(pid, "VmRSS:").unwrap_or(0) as f64 / 1024.0,
        peak as f64 / 1024.0,
        proc_rss_kb(pid, "VmHWM:").unwrap_or(0) as f64 / 1024.0,
    );
    let _ = child.kill();
    let _ = child.wait();
}

fn latency(lib: &Library, photos: &Path, args: &Args) {
    let resolve = ResolveOptions {
        offline: true,
        ..ResolveOptions::from_env()
    };
    let spec = args.model.to_str().unwrap();
    let model = lib
        .load_model(Some(spec), DeviceChoice::Auto, &resolve)
        .expect("load the model");
    let slot = lib
        .model_slot(Some(spec), DeviceChoice::Auto, resolve)
        .unwrap();
    // Vectors and tags for the tree first, so the runs see steady state.
    let t = Instant::now();
    let embedded = lib.embed(&model, &Default::default(), &|_| {}).unwrap();
    lib.retag(&model, &Default::default(), &|_| {}).unwrap();
    println!(
        "embedded {} photos (+ re-tag) before the latency runs in {:.1} s ({})",
        embedded.embedded,
        t.elapsed().as_secs_f64(),
        model.row.key
    );
    let (idle_tx, idle_rx) = crossbeam_channel::unbounded::<()>();
    let engine = lib
        .start_live(
            LiveOptions {
                model: slot,
                reconcile_at_start: false,
                ..Default::default()
            },
            Arc::new(move |e| {
                if matches!(e, shoebox_engine::jobs::LiveEvent::Idle { .. }) {
                    let _ = idle_tx.send(());
                }
            }),
        )
        .unwrap();
    let mut times = Vec::new();
    let opts = SearchOptions {
        all: true,
        ..Default::default()
    };
    for run in 0..args.latency_runs {
        while idle_rx.try_recv().is_ok() {}
        let folder = format!("latency-{run}");
        let p = photos.join(&folder).join("new.jpg");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let bytes = distinct(&jpeg(7), 2_000_000 + run);
        let t = Instant::now();
        std::fs::write(&p, &bytes).unwrap();
        loop {
            let r = lib
                .search(&model, &format!("photo in:{folder}"), &opts)
                .unwrap();
            if r.results.iter().any(|h| Path::new(&h.path) == p) {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(120), "never found");
            std::thread::sleep(Duration::from_millis(20));
        }
        let secs = t.elapsed().as_secs_f64();
        times.push(secs);
        // Let the follow-up work (tags) finish before the next run.
        let _ = idle_rx.recv_timeout(Duration::from_secs(60));
    }
    engine.stop().unwrap();
    println!(
        "file creation → searchable (debounce 500 ms + settle 1000 ms included): median {:.2} s, runs {:?}",
        median(times.clone()),
        times.iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>()
    );
}
