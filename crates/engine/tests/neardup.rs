//! Near-duplicate quality on `../shared/data/neardup-dev` (skipped when the
//! data set is absent): the pairs Shoebox's exact and near tiers put
//! together, against `groups.csv`. The goal of the duplicates issue is pair
//! precision >= 0.98 and recall >= 0.95 with the default thresholds; the
//! figures (and Czkawka's default as the baseline) are printed by
//! `cargo run --release -p shoebox-engine --example neardup_eval`.

#[path = "../examples/neardup/mod.rs"]
mod neardup;

use shoebox_engine::dupes::Params;

#[test]
fn neardup_dev_precision_and_recall_meet_the_goal() {
    let Some(dir) = neardup::data_dir() else {
        eprintln!("skipped: neardup-dev is not available (../shared/data/neardup-dev)");
        return;
    };
    let rows = neardup::truth(&dir);
    let truth = neardup::true_pairs(&rows);
    assert_eq!(rows.len(), 350);
    let scanned = neardup::scan(&dir, &rows);
    let score = neardup::score(
        &neardup::shoebox_pairs(&scanned, &Params::default()),
        &truth,
    );
    eprintln!("neardup-dev: {score:?}");
    assert!(score.precision >= 0.98, "{score:?}");
    assert!(score.recall >= 0.95, "{score:?}");
    // The suggestion never keeps a smaller, recompressed or cropped copy:
    // the original, or the full-resolution brightness/contrast edit that
    // ties with it by every rule.
    let (original, tie, total) = neardup::keeper_is_original(&scanned, &rows, &Params::default());
    eprintln!("keeper: original {original}, tie {tie}, of {total}");
    assert!(total >= 55, "{total}");
    assert_eq!(original + tie, total);
}
