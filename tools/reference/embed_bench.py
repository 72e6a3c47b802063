#!/usr/bin/env python3
"""Throughput of the PyTorch reference CLIP pipeline, for comparison with the Rust engine.

Image path, per batch: PIL decode (Image.open + load) -> CLIPProcessor (PIL backend:
convert RGB, bicubic resize, crop, normalise) -> CLIPModel.get_image_features.
Text path: tokenizer + get_text_features for a 5-word query and a 77-token query.

    tools/reference/.venv/bin/python tools/reference/embed_bench.py \\
        --model target/reference/clip-vit-b-32/model --images tests/fixtures/parity/images --threads 2

Prints one JSON object (also written to --json-out if given).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import transformers
from PIL import Image

from bench_common import cpu_name, image_files, load_clip

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
SHORT_QUERY = "a photo of a cat"  # 5 words -> 7 ids with BOS/EOS
LONG_QUERY = " ".join(["photo"] * 100)  # truncated to exactly 77 ids


def bench_images(model, processor, files: list[Path], batch_size: int, min_images: int, warmup: int) -> dict:
    n_total = max(min_images, len(files))
    n_total = ((n_total + batch_size - 1) // batch_size) * batch_size
    stream = list(itertools.islice(itertools.cycle(files), n_total))
    batches = [stream[i: i + batch_size] for i in range(0, n_total, batch_size)]

    def run(batch):
        t0 = time.perf_counter()
        images = []
        for f in batch:
            im = Image.open(f)
            im.load()
            images.append(im)
        t1 = time.perf_counter()
        pv = processor(images=images, return_tensors="pt")["pixel_values"]
        t2 = time.perf_counter()
        with torch.inference_mode():
            model.get_image_features(pixel_values=pv).pooler_output
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2

    for b in batches[:warmup]:
        run(b)
    dec = pre = mod = 0.0
    for b in batches:
        d, p, m = run(b)
        dec, pre, mod = dec + d, pre + p, mod + m
    total = dec + pre + mod
    return {
        "batch_size": batch_size,
        "images": n_total,
        "images_per_s": n_total / total,
        "model_only_images_per_s": n_total / mod,
        "seconds": {"decode": dec, "preprocess": pre, "model": mod, "total": total},
        "ms_per_image": {k: 1000 * v / n_total for k, v in
                         {"decode": dec, "preprocess": pre, "model": mod, "total": total}.items()},
    }


def bench_text(model, tokenizer, text: str, repeats: int, text_kwargs: dict) -> dict:
    def once():
        t0 = time.perf_counter()
        ids = tokenizer([text], return_tensors="pt", **text_kwargs)["input_ids"]
        t1 = time.perf_counter()
        with torch.inference_mode():
            model.get_text_features(input_ids=ids).pooler_output
        t2 = time.perf_counter()
        return ids.shape[1], t1 - t0, t2 - t1

    for _ in range(3):
        once()
    runs = [once() for _ in range(repeats)]
    tok = [r[1] for r in runs]
    mod = [r[2] for r in runs]
    return {
        "tokens": runs[0][0],
        "median_ms": 1000 * statistics.median(t + m for t, m in zip(tok, mod)),
        "median_tokenize_ms": 1000 * statistics.median(tok),
        "median_model_ms": 1000 * statistics.median(mod),
        "min_ms": 1000 * min(t + m for t, m in zip(tok, mod)),
        "repeats": repeats,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="HF-layout model dir (config.json, model.safetensors, ...)")
    ap.add_argument("--images", type=Path, required=True, help="folder of images")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--batch-sizes", default="1,8,32")
    ap.add_argument("--min-images", type=int, default=64, help="images timed per batch size (files are cycled)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed warm-up batches per batch size")
    ap.add_argument("--text-repeats", type=int, default=30)
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"], help="attention implementation")
    ap.add_argument("--json-out", type=Path, default=None)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    files = image_files(args.images, IMAGE_EXTS)

    model, processor = load_clip(args.model, args.attn)

    result = {
        "engine": "pytorch-reference",
        "model_dir": str(args.model),
        "image_dir": str(args.images),
        "distinct_images": len(files),
        "threads": torch.get_num_threads(),
        "attn_implementation": args.attn,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cpu": cpu_name(),
        "image": [bench_images(model, processor, files, int(bs), args.min_images, args.warmup)
                  for bs in args.batch_sizes.split(",")],
        "text": {
            "short_5_words": bench_text(model, processor.tokenizer, SHORT_QUERY, args.text_repeats, processor.text_kwargs),
            "long_77_tokens": bench_text(model, processor.tokenizer, LONG_QUERY, args.text_repeats, processor.text_kwargs),
        },
    }
    out = json.dumps(result, indent=1)
    print(out)
    if args.json_out:
        args.json_out.write_text(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
