//! Near-duplicate evaluation on `../shared/data/neardup-dev` (350 COCO
//! photos: 60 groups of an original and 3 edits, 110 distractors).
//!
//! ```text
//! cargo run --release -p shoebox-engine --example neardup_eval [-- --embed]
//! ```
//!
//! Ingests the images through a real scan into a temp library, then reports
//! pair precision and recall of:
//! - Shoebox (exact + near tiers, default thresholds, perceptual hash only),
//!   and a sweep of the near threshold;
//! - the baseline: image_hasher Gradient 8x8 (image_hasher's default
//!   Lanczos3 resize) with Czkawka's default "High" similarity (distance
//!   <= 2 at hash size 8); also 8x8 with Czkawka's CLI filter (Nearest), and
//!   Czkawka's current CLI defaults (16x16, Nearest, "High" = distance <= 5);
//! - with `--embed`, Shoebox with crop confirmation by embeddings from the
//!   committed tiny random-weight CLIP. Those weights are not semantically
//!   meaningful: the figure only shows the confirmation path running, not
//!   what a real model achieves.
//!
//! Exits quietly when the data set is absent.

#[path = "neardup/mod.rs"]
mod neardup;

use image_hasher::FilterType;
use shoebox_engine::dupes::Params;

fn line(name: &str, s: neardup::Score) {
    println!(
        "{name:<58} precision {:.4}  recall {:.4}  ({} predicted, {} correct, {} true pairs)",
        s.precision, s.recall, s.predicted, s.true_positives, s.truth
    );
}

fn main() {
    let Some(dir) = neardup::data_dir() else {
        println!("neardup-dev not found (set SHOEBOX_NEARDUP_DIR); nothing to do");
        return;
    };
    let embed = std::env::args().any(|a| a == "--embed");
    let rows = neardup::truth(&dir);
    let truth = neardup::true_pairs(&rows);
    let scanned = neardup::scan(&dir, &rows);
    println!(
        "neardup-dev: {} files, {} true pairs; scanned in {:.1}s\n",
        rows.len(),
        truth.len(),
        scanned.seconds
    );

    let (by_transform, min_false) = neardup::distance_report(&scanned, &rows);
    println!("256-bit gradient hash distance, original vs edit (min..max):");
    for (t, lo, hi) in &by_transform {
        println!("  {t:<16} {lo:>3}..{hi:<3}");
    }
    println!("  closest unrelated pair: {min_false}\n");
    let (by_transform, min_false) = neardup::crop_distance_report(&scanned, &rows);
    println!("crop distance: hash against the other photo's region hashes, either way (min..max):");
    for (t, lo, hi) in &by_transform {
        println!("  {t:<16} {lo:>3}..{hi:<3}");
    }
    println!("  closest unrelated pair: {min_false}\n");

    let params = Params::default();
    let t = std::time::Instant::now();
    let ours = neardup::shoebox_pairs(&scanned, &params);
    let group_secs = t.elapsed().as_secs_f64();
    line(
        &format!(
            "Shoebox exact+near, phash only (d <= {})",
            params.near_max_distance
        ),
        neardup::score(&ours, &truth),
    );
    let (original, tie, total) = neardup::keeper_is_original(&scanned, &rows, &params);
    println!(
        "  keeper: the original in {original} of {total} single-source groups, the full-resolution brightness/contrast edit (a tie by the rules) in {tie}, another copy in {}; grouping took {group_secs:.3}s",
        total - original - tie
    );

    let t = std::time::Instant::now();
    let czk8 = neardup::czkawka_pairs(&dir, &rows, 8, FilterType::Lanczos3, 2);
    line(
        "Czkawka default: Gradient 8x8, Lanczos3, High (d <= 2)",
        neardup::score(&czk8, &truth),
    );
    let czk8n = neardup::czkawka_pairs(&dir, &rows, 8, FilterType::Nearest, 2);
    line(
        "Czkawka: Gradient 8x8, Nearest, High (d <= 2)",
        neardup::score(&czk8n, &truth),
    );
    let czk16 = neardup::czkawka_pairs(&dir, &rows, 16, FilterType::Nearest, 5);
    line(
        "Czkawka CLI default: Gradient 16x16, Nearest, High (d <= 5)",
        neardup::score(&czk16, &truth),
    );
    println!(
        "  (baseline hashing took {:.1}s)",
        t.elapsed().as_secs_f64()
    );

    println!("\nsweep of the thresholds (hashes only):");
    for near in [24, 31, 40] {
        for crop in [15, 20, 24, 28, 31, 36, 40, 44, 48] {
            let p = Params {
                near_max_distance: near,
                crop_hash_max_distance: crop,
                ..Params::default()
            };
            line(
                &format!("  near d <= {near}, crop d <= {crop}"),
                neardup::score(&neardup::shoebox_pairs(&scanned, &p), &truth),
            );
        }
    }

    if embed {
        use shoebox_engine::embed::EmbedOptions;
        use shoebox_engine::model::{DeviceChoice, ResolveOptions};
        let model_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/models/clip-tiny");
        let opts = ResolveOptions {
            offline: true,
            ..ResolveOptions::from_env()
        };
        let model = scanned
            .lib
            .load_model(model_dir.to_str(), DeviceChoice::Cpu, &opts)
            .expect("tiny model");
        scanned
            .lib
            .embed(&model, &EmbedOptions::default(), &|_| {})
            .expect("embed");
        let with = neardup::shoebox_pairs(&scanned, &params);
        line(
            "Shoebox + crop confirmation, TINY RANDOM model (not meaningful)",
            neardup::score(&with, &truth),
        );
    }
}
