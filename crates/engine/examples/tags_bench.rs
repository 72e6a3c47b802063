//! Tagging cost: the one-time prototype build of the built-in vocabulary
//! with a model's text tower, and re-tag throughput over N photos.
//!
//! ```text
//! cargo run --release -p shoebox-engine --example tags_bench -- [N] [MODEL_DIR]
//! ```
//!
//! Photos are catalog rows with random unit vectors (scoring does not care
//! what the pixels were). Without MODEL_DIR, prompts get random vectors of
//! 512 dimensions, which measures scoring alone.

use std::time::Instant;

use shoebox_engine::catalog::EmbedOutcome;
use shoebox_engine::model::{DeviceChoice, ResolveOptions};
use shoebox_engine::tags::{RetagOptions, TextEncoder};
use shoebox_engine::Library;

struct RandomEncoder(usize);

impl TextEncoder for RandomEncoder {
    fn embed_texts(&self, texts: &[&str]) -> shoebox_engine::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| unit(t.as_bytes(), self.0)).collect())
    }
}

fn unit(seed: &[u8], dim: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(dim);
    let mut h = blake3::Hasher::new();
    h.update(seed);
    let mut reader = h.finalize_xof();
    let mut buf = [0u8; 4];
    for _ in 0..dim {
        reader.fill(&mut buf);
        out.push(u32::from_le_bytes(buf) as f32 / u32::MAX as f32 - 0.5);
    }
    let n = out.iter().map(|x| x * x).sum::<f32>().sqrt();
    out.into_iter().map(|x| x / n).collect()
}

fn add_photos(lib: &Library, model_id: i64, dim: usize, from: usize, to: usize) {
    let conn = lib.catalog().connection();
    let mut rows = Vec::new();
    for i in from..to {
        let hash = blake3::hash(format!("photo {i}").as_bytes());
        conn.execute(
            "INSERT INTO photos (hash, width, height, format, added_at) VALUES (?1, 1, 1, 'jpeg', '2024-01-01T00:00:00Z')",
            [&hash.as_bytes()[..]],
        )
        .unwrap();
        rows.push((
            conn.last_insert_rowid(),
            EmbedOutcome::Vector(unit(format!("image {i}").as_bytes(), dim)),
        ));
    }
    lib.catalog().store_embeddings(model_id, &rows).unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(tmp.path()).unwrap();
    let loaded = args.get(2).map(|dir| {
        lib.load_model(
            Some(dir),
            DeviceChoice::Cpu,
            &ResolveOptions {
                offline: true,
                ..ResolveOptions::from_env()
            },
        )
        .unwrap()
    });
    let random = RandomEncoder(512);
    let (encoder, model_id, dim): (&dyn TextEncoder, i64, usize) = match &loaded {
        Some(m) => (m, m.row.id, m.row.dim),
        None => {
            let row = lib
                .catalog()
                .upsert_model("bench:random", "bench", 512)
                .unwrap();
            (&random, row.id, 512)
        }
    };
    let started = Instant::now();
    add_photos(&lib, model_id, dim, 0, n);
    println!(
        "catalog: {n} photos in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let vocab = lib.vocabulary().unwrap();
    let calibration = lib.tag_calibration("bench").unwrap();
    let run = |label: &str| {
        let r = lib
            .retag_with(
                encoder,
                model_id,
                &vocab,
                &calibration,
                &RetagOptions::default(),
                &|_| {},
            )
            .unwrap();
        println!(
            "{label}: concepts {} | prototypes built {} from {} prompts in {:.1}s | photos scored {} at {:.0}/s | +{} -{} tags | total {:.1}s",
            r.concepts,
            r.prototypes_built,
            r.prompts_embedded,
            r.prototype_seconds,
            r.photos_scored,
            r.photos_per_second,
            r.tags_added,
            r.tags_removed,
            r.seconds
        );
    };
    run("first run");
    run("nothing changed");
    add_photos(&lib, model_id, dim, n, n + 100);
    run("100 new photos");
}
