//! Camera-like 12 MP test photos for the benchmarks, made from the cc0
//! fixtures: a random 4:3 crop, upscaled, with per-photo exposure, white
//! balance and grain, so every file decodes like a distinct camera JPEG.
//! Deterministic: the same seeds give the same bytes on every run.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use image::imageops::FilterType;
use image::RgbImage;

pub const WIDTH: u32 = 4000;
pub const HEIGHT: u32 = 3000;
pub const QUALITY: u8 = 90;

/// The cc0 fixtures, as RGB, with their names.
pub fn sources() -> Vec<(String, RgbImage)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cc0");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, image::open(&p).expect("fixture decodes").to_rgb8())
        })
        .collect()
}

/// xorshift64*: deterministic, fast, good enough for grain and jitter.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// How one benchmark varies its photos (each keeps its historic seeds, so
/// its files stay byte-identical across versions).
pub struct Look {
    pub crop_seed: u64,
    pub grain_seed: u64,
    /// Zoom into the source by up to this fraction.
    pub max_zoom: f32,
}

/// Photo `index` as a JPEG.
pub fn photo_jpeg(index: usize, sources: &[(String, RgbImage)], look: &Look) -> Vec<u8> {
    let mut rng = Rng::new(look.crop_seed);
    let (_, src) = &sources[index % sources.len()];
    let (sw, sh) = src.dimensions();
    // The largest 4:3 rectangle, zoomed in a little, at a random offset.
    let (mut cw, mut ch) = if sw * 3 >= sh * 4 {
        (sh * 4 / 3, sh)
    } else {
        (sw, sw * 3 / 4)
    };
    let zoom = 1.0 - look.max_zoom * rng.unit();
    cw = ((cw as f32 * zoom) as u32).max(8);
    ch = ((ch as f32 * zoom) as u32).max(6);
    let x = (rng.unit() * (sw - cw) as f32) as u32;
    let y = (rng.unit() * (sh - ch) as f32) as u32;
    let crop = image::imageops::crop_imm(src, x, y, cw, ch).to_image();
    let mut img = image::imageops::resize(&crop, WIDTH, HEIGHT, FilterType::Lanczos3);

    // Per-photo exposure and white balance, then grain (sum of two uniforms,
    // up to +-14 levels, sigma about 6) so the DCT blocks carry camera-like
    // detail: files come out at 3.5-4 MB, like a 12 MP camera JPEG at q90.
    let gain = 0.85 + 0.3 * rng.unit();
    let tint = [
        gain * (0.92 + 0.16 * rng.unit()),
        gain,
        gain * (0.92 + 0.16 * rng.unit()),
    ];
    let mut grain = Rng::new(look.grain_seed);
    for px in img.pixels_mut() {
        let r = grain.next();
        for (c, (channel, gain)) in px.0.iter_mut().zip(tint).enumerate() {
            let a = ((r >> (c * 16)) & 0xFF) as f32;
            let b = ((r >> (c * 16 + 8)) & 0xFF) as f32;
            let noise = (a + b - 255.0) / 255.0 * 14.0;
            *channel = (*channel as f32 * gain + noise).round().clamp(0.0, 255.0) as u8;
        }
    }
    let mut jpeg = Vec::with_capacity(6 << 20);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
        .encode_image(&img)
        .expect("JPEG encode");
    jpeg
}

/// Writes `n` photos into `dir` on `threads` threads; `make(i, sources)`
/// makes photo `i`. Returns the files, sorted.
pub fn generate(
    dir: &Path,
    n: usize,
    threads: usize,
    make: impl Fn(usize, &[(String, RgbImage)]) -> Vec<u8> + Sync,
) -> Vec<PathBuf> {
    let sources = sources();
    parallel(n, threads, |i| {
        let name = format!("IMG_{:04}_{}.jpg", i + 1, sources[i % sources.len()].0);
        std::fs::write(dir.join(name), make(i, &sources)).expect("write photo");
    });
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), n);
    files
}

/// Runs `job(i)` for every i in 0..n on `threads` threads.
pub fn parallel(n: usize, threads: usize, job: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                job(i);
            });
        }
    });
}
