//! Helpers shared by the parity tests of every family.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// `|a - b| / |b|` (L2). Where the inputs are identical (token ids, the
/// reference pixel tensors) only f32 arithmetic noise separates the two sides
/// (measured about 1e-6 on the tiny fixtures), while a wrong activation
/// (gelu vs quick_gelu) already gives 4e-3..1e-2 on the tiny models: well
/// inside the cosine bounds (1-cos below 1e-4), so this is the check that
/// catches it.
pub fn rel_l2(a: &[f32], b: &[f32]) -> f64 {
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum();
    let n: f64 = b.iter().map(|y| (*y as f64).powi(2)).sum();
    (d / n).sqrt()
}

/// Bound for `rel_l2` on identical inputs (see `rel_l2`).
pub const MAX_REL_L2: f64 = 1e-5;

pub fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

/// Token ids of a JSON array.
pub fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

/// Asserts `rel_l2(got, want) <= MAX_REL_L2` and returns it.
pub fn check_rel_l2(what: &str, got: &[f32], want: &[f32]) -> f64 {
    let r = rel_l2(got, want);
    assert!(r <= MAX_REL_L2, "{what}: relative L2 error {r:.3e}");
    r
}
