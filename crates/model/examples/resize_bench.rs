//! Preprocessing cost for a large photo:
//! `cargo run --release -p shoebox-model --example resize_bench -- [W H]`.

use std::time::Instant;

use image::{DynamicImage, RgbImage};
use shoebox_model::preprocess::ImageProcessorConfig;

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (w, h) = (
        *args.first().unwrap_or(&4000),
        *args.get(1).unwrap_or(&3000),
    );
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7 + y) as u8, (x ^ y) as u8, (x * y % 251) as u8])
    }));
    let cfg = ImageProcessorConfig::default();
    let t = Instant::now();
    let n = 5;
    for _ in 0..n {
        std::hint::black_box(cfg.preprocess(&img));
    }
    println!(
        "preprocess {w}x{h}: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}
