//! Throughput of the encoders on a model directory:
//! `cargo run --release -p shoebox-model --example embed_bench -- DIR [IMAGE]`.

use std::time::Instant;

use shoebox_model::{resolve_model, select_device, DeviceChoice, EmbeddingModel, ResolveOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let spec = args.get(1).ok_or("usage: embed_bench MODEL_DIR [IMAGE]")?;
    let device_choice: DeviceChoice = std::env::var("SHOEBOX_DEVICE")
        .unwrap_or_else(|_| "auto".into())
        .parse()?;
    let (device, info) = select_device(device_choice);
    let dir = resolve_model(spec, &ResolveOptions::default())?;
    let t = Instant::now();
    let model = EmbeddingModel::load(&dir, &device)?;
    println!("device {} load {:.2?}", info.name, t.elapsed());

    if let Some(path) = args.get(2) {
        let img = image::open(path)?;
        let t = Instant::now();
        let n = 5;
        for _ in 0..n {
            std::hint::black_box(model.preprocess(&img));
        }
        println!(
            "preprocess {}x{}: {:.1} ms",
            img.width(),
            img.height(),
            t.elapsed().as_secs_f64() * 1e3 / n as f64
        );
    }

    let s = model.image_size();
    let px: Vec<f32> = (0..3 * s * s)
        .map(|i| ((i % 251) as f32 / 125.0) - 1.0)
        .collect();
    for batch in [1usize, 8, 32] {
        let input = vec![px.clone(); batch];
        model.embed_preprocessed(&input)?; // warm-up
        let reps = (64 / batch).max(2);
        let t = Instant::now();
        for _ in 0..reps {
            model.embed_preprocessed(&input)?;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "images batch {batch:2}: {:.1} img/s",
            (reps * batch) as f64 / secs
        );
    }

    let short = "a photo of a cat";
    let long = "a very long caption ".repeat(20);
    for (name, text) in [("short (7 tokens)", short), ("77 tokens", long.as_str())] {
        model.embed_texts(&[text])?;
        let t = Instant::now();
        let reps = 10;
        for _ in 0..reps {
            model.embed_texts(&[text])?;
        }
        println!(
            "text {name}: {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3 / reps as f64
        );
    }
    Ok(())
}
