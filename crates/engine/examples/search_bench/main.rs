//! Search benchmark: the in-memory int8 index on a real catalog of
//! synthetic CLIP-sized vectors, against an rclip-style baseline, in one run.
//!
//! ```text
//! cargo run --release -p shoebox-engine --example search_bench -- \
//!     [N ...] [--queries Q] [--baseline-queries B] [--model DIR] [--text-runs T] [--keep]
//! ```
//! (`tools/bench/search.sh` builds and runs this.) N defaults to
//! `10000 100000 1000000`.
//!
//! For each N, not timed unless said:
//! 1. N unit 512-d vectors: 1000 random unit centroids, each photo one
//!    centroid plus Gaussian noise of the same norm (cosine to its centroid
//!    about 0.7), normalised. Queries are other noisy copies of random
//!    centroids, so a query's neighbours are the members of its cluster and
//!    the top ten are a genuine ranking problem, not noise.
//! 2. A real library (`Library::open` in a temp dir) with two registered
//!    folders; photos and files rows inserted with SQL in one transaction
//!    (dates 2005–2025 with offsets, eight cameras and some without,
//!    35% with GPS, year/event folders, a phone folder, 2% copies), then the
//!    vectors through `Catalog::store_embeddings` in batches of 10,000
//!    (timed, informational). The WAL is checkpointed and the catalog
//!    reopened, so the index load below starts cold in the process (the OS
//!    page cache is warm: the file was just written).
//! 3. `VectorIndex::load`: wall time, the index's own byte counts, and the
//!    process RSS before and after (plus the peak while loading); then
//!    `Catalog::index_rows` alone, the SQL half of the load.
//! 4. Latency of `search::execute` (limit 20, cut-off on) per query: ranking
//!    only, ranking with filters, filters only. p50 and p95 (nearest rank)
//!    over Q queries (default 200) after 3 warm-up queries. Components: the
//!    int8 scan alone (`VectorIndex::score`, with its minor page faults),
//!    and the two catalog reads of a ranked query (`Catalog::vectors` for
//!    the 84-photo re-rank pool, `Catalog::hit_rows` for the page).
//! 5. rclip-style baseline on the same catalog connection: per query,
//!    SELECT every vector of the model, decode the f32 blobs, dot product
//!    with each (16 lanes, vectorised) and keep the top 20. B queries
//!    (default 2,000,000 / N clamped to 5..=200).
//! 6. recall@10 against exact f32 brute force over the same vectors, for
//!    `execute` (int8 pool + exact re-rank, cut-off off) and for the raw
//!    int8 ranking from `VectorIndex::score`.
//!
//! Also, once (before the runs): `embed_texts` latency for a 5-word query on the random-weight
//! ViT-B/32 (`target/reference/clip-vit-b-32/model`) when present, else on
//! the committed tiny test model. Set `RAYON_NUM_THREADS` to pin its threads.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rusqlite::params;
use shoebox_engine::catalog::EmbedOutcome;
use shoebox_engine::model::{compute_threads, DeviceChoice, ResolveOptions};
use shoebox_engine::paths;
use shoebox_engine::search::{self, Query, QueryVectors, SearchOptions, VectorIndex};
use shoebox_engine::Library;

mod catalog;
mod data;
mod measure;

use catalog::*;
use data::*;
use measure::*;

const DIM: usize = 512;
const CLUSTERS: usize = 1000;
/// Norm of the noise added to a centroid, relative to the centroid's (1).
const PHOTO_NOISE: f32 = 1.0;
const QUERY_NOISE: f32 = 1.0;
/// Page size of the latency runs (the CLI's default `--limit`).
const LIMIT: usize = 20;
const RECALL_K: usize = 10;
const WARMUP: usize = 3;
const EMBED_BATCH: usize = 10_000;
const SEED: u64 = 0x5EED_2025;
const TEXT_QUERY: &str = "kids on a beach at sunset";
/// The issue's goals at one million photos.
const GOAL_N: usize = 1_000_000;
const GOAL_P95_MS: f64 = 100.0;
const GOAL_VECTOR_BYTES: usize = 600_000_000;

