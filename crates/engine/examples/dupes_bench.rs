//! Grouping benchmark: 100k synthetic 256-bit perceptual hashes with planted
//! near-duplicates, grouped with the multi-index (what `shoebox dupes`
//! uses) and with the all-pairs baseline, in the same run.
//!
//! ```text
//! cargo run --release -p shoebox-engine --example dupes_bench -- [N] [CROP_RADIUS]
//! ```
//!
//! CROP_RADIUS (default: `Params::default().crop_hash_max_distance`)
//! shows how the crop search scales with its radius.
//!
//! The hashes (seeded, reproducible):
//! - 70% "scenes": families of 10 photos whose hashes sit about 64 bits
//!   from a family centre (similar subjects share structure, which is what
//!   makes real hash collections harder than uniform noise);
//! - 10% unrelated uniform hashes;
//! - 20% planted near-duplicates: a copy of an earlier hash with 1 to
//!   `near_max_distance` random bits flipped (re-saves, resizes), some of
//!   them copies of copies.
//!
//! Both methods run on the same number of threads (all cores) and must find
//! the same pairs (checked); the figures are the wall time of the pair
//! search + union-find, the index's memory, and the process's peak RSS.

use std::time::Instant;

use shoebox_engine::dupes::hashindex::{all_pairs_within, Hash256, MultiIndex};
use shoebox_engine::dupes::unionfind::UnionFind;
use shoebox_engine::dupes::Params;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn hash(&mut self) -> Hash256 {
        [self.next(), self.next(), self.next(), self.next()]
    }
    fn flip(&mut self, h: &Hash256, bits: u32) -> Hash256 {
        let mut out = *h;
        let mut flipped = std::collections::HashSet::new();
        while flipped.len() < bits as usize {
            let b = self.below(256) as usize;
            if flipped.insert(b) {
                out[b / 64] ^= 1 << (b % 64);
            }
        }
        out
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn groups_from(n: usize, pairs: &[(u32, u32, u32)]) -> Vec<Vec<usize>> {
    let mut uf = UnionFind::new(n);
    for &(a, b, _) in pairs {
        uf.union(a as usize, b as usize);
    }
    uf.groups()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let radius = Params::default().near_max_distance;
    let mut rng = Rng(20261123);
    let mut hashes: Vec<Hash256> = Vec::with_capacity(n);
    let scenes = n * 7 / 10;
    let mut centre = rng.hash();
    for i in 0..scenes {
        if i % 10 == 0 {
            centre = rng.hash();
        }
        let bits = 56 + rng.below(17) as u32;
        let h = rng.flip(&centre, bits);
        hashes.push(h);
    }
    for _ in 0..n / 10 {
        let h = rng.hash();
        hashes.push(h);
    }
    let mut planted = 0;
    while hashes.len() < n {
        let src = hashes[rng.below(hashes.len() as u64) as usize];
        let bits = 1 + rng.below(radius as u64) as u32;
        let h = rng.flip(&src, bits);
        hashes.push(h);
        planted += 1;
    }
    // Shuffle so planted copies are not next to their sources.
    for i in (1..hashes.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        hashes.swap(i, j);
    }
    println!(
        "{n} hashes (256-bit): {} in scene families, {} uniform, {planted} planted near-duplicates; radius {radius}",
        scenes,
        n / 10
    );
    let rss_start = peak_rss_kib();

    let t = Instant::now();
    let index = MultiIndex::build(&hashes);
    let build = t.elapsed().as_secs_f64();
    let mut mih_pairs = index.pairs_within(radius);
    let groups = groups_from(n, &mih_pairs);
    let mih = t.elapsed().as_secs_f64();
    let index_mib = index.memory_bytes() as f64 / (1 << 20) as f64;
    let rss_mih = peak_rss_kib();
    drop(index);

    let t = Instant::now();
    let mut all_pairs = all_pairs_within(&hashes, radius);
    let all_groups = groups_from(n, &all_pairs);
    let all = t.elapsed().as_secs_f64();

    mih_pairs.sort_unstable();
    all_pairs.sort_unstable();
    assert_eq!(
        mih_pairs, all_pairs,
        "the multi-index must find exactly the all-pairs answer"
    );
    assert_eq!(groups, all_groups);

    println!(
        "pairs within {radius}: {}  groups: {}  (identical in both methods)",
        mih_pairs.len(),
        groups.len()
    );
    println!(
        "multi-index: {mih:.3} s (build {build:.3} s), index {index_mib:.1} MiB (+ {:.1} MiB of hashes)",
        (n * 32) as f64 / (1 << 20) as f64
    );
    println!(
        "all pairs:   {all:.3} s ({} comparisons)",
        n as u64 * (n as u64 - 1) / 2
    );
    println!("speed-up:    {:.1}x", all / mih);
    if let (Some(a), Some(b)) = (rss_start, rss_mih) {
        println!(
            "peak RSS: {:.1} MiB before the index, {:.1} MiB after the multi-index run",
            a as f64 / 1024.0,
            b as f64 / 1024.0
        );
    }
    regions(&mut rng, &hashes);
}

/// Crop matching: every photo's hash against the 22 region hashes of every
/// photo. Region hashes of a photo are drawn around their own centre (a
/// region is a different picture from the whole), and 5% of the photos are
/// planted crops: their hash is a region hash of another photo with 1 to
/// `crop_hash_max_distance` bits flipped. The all-pairs baseline would take
/// minutes here, so it runs on the first 2,000 queries and is scaled up.
fn regions(rng: &mut Rng, hashes: &[Hash256]) {
    let n = hashes.len();
    let radius = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(Params::default().crop_hash_max_distance);
    let per_photo = shoebox_engine::ingest::phash::crop_regions().len();
    let mut regions: Vec<Hash256> = Vec::with_capacity(n * per_photo);
    for _ in 0..n {
        let centre = rng.hash();
        for _ in 0..per_photo {
            let bits = 40 + rng.below(30) as u32;
            regions.push(rng.flip(&centre, bits));
        }
    }
    let mut queries = hashes.to_vec();
    for q in queries.iter_mut().step_by(20) {
        let src = regions[rng.below(regions.len() as u64) as usize];
        let bits = 1 + rng.below(radius as u64) as u32;
        *q = rng.flip(&src, bits);
    }
    println!(
        "\ncrops: {n} photo hashes against {} region hashes ({per_photo} per photo), radius {radius}, {} planted",
        regions.len(),
        n / 20
    );
    // As in `dupes::groups`: the photo hashes are indexed, the region
    // hashes are the queries.
    let t = Instant::now();
    let index = MultiIndex::build(&queries);
    let build = t.elapsed().as_secs_f64();
    let matches: Vec<(u32, u32, u32)> = index
        .matches(&regions, radius)
        .into_iter()
        .map(|(r, q, d)| (q, r, d))
        .collect();
    let mih = t.elapsed().as_secs_f64();
    let index_mib = index.memory_bytes() as f64 / (1 << 20) as f64;
    let sample = 2_000.min(n);
    let t = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let regions_ref = &regions;
    let mut brute: Vec<(u32, u32, u32)> = std::thread::scope(|scope| {
        let handles: Vec<_> = queries[..sample]
            .chunks(sample.div_ceil(threads))
            .enumerate()
            .map(|(k, part)| {
                let first = k * sample.div_ceil(threads);
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for (qi, q) in part.iter().enumerate() {
                        for (ri, r) in regions_ref.iter().enumerate() {
                            let d = shoebox_engine::dupes::hashindex::distance(q, r);
                            if d <= radius {
                                out.push(((first + qi) as u32, ri as u32, d));
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let brute_secs = t.elapsed().as_secs_f64();
    let mut mine: Vec<(u32, u32, u32)> = matches
        .iter()
        .copied()
        .filter(|m| (m.0 as usize) < sample)
        .collect();
    mine.sort_unstable();
    brute.sort_unstable();
    assert_eq!(
        mine, brute,
        "the multi-index must find exactly the brute-force matches"
    );
    let scaled = brute_secs * n as f64 / sample as f64;
    println!(
        "matches: {} (identical to brute force on the first {sample} queries)",
        matches.len()
    );
    println!("multi-index: {mih:.3} s (build {build:.3} s), index {index_mib:.1} MiB");
    println!(
        "all pairs:   {brute_secs:.3} s for {sample} queries, {scaled:.1} s scaled to {n} (not run in full)"
    );
    println!("speed-up:    {:.1}x", scaled / mih);
    if let Some(peak) = peak_rss_kib() {
        println!(
            "peak RSS after the crop run: {:.1} MiB",
            peak as f64 / 1024.0
        );
    }
}
