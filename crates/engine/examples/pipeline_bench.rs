//! Embedding benchmark: Shoebox's real embedding job against the PyTorch
//! reference pipeline, on the same realistic 12-megapixel JPEGs, in one run.
//!
//! ```text
//! RAYON_NUM_THREADS=2 cargo run --release -p shoebox-engine --example pipeline_bench -- \
//!     [N] [--model DIR] [--python PATH] [--no-python] [--repeats R] [--text-repeats T]
//! ```
//! (`tools/bench/embed.sh` builds, finds or generates the model and runs this.)
//!
//! 1. N photos (default 32) are generated into a temp dir from the cc0
//!    fixtures: a per-photo 4:3 crop upscaled to 4000x3000 (Lanczos3), a
//!    per-photo exposure and tint, mild sensor-like grain, JPEG quality 90.
//!    No EXIF orientation, so PIL (which ignores it) sees the same upright
//!    pixels. Not timed.
//! 2. Shoebox end to end: a fresh library per run, `add_folder`, `scan`
//!    (not timed), `load_model` (not timed), then `Library::embed` at batch
//!    1, 8 and 32 with the job's default workers: photos/s and the job's
//!    stage busy-seconds (summed over threads; decode workers overlap the
//!    model).
//! 3. Shoebox model only: `embed_preprocessed` on pre-made inputs at the
//!    same batch sizes. Also the serial per-image cost of each stage (one
//!    thread for decode/preprocess): reduced decode, full decode, and
//!    preprocessing of each.
//! 4. Text query latency: `embed_texts` on a short query (run at its own
//!    length) and on a caption truncated to 77 tokens; median of T runs.
//! 5. Fidelity: cosine between the job's stored (reduced-decode) vector and
//!    a full-decode embedding of the same file, and against PyTorch's.
//! 6. The PyTorch side: `tools/reference/pipeline_bench.py` on the same
//!    folder with the same thread count (PIL full decode + CLIPProcessor +
//!    `get_image_features`, and model only), its JSON read back.
//!
//! Throughput rows take the fastest of R passes (default 2) on each side.
//! Set EMBED_BENCH_KEEP=1 to keep the photos, libraries and JSON.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use image::DynamicImage;
use serde_json::Value;
use shoebox_engine::embed::{EmbedOptions, EmbedReport, LoadedModel};
use shoebox_engine::ingest::{decode, ScanOptions};
use shoebox_engine::model::{compute_threads, DeviceChoice, ResolveOptions};
use shoebox_engine::Library;

#[path = "common/camera_photos.rs"]
mod camera_photos;
use camera_photos::{photo_jpeg, Look, HEIGHT, QUALITY, WIDTH};

const BATCHES: [usize; 3] = [1, 8, 32];
const SHORT_QUERY: &str = "kids on a beach at sunset";
/// More than 77 tokens: truncated to exactly 77 (BOS + 75 + EOS).
const LONG_QUERY: &str =
    "a wide photo of three kids in bright swimsuits building a large sandcastle with towers \
and a moat on a quiet sandy beach at sunset, with orange and pink clouds over the calm \
sea, a red and white lighthouse on the rocks in the distance, seagulls flying low over \
the waves, a striped umbrella, a blue cooler and a golden retriever lying on a towel \
next to their parents, who are reading books in folding chairs near the dunes";