const CAMERAS: &[(&str, &str, Option<&str>)] = &[
    (
        "Canon",
        "Canon EOS 5D Mark III",
        Some("EF24-105mm f/4L IS USM"),
    ),
    ("Canon", "Canon EOS R6", Some("RF24-70mm F2.8 L IS USM")),
    (
        "NIKON CORPORATION",
        "NIKON D750",
        Some("24.0-70.0 mm f/2.8"),
    ),
    ("SONY", "ILCE-7M3", Some("FE 28-70mm F3.5-5.6 OSS")),
    (
        "Apple",
        "iPhone 12",
        Some("iPhone 12 back dual wide camera 4.2mm f/1.6"),
    ),
    (
        "Apple",
        "iPhone 15 Pro",
        Some("iPhone 15 Pro back triple camera 6.86mm f/1.78"),
    ),
    ("samsung", "SM-G991B", None),
    ("FUJIFILM", "X-T3", Some("XF18-55mmF2.8-4 R LM OIS")),
];
const EVENTS: &[&str] = &[
    "Family",
    "Summer Trip",
    "Road Trip",
    "Birthday",
    "Christmas",
    "Hiking",
    "Garden",
    "Misc",
];
const OFFSETS: &[&str] = &["+01:00", "+02:00", "-05:00", "-08:00", "+00:00", "+09:00"];
/// 2005-01-01T00:00:00 and 2026-01-01T00:00:00 as wall-clock seconds.
const FIRST_TS: i64 = 1_104_537_600;
const END_TS: i64 = 1_767_225_600;

/// The filtered queries, in the query language (what `shoebox search` takes).
const DATE_CAMERA: &str = "after:2015 before:2020 camera:canon";
const FOLDER: &str = "in:\"Summer Trip\"";

