//! Deterministic randomness (SplitMix64) and the synthetic vectors, so
//! every run builds the same data.

use super::*;

pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD134_2543_DE82_EF95));
        r.next_u64();
        r
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Adds `sigma` times standard Gaussian noise to every element.
    pub(crate) fn add_gaussian(&mut self, out: &mut [f32], sigma: f32) {
        for pair in out.chunks_mut(2) {
            let u1 = 1.0 - self.unit();
            let u2 = self.unit();
            let r = (-2.0 * u1.ln()).sqrt();
            let t = std::f64::consts::TAU * u2;
            pair[0] += sigma * (r * t.cos()) as f32;
            if pair.len() > 1 {
                pair[1] += sigma * (r * t.sin()) as f32;
            }
        }
    }
}

pub(crate) fn normalize(v: &mut [f32]) {
    let n = dot(v, v).sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= n);
}

/// Dot product in 16 independent lanes, which LLVM vectorises (a plain
/// `zip().sum()` is sequential because float addition is not associative).
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

pub(crate) fn centroids() -> Vec<f32> {
    let mut c = vec![0f32; CLUSTERS * DIM];
    let mut rng = Rng::new(SEED, u64::MAX);
    for v in c.chunks_exact_mut(DIM) {
        rng.add_gaussian(v, 1.0);
        normalize(v);
    }
    c
}

/// A noisy copy of a random centroid, normalised.
pub(crate) fn noisy(centroids: &[f32], rng: &mut Rng, noise: f32, out: &mut [f32]) {
    let k = rng.below(CLUSTERS);
    out.copy_from_slice(&centroids[k * DIM..(k + 1) * DIM]);
    rng.add_gaussian(out, noise / (DIM as f32).sqrt());
    normalize(out);
}

/// Photo `i`'s vector is a function of `i` alone, whatever the threads.
pub(crate) fn photo_vectors(n: usize, centroids: &[f32]) -> Vec<f32> {
    let mut data = vec![0f32; n * DIM];
    let threads = cores();
    let per = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (t, chunk) in data.chunks_mut(per * DIM).enumerate() {
            s.spawn(move || {
                for (j, v) in chunk.chunks_exact_mut(DIM).enumerate() {
                    let mut rng = Rng::new(SEED, (t * per + j) as u64);
                    noisy(centroids, &mut rng, PHOTO_NOISE, v);
                }
            });
        }
    });
    data
}

pub(crate) fn query_vectors(count: usize, centroids: &[f32]) -> Vec<Vec<f32>> {
    (0..count)
        .map(|j| {
            let mut rng = Rng::new(SEED ^ 0x0051_7E57, j as u64);
            let mut q = vec![0f32; DIM];
            noisy(centroids, &mut rng, QUERY_NOISE, &mut q);
            q
        })
        .collect()
}

pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |c| c.get())
}
