#!/usr/bin/env python3
"""PyTorch reference CLIP pipeline on a folder of photos, for `embed_bench` (Rust).

The reference path as it is commonly written, run serially per batch:

    decode      PIL Image.open(path).convert("RGB")   (full-size decode, no draft mode)
    preprocess  CLIPProcessor (CLIPImageProcessorPil: bicubic resize, crop, normalise)
    model       CLIPModel.get_image_features under torch.no_grad()

at each batch size (images/s and the decode / preprocess / model split), then the model
alone on pre-made pixel_values at the same batch sizes, then text-query latency
(tokenizer + get_text_features, median of --text-repeats runs).

    tools/reference/.venv/bin/python tools/reference/pipeline_bench.py \\
        --model target/reference/clip-vit-b-32/model --images DIR --threads 2

Prints one JSON object (also written to --json-out). --embeddings-out writes the
L2-normalised end-to-end embedding of every file ({"file name": [512 floats]}), so
the caller can compare it with its own.

The processor is CLIPImageProcessorPil (forced, as in generate.py): transformers 5
picks it for CLIPProcessor whenever torchvision is absent, which is the case here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import transformers
from PIL import Image

from bench_common import cpu_name, image_files, load_clip

IMAGE_EXTS = {".jpg", ".jpeg", ".png"}
SHORT_QUERY = "kids on a beach at sunset"
# Longer than 77 tokens: truncated to exactly 77 (BOS + 75 + EOS).
LONG_QUERY = (
    "a wide photo of three kids in bright swimsuits building a large sandcastle with towers "
    "and a moat on a quiet sandy beach at sunset, with orange and pink clouds over the calm "
    "sea, a red and white lighthouse on the rocks in the distance, seagulls flying low over "
    "the waves, a striped umbrella, a blue cooler and a golden retriever lying on a towel "
    "next to their parents, who are reading books in folding chairs near the dunes"
)


def features(out) -> torch.Tensor:
    # transformers 5 returns an output object (pooler_output = projected features);
    # 4.x returned the tensor itself.
    return out if isinstance(out, torch.Tensor) else out.pooler_output


def chunks(items: list, size: int) -> list[list]:
    return [items[i: i + size] for i in range(0, len(items), size)]


def bench_pipeline(model, processor, files: list[Path], batch_size: int, repeats: int):
    """Best of `repeats` passes over all files; returns (result, embeddings of the best pass)."""
    batches = chunks(files, batch_size)

    def run(batch):
        t0 = time.perf_counter()
        images = [Image.open(f).convert("RGB") for f in batch]
        t1 = time.perf_counter()
        pv = processor(images=images, return_tensors="pt")["pixel_values"]
        t2 = time.perf_counter()
        with torch.no_grad():
            emb = features(model.get_image_features(pixel_values=pv))
        t3 = time.perf_counter()
        return (t1 - t0, t2 - t1, t3 - t2), emb

    run(batches[0])  # warm-up: allocator, threads, first-call paths
    best = None
    for _ in range(repeats):
        dec = pre = mod = 0.0
        embs = []
        start = time.perf_counter()
        for b in batches:
            (d, p, m), e = run(b)
            dec, pre, mod = dec + d, pre + p, mod + m
            embs.append(e)
        wall = time.perf_counter() - start
        if best is None or wall < best[0]:
            best = (wall, dec, pre, mod, torch.cat(embs))
    wall, dec, pre, mod, emb = best
    n = len(files)
    return {
        "batch_size": batch_size,
        "images": n,
        "images_per_s": n / wall,
        "seconds": {"decode": dec, "preprocess": pre, "model": mod, "wall": wall},
        "ms_per_image": {"decode": 1e3 * dec / n, "preprocess": 1e3 * pre / n,
                         "model": 1e3 * mod / n, "wall": 1e3 * wall / n},
    }, emb


def bench_model_only(model, pixel_values: torch.Tensor, batch_size: int, repeats: int) -> dict:
    batches = list(torch.split(pixel_values, batch_size))
    with torch.no_grad():
        model.get_image_features(pixel_values=batches[0])  # warm-up
        best = None
        for _ in range(repeats):
            start = time.perf_counter()
            for b in batches:
                features(model.get_image_features(pixel_values=b))
            wall = time.perf_counter() - start
            best = wall if best is None else min(best, wall)
    n = pixel_values.shape[0]
    return {"batch_size": batch_size, "images": n, "images_per_s": n / best, "seconds": best,
            "ms_per_image": 1e3 * best / n}


def bench_text(model, tokenizer, text: str, repeats: int, text_kwargs: dict) -> dict:
    def once():
        t0 = time.perf_counter()
        ids = tokenizer([text], return_tensors="pt", **text_kwargs)["input_ids"]
        t1 = time.perf_counter()
        with torch.no_grad():
            features(model.get_text_features(input_ids=ids))
        t2 = time.perf_counter()
        return ids.shape[1], t1 - t0, t2 - t1

    for _ in range(2):
        once()
    runs = [once() for _ in range(repeats)]
    total = [t + m for _, t, m in runs]
    return {
        "text": text,
        "tokens": runs[0][0],
        "median_ms": 1e3 * statistics.median(total),
        "min_ms": 1e3 * min(total),
        "median_tokenize_ms": 1e3 * statistics.median(t for _, t, _ in runs),
        "median_model_ms": 1e3 * statistics.median(m for _, _, m in runs),
        "repeats": repeats,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="HF-layout model dir")
    ap.add_argument("--images", type=Path, required=True, help="folder of photos (all are used, sorted by name)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--batch-sizes", default="1,8,32")
    ap.add_argument("--repeats", type=int, default=2, help="passes per batch size; the fastest counts")
    ap.add_argument("--text-repeats", type=int, default=10)
    ap.add_argument("--short-query", default=SHORT_QUERY)
    ap.add_argument("--long-query", default=LONG_QUERY, help="more than 77 tokens: truncated to 77")
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"], help="attention implementation")
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument("--embeddings-out", type=Path, default=None)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    files = image_files(args.images, IMAGE_EXTS)
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]

    t0 = time.perf_counter()
    model, processor = load_clip(args.model, args.attn)
    load_s = time.perf_counter() - t0

    pipeline = []
    embeddings = None
    for bs in batch_sizes:
        result, emb = bench_pipeline(model, processor, files, bs, args.repeats)
        pipeline.append(result)
        if embeddings is None:
            embeddings = emb
        print(f"pytorch pipeline batch {bs}: {result['images_per_s']:.2f} images/s", file=sys.stderr)

    pixel_values = processor(images=[Image.open(f).convert("RGB") for f in files],
                             return_tensors="pt")["pixel_values"]
    model_only = []
    for bs in batch_sizes:
        r = bench_model_only(model, pixel_values, bs, args.repeats)
        model_only.append(r)
        print(f"pytorch model only batch {bs}: {r['images_per_s']:.2f} images/s", file=sys.stderr)

    text = {
        "short": bench_text(model, processor.tokenizer, args.short_query, args.text_repeats, processor.text_kwargs),
        "long": bench_text(model, processor.tokenizer, args.long_query, args.text_repeats, processor.text_kwargs),
    }

    result = {
        "engine": "pytorch-reference",
        "model_dir": str(args.model),
        "image_dir": str(args.images),
        "images": len(files),
        "threads": torch.get_num_threads(),
        "attn_implementation": args.attn,
        "image_processor": type(processor.image_processor).__name__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "pillow": Image.__version__,
        "cpu": cpu_name(),
        "load_seconds": load_s,
        "repeats": args.repeats,
        "pipeline": pipeline,
        "model_only": model_only,
        "text": text,
    }
    out = json.dumps(result, indent=1)
    print(out)
    if args.json_out:
        args.json_out.write_text(out + "\n")
    if args.embeddings_out:
        normed = torch.nn.functional.normalize(embeddings, dim=-1)
        args.embeddings_out.write_text(json.dumps(
            {f.name: [float(v) for v in row] for f, row in zip(files, normed.tolist())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