struct Args {
    ns: Vec<usize>,
    queries: usize,
    baseline_queries: Option<usize>,
    model: Option<PathBuf>,
    text_runs: usize,
    keep: bool,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn parse_args() -> Args {
    let mut args = Args {
        ns: Vec::new(),
        queries: 200,
        baseline_queries: None,
        model: None,
        text_runs: 20,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match a.as_str() {
            "--queries" => args.queries = value("--queries").parse().expect("--queries: a number"),
            "--baseline-queries" => {
                args.baseline_queries = Some(
                    value("--baseline-queries")
                        .parse()
                        .expect("--baseline-queries: a number"),
                )
            }
            "--model" => args.model = Some(PathBuf::from(value("--model"))),
            "--text-runs" => {
                args.text_runs = value("--text-runs").parse().expect("--text-runs: a number")
            }
            "--keep" => args.keep = true,
            "-h" | "--help" => {
                println!("search_bench [N ...] [--queries Q] [--baseline-queries B] [--model DIR] [--text-runs T] [--keep]");
                std::process::exit(0);
            }
            n => args
                .ns
                .push(n.replace('_', "").parse().expect("N must be a number")),
        }
    }
    if args.ns.is_empty() {
        args.ns = vec![10_000, 100_000, 1_000_000];
    }
    args.queries = args.queries.max(1);
    args.text_runs = args.text_runs.max(1);
    args
}

fn parse(q: &str) -> Query {
    search::parse(q, chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()).expect("query parses")
}

/// rclip's way: read every vector of the model from SQLite, then rank.
fn baseline_query(conn: &rusqlite::Connection, model_id: i64, q: &[f32]) -> (f64, f64, Vec<i64>) {
    let t = Instant::now();
    let mut stmt = conn
        .prepare_cached("SELECT photo_id, vector FROM embeddings WHERE model_id = ?1")
        .unwrap();
    let mut ids: Vec<i64> = Vec::new();
    let mut flat: Vec<f32> = Vec::new();
    let mut rows = stmt.query([model_id]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        ids.push(r.get(0).unwrap());
        let blob = r.get_ref(1).unwrap().as_blob().unwrap();
        flat.extend(
            blob.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
    }
    let read = ms(t);
    let t = Instant::now();
    let mut top = TopK::new(LIMIT);
    for (v, &id) in flat.chunks_exact(DIM).zip(&ids) {
        top.push(dot(v, q), id);
    }
    (read, ms(t), top.ids())
}

fn run(n: usize, args: &Args, centroids: &[f32], queries: &[Vec<f32>]) -> Run {
    eprintln!("== N = {n}");
    let tmp = tempfile::Builder::new()
        .prefix("shoebox-search-bench-")
        .tempdir()
        .expect("temp dir");
    let t = Instant::now();
    let data = photo_vectors(n, centroids);
    eprintln!("  generated vectors in {:.1} s", t.elapsed().as_secs_f64());

    let lib_dir = tmp.path().join("library");
    let (model_id, insert_rows_s, insert_vectors_s, embeddings_bytes) = {
        let lib = Library::open(&lib_dir).expect("open library");
        let roots = register_roots(&lib, tmp.path());
        let model = lib
            .catalog()
            .upsert_model("bench:synthetic-512", "synthetic (search_bench)", DIM)
            .unwrap();
        lib.catalog().set_active_model(model.id).unwrap();
        let t = Instant::now();
        insert_photos(&lib, &roots, n);
        let rows_s = t.elapsed().as_secs_f64();
        eprintln!("  inserted photos and files in {rows_s:.1} s");
        let t = Instant::now();
        insert_vectors(&lib, model.id, &data);
        let vectors_s = t.elapsed().as_secs_f64();
        eprintln!("  stored vectors in {vectors_s:.1} s");
        lib.catalog()
            .connection()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        // Pages of the embeddings table, where SQLite has the dbstat table.
        let embeddings_bytes: Option<i64> = lib
            .catalog()
            .connection()
            .query_row(
                "SELECT pgsize FROM dbstat('main', 1) WHERE name = 'embeddings'",
                [],
                |r| r.get(0),
            )
            .ok();
        (model.id, rows_s, vectors_s, embeddings_bytes)
    };
    let catalog_path = lib_dir.join("catalog.sqlite");
    let catalog_bytes = file_len(&catalog_path)
        + file_len(&lib_dir.join("catalog.sqlite-wal"))
        + file_len(&lib_dir.join("catalog.sqlite-shm"));

    // ---- Cold load (in this process).
    let lib = Library::open(&lib_dir).expect("reopen library");
    let catalog = lib.catalog();
    trim_heap();
    let rss_before = proc_status("VmRSS:");
    let peak_ok = reset_peak_rss();
    let t = Instant::now();
    let index = VectorIndex::load(catalog, model_id, DIM).expect("load index");
    let load_s = t.elapsed().as_secs_f64();
    let rss_after = proc_status("VmRSS:");
    let peak = proc_status("VmHWM:").filter(|_| peak_ok);
    trim_heap();
    let rss_trimmed = proc_status("VmRSS:");
    assert_eq!(
        (index.len(), index.vectors()),
        (n, n),
        "index holds every photo"
    );
    eprintln!("  loaded the index in {load_s:.2} s");
    let rss_delta = rss_before.zip(rss_after).map(|(b, a)| a - b);
    let peak_delta = rss_before.zip(peak).map(|(b, p)| p - b);
    let trimmed_delta = rss_before.zip(rss_trimmed).map(|(b, a)| a - b);
    let threads = if n >= 50_000 { cores() } else { 1 };
    // The SQL half of the load alone (same query the load runs).
    let t = Instant::now();
    let rows = catalog
        .read_snapshot(|c| c.index_rows(model_id, None))
        .expect("index rows");
    let index_rows_s = t.elapsed().as_secs_f64();
    assert_eq!(rows.len(), n);
    drop(rows);
    trim_heap();

    // ---- Latency.
    let q_count = queries.len();
    let no_filter = index.compile(&search::Filters::default());
    for q in queries.iter().take(WARMUP) {
        std::hint::black_box(index.score(&no_filter, Some(q)));
    }
    let faults_before = minor_faults();
    let scan_times: Vec<f64> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            std::hint::black_box(index.score(&no_filter, Some(q)));
            ms(t)
        })
        .collect();
    let scan_faults = faults_before
        .zip(minor_faults())
        .map(|(b, a)| (a - b) as f64 / q_count as f64);
    let scan = Lat::from(scan_times, &[(n, n, 0)]);
    eprintln!("  int8 scan p50 {:.1} ms", scan.p50);