struct Args {
    n: usize,
    model: PathBuf,
    python: Option<PathBuf>,
    repeats: usize,
    text_repeats: usize,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn parse_args() -> Args {
    let root = workspace_root();
    let mut args = Args {
        n: 32,
        model: root.join("target/reference/clip-vit-b-32/model"),
        python: Some(root.join("tools/reference/.venv/bin/python")),
        repeats: 2,
        text_repeats: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match a.as_str() {
            "--model" => args.model = PathBuf::from(value("--model")),
            "--python" => args.python = Some(PathBuf::from(value("--python"))),
            "--no-python" => args.python = None,
            "--repeats" => args.repeats = value("--repeats").parse().expect("--repeats: a number"),
            "--text-repeats" => {
                args.text_repeats = value("--text-repeats")
                    .parse()
                    .expect("--text-repeats: a number")
            }
            "-h" | "--help" => {
                println!("embed_bench [N] [--model DIR] [--python PATH] [--no-python] [--repeats R] [--text-repeats T]");
                std::process::exit(0);
            }
            n => args.n = n.parse().expect("N must be a number"),
        }
    }
    args.repeats = args.repeats.max(1);
    args.text_repeats = args.text_repeats.max(1);
    args
}

fn main() {
    let args = parse_args();
    let n = args.n;
    let threads = compute_threads();
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    assert!(
        args.model.join("model.safetensors").is_file(),
        "no model at {} (run tools/reference/regenerate.sh --config vit-b-32)",
        args.model.display()
    );
    let model_spec = args
        .model
        .canonicalize()
        .expect("model dir")
        .to_string_lossy()
        .into_owned();

    let tmp = tempfile::tempdir().expect("temp dir");
    let photos_dir = tmp.path().join("photos");
    std::fs::create_dir_all(&photos_dir).unwrap();
    println!(
        "embed_bench: N={n}, compute threads={threads} (RAYON_NUM_THREADS), cores={cores}, repeats={}",
        args.repeats
    );
    let started = Instant::now();
    let files = generate(&photos_dir, n, cores);
    let total_bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    println!(
        "generated {n} JPEGs {WIDTH}x{HEIGHT} q{QUALITY} in {:.1} s: {:.2} MB average",
        started.elapsed().as_secs_f64(),
        total_bytes as f64 / 1e6 / n as f64
    );

    // ---- Shoebox end to end: the real job, fresh library per run.
    let mut e2e: Vec<EmbedReport> = Vec::new();
    let mut last_library: Option<Library> = None;
    for &bs in &BATCHES {
        let mut best: Option<EmbedReport> = None;
        for run in 0..args.repeats {
            let library = Library::open(&tmp.path().join(format!("library-b{bs}-{run}")))
                .expect("open library");
            library.add_folder(&photos_dir).expect("add folder");
            let scan = library
                .scan(&ScanOptions::default(), &|_| {})
                .expect("scan");
            assert_eq!(scan.new_photos, n as u64, "scan found every photo");
            let loaded = load(&library, &model_spec);
            let report = library
                .embed(
                    &loaded,
                    &EmbedOptions {
                        batch_size: bs,
                        workers: 0,
                        ..Default::default()
                    },
                    &|_| {},
                )
                .expect("embed");
            assert_eq!(report.embedded, n as u64, "job embedded every photo");
            println!(
                "shoebox job batch {bs} run {}: {:.2} photos/s ({} workers)",
                run + 1,
                report.photos_per_second,
                report.workers
            );
            if best
                .as_ref()
                .is_none_or(|b| report.photos_per_second > b.photos_per_second)
            {
                best = Some(report);
            }
            drop(loaded);
            last_library = Some(library);
        }
        e2e.push(best.unwrap());
    }
    let library = last_library.unwrap();
    let loaded = load(&library, &model_spec);

    // ---- Serial per-image costs and the pre-made inputs.
    let min_edge = loaded.model.image_size() as u32;
    let mut serial = Serial::default();
    let mut inputs = Vec::with_capacity(n);
    let mut full_inputs = Vec::with_capacity(n);
    for f in &files {
        let t = Instant::now();
        let img = decode::load_upright(f, min_edge, decode::file_orientation(f)).expect("decode");
        serial.reduced_decode += t.elapsed().as_secs_f64();
        let t = Instant::now();
        inputs.push(loaded.model.preprocess(&img));
        serial.reduced_preprocess += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let full: DynamicImage = decode::load_full_upright(f).expect("full decode");
        serial.full_decode += t.elapsed().as_secs_f64();
        let t = Instant::now();
        full_inputs.push(loaded.model.preprocess(&full));
        serial.full_preprocess += t.elapsed().as_secs_f64();
    }

    // ---- Shoebox model only.
    let mut model_only = Vec::new();
    for &bs in &BATCHES {
        loaded
            .model
            .embed_preprocessed(&inputs[..bs.min(n)])
            .expect("warm-up");
        let mut best = f64::INFINITY;
        for _ in 0..args.repeats {
            let t = Instant::now();
            for chunk in inputs.chunks(bs) {
                std::hint::black_box(loaded.model.embed_preprocessed(chunk).expect("embed"));
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "shoebox model only batch {bs}: {:.2} images/s",
            n as f64 / best
        );
        model_only.push(n as f64 / best);
    }

    // ---- Text latency.
    let text = [SHORT_QUERY, LONG_QUERY].map(|q| {
        let tokens = loaded.model.tokenize(q).expect("tokenize").len();
        for _ in 0..2 {
            loaded.model.embed_texts(&[q]).expect("embed text");
        }
        let mut ms: Vec<f64> = (0..args.text_repeats)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(loaded.model.embed_texts(&[q]).expect("embed text"));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
        (tokens, median(&mut ms), min)
    });

    // ---- Fidelity: the job's stored vectors vs full decode.
    let full_vectors = loaded
        .model
        .embed_preprocessed(&full_inputs)
        .expect("embed full");
    let job_vectors: Vec<Vec<f32>> = files
        .iter()
        .map(|f| {
            let id = library
                .resolve_photo(f.to_str().unwrap())
                .expect("photo id");
            library
                .catalog()
                .embedding(id, loaded.row.id)
                .expect("read vector")
                .expect("job stored a vector")
        })
        .collect();
    let job_vs_full = cosines(&job_vectors, &full_vectors);
    drop(loaded);
    drop(library);

    // ---- PyTorch.
    let py = args
        .python
        .as_ref()
        .and_then(|python| run_python(python, &args, &photos_dir, tmp.path(), threads));

    // ---- Report.
    println!();
    println!(
        "## Embedding benchmark: {n} x 12 MP JPEG (4000x3000 q90), ViT-B/32, {threads} compute threads"
    );
    println!();
    if let Some((py, _)) = &py {
        println!(
            "PyTorch {} / transformers {} / Pillow {}, {} threads, attention {}, {}; CPU: {}.",
            py["torch"].as_str().unwrap_or("?"),
            py["transformers"].as_str().unwrap_or("?"),
            py["pillow"].as_str().unwrap_or("?"),
            py["threads"],
            py["attn_implementation"].as_str().unwrap_or("?"),
            py["image_processor"].as_str().unwrap_or("?"),
            py["cpu"].as_str().unwrap_or("?"),
        );
        println!();
    }
    let py_rate = |section: &str, i: usize| -> Option<f64> {
        py.as_ref()
            .and_then(|(v, _)| v[section][i]["images_per_s"].as_f64())
    };
    println!(
        "| images/s (best of {}) | Shoebox | PyTorch | Shoebox/PyTorch |",
        args.repeats
    );
    println!("|---|---:|---:|---:|");
    for (i, &bs) in BATCHES.iter().enumerate() {
        row(
            &format!("end to end, batch {bs}"),
            e2e[i].photos_per_second,
            py_rate("pipeline", i),
        );
    }
    for (i, &bs) in BATCHES.iter().enumerate() {
        row(
            &format!("model only, batch {bs}"),
            model_only[i],
            py_rate("model_only", i),
        );
    }
    println!();

    println!("End-to-end time split, ms per image. Shoebox: the job's busy time per stage summed over threads (decode workers run alongside the model, so the stages add up to more than wall); PyTorch: serial, so stages add up to wall.");
    println!();
    println!("| batch | side | decode | preprocess | model | db | wall |");
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for (i, &bs) in BATCHES.iter().enumerate() {
        let r = &e2e[i];
        let s = |k: &str| r.stage_seconds.get(k).copied().unwrap_or(0.0) * 1e3 / n as f64;
        println!(
            "| {bs} | Shoebox ({} worker{}) | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.workers,
            if r.workers == 1 { "" } else { "s" },
            s("decode"),
            s("preprocess"),
            s("model"),
            s("db"),
            1e3 / r.photos_per_second
        );
        if let Some((v, _)) = &py {
            let m = &v["pipeline"][i]["ms_per_image"];
            let g = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
            println!(
                "| {bs} | PyTorch | {:.1} | {:.1} | {:.1} | - | {:.1} |",
                g("decode"),
                g("preprocess"),
                g("model"),
                g("wall")
            );
        }
    }
    println!();

    println!("Shoebox serial per-image costs (one thread for decode and preprocess):");
    println!();
    println!("| stage | ms/image |");
    println!("|---|---:|");
    let per = |s: f64| s * 1e3 / n as f64;
    println!(
        "| reduced decode (job: DCT-domain scaling) | {:.1} |",
        per(serial.reduced_decode)
    );
    println!(
        "| preprocess from the reduced image | {:.1} |",
        per(serial.reduced_preprocess)
    );
    println!(
        "| full decode (image crate, 12 MP) | {:.1} |",
        per(serial.full_decode)
    );
    println!(
        "| preprocess from the full 12 MP image | {:.1} |",
        per(serial.full_preprocess)
    );
    println!();

    println!("| text query latency, median (min) of {} | tokens | Shoebox ms | PyTorch ms | Shoebox/PyTorch throughput (medians) |", args.text_repeats);
    println!("|---|---:|---:|---:|---:|");
    for (i, (name, key)) in [("short query", "short"), ("long caption", "long")]
        .into_iter()
        .enumerate()
    {
        let (tokens, ms, min) = text[i];
        let py_text = py.as_ref().map(|(v, _)| &v["text"][key]);
        let py_ms = py_text.and_then(|t| t["median_ms"].as_f64());
        let py_min = py_text.and_then(|t| t["min_ms"].as_f64());
        let py_tokens = py_text.and_then(|t| t["tokens"].as_u64());
        println!(
            "| {name} | {tokens}{} | {ms:.1} ({min:.1}) | {} | {} |",
            match py_tokens {
                Some(t) if t as usize != tokens => format!(" (PyTorch {t})"),
                _ => String::new(),
            },
            py_ms
                .zip(py_min)
                .map_or("-".into(), |(p, m)| format!("{p:.1} ({m:.1})")),
            py_ms.map_or("-".into(), |p| format!("{:.2}x", p / ms)),
        );
    }
    println!(
        "(short query: \"{SHORT_QUERY}\"; both sides run each text at its own length, no padding)"
    );
    println!();

    println!(
        "| embedding fidelity over {n} photos | mean cosine | worst cosine | worst 1 - cosine |"
    );
    println!("|---|---:|---:|---:|");
    let stat = |c: &[f64]| {
        (
            c.iter().sum::<f64>() / c.len() as f64,
            c.iter().copied().fold(f64::INFINITY, f64::min),
        )
    };
    let (mean, worst) = stat(&job_vs_full);
    println!(
        "| Shoebox job (reduced decode) vs Shoebox full decode | {mean:.7} | {worst:.7} | {:.1e} |",
        1.0 - worst
    );
    if let Some((_, py_vectors)) = &py {
        let py_in_order: Option<Vec<Vec<f32>>> = files
            .iter()
            .map(|f| py_vectors.get(f.file_name()?.to_str()?).cloned())
            .collect();
        if let Some(pv) = py_in_order {
            let (mean, worst) = stat(&cosines(&full_vectors, &pv));
            println!(
                "| Shoebox full decode vs PyTorch (PIL full decode) | {mean:.7} | {worst:.7} | {:.1e} |",
                1.0 - worst
            );
            let (mean, worst) = stat(&cosines(&job_vectors, &pv));
            println!(
                "| Shoebox job (reduced decode) vs PyTorch | {mean:.7} | {worst:.7} | {:.1e} |",
                1.0 - worst
            );
        }
    }
    println!();
    println!("Random-weight model (no pretrained weights here): cosines show how far the inputs move the vectors, not retrieval quality.");

    if std::env::var_os("EMBED_BENCH_KEEP").is_some() {
        println!(
            "kept the photos, libraries and JSON in {}",
            tmp.keep().display()
        );
    }
}

fn row(name: &str, shoebox: f64, pytorch: Option<f64>) {
    match pytorch {
        Some(p) => println!(
            "| {name} | {shoebox:.2} | {p:.2} | **{:.2}x** |",
            shoebox / p
        ),
        None => println!("| {name} | {shoebox:.2} | - | - |"),
    }
}

fn load(library: &Library, spec: &str) -> LoadedModel {
    library
        .load_model(
            Some(spec),
            DeviceChoice::Cpu,
            &ResolveOptions {
                offline: true,
                ..ResolveOptions::from_env()
            },
        )
        .expect("load model")
}

#[derive(Default)]
struct Serial {
    reduced_decode: f64,
    reduced_preprocess: f64,
    full_decode: f64,
    full_preprocess: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn cosines(a: &[Vec<f32>], b: &[Vec<f32>]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let dot: f64 = x.iter().zip(y).map(|(p, q)| *p as f64 * *q as f64).sum();
            let nx: f64 = x.iter().map(|p| (*p as f64).powi(2)).sum::<f64>().sqrt();
            let ny: f64 = y.iter().map(|q| (*q as f64).powi(2)).sum::<f64>().sqrt();
            dot / (nx * ny).max(1e-30)
        })
        .collect()
}

/// Runs pipeline_bench.py on the same photos; returns its JSON and its
/// per-file embeddings, or None (with a warning) when it cannot run.
fn run_python(
    python: &Path,
    args: &Args,
    photos: &Path,
    tmp: &Path,
    threads: usize,
) -> Option<(Value, std::collections::HashMap<String, Vec<f32>>)> {
    if !python.is_file() {
        eprintln!(
            "warning: no Python at {} (run tools/reference/regenerate.sh); PyTorch columns left empty",
            python.display()
        );
        return None;
    }
    let script = workspace_root().join("tools/reference/pipeline_bench.py");
    let json = tmp.join("pytorch.json");
    let emb = tmp.join("pytorch-embeddings.json");
    let batches = BATCHES.map(|b| b.to_string()).join(",");
    println!("running the PyTorch reference ({})", script.display());
    let status = Command::new(python)
        .arg(&script)
        .arg("--model")
        .arg(&args.model)
        .arg("--images")
        .arg(photos)
        .args(["--threads", &threads.to_string()])
        .args(["--batch-sizes", &batches])
        .args(["--repeats", &args.repeats.to_string()])
        .args(["--text-repeats", &args.text_repeats.to_string()])
        .args(["--short-query", SHORT_QUERY, "--long-query", LONG_QUERY])
        .arg("--json-out")
        .arg(&json)
        .arg("--embeddings-out")
        .arg(&emb)
        .stdout(std::process::Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => {
            eprintln!(
                "warning: the PyTorch reference failed ({other:?}); PyTorch columns left empty"
            );
            return None;
        }
    }
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&json).ok()?).ok()?;
    let vectors = serde_json::from_str(&std::fs::read_to_string(&emb).ok()?).ok()?;
    Some((value, vectors))
}

// ---------------------------------------------------------------- generation

fn generate(dir: &Path, n: usize, threads: usize) -> Vec<PathBuf> {
    camera_photos::generate(dir, n, threads, |i, sources| {
        let look = Look {
            crop_seed: 0xE3BE_D000 + i as u64,
            grain_seed: 0xBEEF ^ i as u64,
            max_zoom: 0.4,
        };
        photo_jpeg(i, sources, &look)
    })
}