    // The SQLite parts of a ranked query: exact vectors of the re-rank pool
    // (page + 64) and the rows of the page, for random photos.
    let (mut rerank_times, mut hit_times) = (Vec::new(), Vec::new());
    for j in 0..q_count {
        let mut rng = Rng::new(SEED ^ 0x000B_E7C4, j as u64);
        let ids: Vec<i64> = (0..LIMIT + 64).map(|_| rng.below(n) as i64 + 1).collect();
        let t = Instant::now();
        std::hint::black_box(catalog.vectors(model_id, &ids).expect("vectors"));
        rerank_times.push(ms(t));
        let t = Instant::now();
        std::hint::black_box(catalog.hit_rows(&ids[..LIMIT]).expect("hit rows"));
        hit_times.push(ms(t));
    }
    let rerank_read = Lat::from(rerank_times, &[]);
    let hit_rows = Lat::from(hit_times, &[]);

    let opts = SearchOptions {
        limit: LIMIT,
        ..Default::default()
    };
    let cases: [(&'static str, &str, bool); 5] = [
        ("rank only", "", true),
        ("rank + date range + camera", DATE_CAMERA, true),
        ("rank + in: folder", FOLDER, true),
        ("filter only: date range + camera", DATE_CAMERA, false),
        ("filter only: in: folder", FOLDER, false),
    ];
    let mut case_lat = Vec::new();
    for (name, text, ranked) in cases {
        let query = parse(text);
        let vectors = |q: &Vec<f32>| QueryVectors {
            text: ranked.then(|| q.clone()),
            ..Default::default()
        };
        let one = |q: &Vec<f32>| {
            let v = vectors(q);
            let t = Instant::now();
            let r =
                search::execute(&index, catalog, query.clone(), &v, &opts, None).expect("search");
            (ms(t), (r.candidates, r.total, r.results.len()))
        };
        for q in queries.iter().take(WARMUP) {
            one(q);
        }
        let (times, counts): (Vec<f64>, Vec<_>) = queries.iter().map(one).unzip();
        let lat = Lat::from(times, &counts);
        eprintln!("  {name}: p50 {:.1} ms, p95 {:.1} ms", lat.p50, lat.p95);
        case_lat.push((name, lat));
    }

    // ---- Recall@10 against exact f32.
    let t = Instant::now();
    let exact = exact_topk(&data, queries, RECALL_K);
    eprintln!(
        "  exact f32 top-{RECALL_K} of {q_count} queries in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let recall_opts = SearchOptions {
        limit: RECALL_K,
        all: true,
        ..Default::default()
    };
    let (mut hit_exec, mut hit_raw, mut raw_perfect) = (0usize, 0usize, 0usize);
    let (mut err_sum, mut err_max, mut err_n) = (0f64, 0f64, 0usize);
    for (q, want) in queries.iter().zip(&exact) {
        let want_ids = want.ids();
        let got = search::execute(
            &index,
            catalog,
            Query::default(),
            &QueryVectors {
                text: Some(q.clone()),
                ..Default::default()
            },
            &recall_opts,
            None,
        )
        .expect("search");
        hit_exec += got
            .results
            .iter()
            .filter(|h| want_ids.contains(&h.id))
            .count();
        let scored = index.score(&no_filter, Some(q));
        let mut raw = TopK::new(RECALL_K);
        for s in &scored {
            raw.push(s.score, s.photo_id);
        }
        let raw_hits = raw.ids().iter().filter(|id| want_ids.contains(id)).count();
        hit_raw += raw_hits;
        raw_perfect += usize::from(raw_hits == RECALL_K);
        for &(exact_score, id) in &want.items {
            // Slots follow photo ids here (loaded in id order, no deletions).
            let s = scored
                .get(id as usize - 1)
                .filter(|s| s.photo_id == id)
                .or_else(|| scored.iter().find(|s| s.photo_id == id))
                .expect("scored");
            let e = (s.score - exact_score).abs() as f64;
            err_sum += e;
            err_max = err_max.max(e);
            err_n += 1;
        }
    }
    let recall = Recall {
        queries: q_count,
        execute: hit_exec as f64 / (q_count * RECALL_K) as f64,
        raw: hit_raw as f64 / (q_count * RECALL_K) as f64,
        raw_perfect,
        mean_abs_err: err_sum / err_n.max(1) as f64,
        max_abs_err: err_max,
    };
    eprintln!(
        "  recall@{RECALL_K}: execute {:.4}, raw int8 {:.4}",
        recall.execute, recall.raw
    );

    // ---- rclip-style baseline.
    let b_count = args
        .baseline_queries
        .unwrap_or((2_000_000 / n).clamp(5, 200))
        .clamp(1, q_count);
    let conn = catalog.connection();
    baseline_query(conn, model_id, &queries[0]); // warm-up
    let (mut total, mut read, mut rank) = (Vec::new(), Vec::new(), Vec::new());
    let mut agrees = 0;
    for (q, want) in queries.iter().zip(&exact).take(b_count) {
        let t = Instant::now();
        let (r, k, top) = baseline_query(conn, model_id, q);
        total.push(ms(t));
        read.push(r);
        rank.push(k);
        agrees += usize::from(top[..RECALL_K] == want.ids()[..]);
    }
    for v in [&mut total, &mut read, &mut rank] {
        v.sort_by(f64::total_cmp);
    }
    let baseline = Baseline {
        queries: b_count,
        p50: pct(&total, 50.0),
        p95: pct(&total, 95.0),
        read_p50: pct(&read, 50.0),
        rank_p50: pct(&rank, 50.0),
        agrees,
    };
    eprintln!(
        "  baseline p50 {:.1} ms over {b_count} queries",
        baseline.p50
    );

    let out = Run {
        n,
        catalog_bytes,
        embeddings_bytes,
        insert_rows_s,
        insert_vectors_s,
        load_s,
        vector_bytes: index.vector_bytes(),
        metadata_bytes: index.metadata_bytes(),
        rss_delta,
        trimmed_delta,
        peak_delta,
        threads,
        scan,
        scan_faults,
        rerank_read,
        hit_rows,
        index_rows_s,
        cases: case_lat,
        baseline,
        recall,
    };
    drop(index);
    drop(lib);
    if args.keep {
        eprintln!("  kept {}", tmp.keep().display());
    }
    out
}

struct Text {
    model: String,
    dim: usize,
    threads: usize,
    p50: f64,
    min: f64,
    runs: usize,
}

fn text_bench(args: &Args) -> Option<Text> {
    let root = workspace_root();
    let vit = root.join("target/reference/clip-vit-b-32/model");
    let tiny = root.join("tests/fixtures/models/clip-tiny");
    let dir = match &args.model {
        Some(d) => d.clone(),
        None if vit.join("model.safetensors").is_file() => vit,
        None => tiny,
    };
    let dir = dir.canonicalize().ok()?;
    let tmp = tempfile::tempdir().ok()?;
    let lib = Library::open(&tmp.path().join("library")).ok()?;
    let loaded = match lib.load_model(
        Some(dir.to_str()?),
        DeviceChoice::Cpu,
        &ResolveOptions {
            offline: true,
            ..ResolveOptions::from_env()
        },
    ) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("text encoding: cannot load {}: {e}", dir.display());
            return None;
        }
    };
    for _ in 0..2 {
        lib.embed_texts(&loaded, &[TEXT_QUERY]).unwrap();
    }
    let mut times: Vec<f64> = (0..args.text_runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(lib.embed_texts(&loaded, &[TEXT_QUERY]).unwrap());
            ms(t)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let name = if dir.ends_with("clip-vit-b-32/model") {
        format!("random-weight ViT-B/32 ({})", dir.display())
    } else if dir.ends_with("clip-tiny") {
        format!(
            "committed tiny test model, NOT ViT-B/32 ({})",
            dir.display()
        )
    } else {
        dir.display().to_string()
    };
    Some(Text {
        model: name,
        dim: loaded.row.dim,
        threads: compute_threads(),
        p50: pct(&times, 50.0),
        min: times[0],
        runs: times.len(),
    })
}

// ---------------------------------------------------------------------------
// Report.

fn mb(bytes: f64) -> String {
    format!("{:.1}", bytes / 1e6)
}

fn opt_mb(bytes: Option<i64>) -> String {
    bytes.map_or("n/a".into(), |b| mb(b as f64))
}

fn count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// The 1-, 5- and 15-minute load averages (other work on the machine
/// skews latencies).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

fn report(runs: &[Run], text: Option<&Text>, args: &Args, load_at_start: &str) {
    let q = args.queries;
    println!();
    println!(
        "## Search benchmark: synthetic {DIM}-d unit vectors ({CLUSTERS} clusters), real catalog"
    );
    println!();
    println!(
        "{} cores; the index scans with {} threads at N >= 50k, 1 below. MB = 10^6 bytes. \
Latencies in ms, p50 / p95 (nearest rank) over {q} queries after {WARMUP} warm-ups; \
`search::execute` with limit {LIMIT} and the adaptive cut-off (default RelevancePolicy: \
z = 3, no text floor). Load average at start {load_at_start}, at end {}.",
        cores(),
        cores(),
        load_average()
    );
    println!();

    println!("### Catalog and index load");
    println!();
    println!("| N | catalog file MB | of which embeddings table MB | insert photos+files s | store vectors s | **index load s** | vector memory MB (int8 + scales) | other index memory MB (est.) | RSS delta after load MB | same, after malloc_trim MB | peak RSS during load MB (above start) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | **{:.2}** | {} | {} | {} | {} | {} |",
            count(r.n),
            mb(r.catalog_bytes as f64),
            opt_mb(r.embeddings_bytes),
            r.insert_rows_s,
            r.insert_vectors_s,
            r.load_s,
            mb(r.vector_bytes as f64),
            mb(r.metadata_bytes as f64),
            opt_mb(r.rss_delta),
            opt_mb(r.trimmed_delta),
            opt_mb(r.peak_delta),
        );
    }
    println!();
    println!(
        "Catalog size after a WAL checkpoint; the f32 vectors alone are {DIM} x 4 = {} bytes per photo. \
Inserts are informational (photos and files: one SQL transaction; vectors: \
`Catalog::store_embeddings` in batches of {EMBED_BATCH}). The load is `VectorIndex::load` on a \
freshly opened catalog: cold in the process, but the OS page cache holds the file (it was \
just written). RSS is VmRSS from /proc/self/status, measured after malloc_trim; the \
load's transient rows (every f32 vector, decoded) show in the peak column.",
        DIM * 4
    );
    println!();

    println!("### Query latency, ms (p50 / p95)");
    println!();
    print!("| N | threads | int8 scan only |");
    for (name, _) in &runs[0].cases {
        print!(" {name} |");
    }
    println!();
    print!("|---:|---:|---:|");
    for _ in &runs[0].cases {
        print!("---:|");
    }
    println!();
    for r in runs {
        print!("| {} | {} | {} |", count(r.n), r.threads, r.scan.cell());
        for (i, (_, lat)) in r.cases.iter().enumerate() {
            if i == 0 {
                print!(" **{}** |", lat.cell());
            } else {
                print!(" {} |", lat.cell());
            }
        }
        println!();
    }
    println!();
    println!(
        "Filters: `{DATE_CAMERA}` and `{FOLDER}`. \"int8 scan only\" is `VectorIndex::score` \
alone (quantise the query, scan every vector, collect the candidates); the other columns are \
the whole `search::execute` (scan, cut-off statistics, pool selection, exact re-rank of \
page + 64 vectors read from SQLite, hit rows). Filter-only queries sort the matches by date."
    );
    println!();
    println!("### Where the time goes");
    println!();
    println!("| N | index load s | of which `Catalog::index_rows` (SQL + f32 decode) s | rest of load (quantise, intern, maps) s | int8 scan p50 ms | minor page faults per scan | re-rank read, {} vectors, p50 ms | hit rows, {LIMIT}, p50 ms | rank only p50 ms | rest of `execute` (cut-off statistics, filtering, pool selection) ~ms |", LIMIT + 64);
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        let rank = &r.cases[0].1;
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {:.2} | {:.2} | {:.1} | {:.1} |",
            count(r.n),
            r.load_s,
            r.index_rows_s,
            r.load_s - r.index_rows_s,
            r.scan.p50,
            r.scan_faults.map_or("n/a".into(), |f| format!("{f:.0}")),
            r.rerank_read.p50,
            r.hit_rows.p50,
            rank.p50,
            rank.p50 - r.scan.p50 - r.rerank_read.p50 - r.hit_rows.p50
        );
    }
    println!();
    println!("`Catalog::index_rows` is timed on its own after the load (the same query the load runs). Re-rank read and hit rows are `Catalog::vectors` and `Catalog::hit_rows` on random photos; the last column is rank-only p50 minus the other three p50s, so only indicative.");
    println!();
    println!("| N | query | mean candidates (after filters) | share of N | mean results above cut-off | min above cut-off | mean returned |");
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for r in runs {
        for (name, lat) in &r.cases {
            println!(
                "| {} | {name} | {:.0} | {:.1}% | {:.0} | {} | {:.1} |",
                count(r.n),
                lat.candidates,
                100.0 * lat.candidates / r.n as f64,
                lat.total,
                lat.min_total,
                lat.returned
            );
        }
    }
    println!();

    println!("### rclip-style baseline (SELECT every vector, decode, brute-force dot, top {LIMIT}) vs Shoebox rank only");
    println!();
    println!("| N | baseline queries | baseline p50 | baseline p95 | of which SQLite read + decode p50 | dot + top-{LIMIT} p50 | Shoebox rank only p50 / p95 | **baseline / Shoebox p50** | baseline / Shoebox p95 | baseline top-{RECALL_K} = exact |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        let b = &r.baseline;
        let s = &r.cases[0].1;
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | **{:.0}x** | {:.0}x | {}/{} |",
            count(r.n),
            b.queries,
            b.p50,
            b.p95,
            b.read_p50,
            b.rank_p50,
            s.cell(),
            b.p50 / s.p50,
            b.p95 / s.p95,
            b.agrees,
            b.queries
        );
    }
    println!();

    println!("### recall@{RECALL_K} vs exact f32 brute force");
    println!();
    println!("| N | queries | **execute (int8 pool + exact re-rank)** | raw int8 ranking (no re-rank) | queries with raw int8 top-{RECALL_K} exact | int8 score error on the true top-{RECALL_K}: mean / max |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        let c = &r.recall;
        println!(
            "| {} | {} | **{:.4}** | {:.4} | {}/{} | {:.5} / {:.5} |",
            count(r.n),
            c.queries,
            c.execute,
            c.raw,
            c.raw_perfect,
            c.queries,
            c.mean_abs_err,
            c.max_abs_err
        );
    }
    println!();
    println!("execute ran with limit {RECALL_K} and `all` (cut-off off), so its pool is the int8 top {} re-ranked exactly.", RECALL_K + 64);
    println!();

    println!("### Text encoding (`Library::embed_texts`, one 5-word query)");
    println!();
    match text {
        Some(t) => {
            println!("| model | dim | compute threads | runs | p50 ms | min ms |");
            println!("|---|---:|---:|---:|---:|---:|");
            println!(
                "| {} | {} | {} | {} | {:.1} | {:.1} |",
                t.model, t.dim, t.threads, t.runs, t.p50, t.min
            );
            println!();
            println!("Query: \"{TEXT_QUERY}\".");
        }
        None => println!("(no model could be loaded)"),
    }
    println!();

    println!("### Goals at 1M photos on this machine");
    println!();
    match runs.iter().find(|r| r.n == GOAL_N) {
        Some(r) => {
            let p95 = r.cases[0].1.p95;
            let met = |ok: bool| if ok { "**met**" } else { "**NOT met**" };
            println!("| goal | measured | |");
            println!("|---|---:|---|");
            println!(
                "| scan + rank p95 <= {GOAL_P95_MS:.0} ms (`execute`, rank only) | {p95:.1} ms | {} |",
                met(p95 <= GOAL_P95_MS)
            );
            println!(
                "| vector memory <= {} MB | {} MB | {} |",
                GOAL_VECTOR_BYTES / 1_000_000,
                mb(r.vector_bytes as f64),
                met(r.vector_bytes <= GOAL_VECTOR_BYTES)
            );
        }
        None => println!("(N = 1000000 was not measured in this run)"),
    }
}

fn main() {
    let args = parse_args();
    eprintln!(
        "search_bench: N = {:?}, {} queries, {} cores",
        args.ns,
        args.queries,
        cores()
    );
    let load_at_start = load_average();
    let centroids = centroids();
    let queries = query_vectors(args.queries, &centroids);
    let text = text_bench(&args);
    let runs: Vec<Run> = args
        .ns
        .iter()
        .map(|&n| run(n, &args, &centroids, &queries))
        .collect();
    report(&runs, text.as_ref(), &args, &load_at_start);
}
