#!/usr/bin/env python3
"""How far typical implementation bugs move the reference embeddings.

Loads a generated model dir + parity dir, applies one deliberate bug at a time to a copy
of the PyTorch model (or to the preprocessing) and prints the relative L2 change of the
embeddings (min and median over the parity inputs). A parity tolerance must be well
below the smallest of these numbers for the fixture to catch that bug.

    tools/reference/.venv/bin/python tools/reference/sensitivity.py \\
        [--model tests/fixtures/models/clip-tiny] [--parity tests/fixtures/parity/clip-tiny]
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import torch
from PIL import Image
from safetensors.torch import load_file
from transformers.activations import ACT2FN
from transformers.models.clip.modeling_clip import CLIPAttention, CLIPMLP

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate as g  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=g.CONFIGS["tiny"]["model_dir"])
    ap.add_argument("--parity", type=Path, default=g.CONFIGS["tiny"]["parity_dir"])
    args = ap.parse_args()

    model, proc = g.load_reference(args.model)
    px = load_file(str(args.parity / "pixels.safetensors"))
    names = sorted(px)
    pixels = torch.stack([px[n] for n in names])
    ids = [proc(text=[t], truncation=True, max_length=77)["input_ids"][0] for t in g.TEXTS]

    def run(m, pv=pixels):
        with torch.no_grad():
            im = m.get_image_features(pixel_values=pv).pooler_output
            tx = torch.stack([m.get_text_features(input_ids=torch.tensor([i])).pooler_output[0] for i in ids])
        return im, tx

    base_i, base_t = run(model)

    def rel(a, b):
        r = (a - b).norm(dim=-1) / b.norm(dim=-1)
        return f"min {r.min().item():.2e} median {r.median().item():.2e}"

    def each(m, cls, fn):
        for mod in m.modules():
            if isinstance(mod, cls):
                fn(mod)

    def roll_pos(m):
        for emb in (m.vision_model.embeddings, m.text_model.embeddings):
            emb.position_embedding.weight.data = torch.roll(emb.position_embedding.weight.data, 1, 0)

    bugs = {
        "attention scale 1 (no 1/sqrt(d))": lambda m: each(m, CLIPAttention, lambda a: setattr(a, "scale", 1.0)),
        "one head instead of N": lambda m: each(m, CLIPAttention, lambda a: setattr(a, "head_dim", a.embed_dim)),
        "exact gelu instead of quick_gelu": lambda m: each(m, CLIPMLP, lambda a: setattr(a, "activation_fn", ACT2FN["gelu"])),
        "vision pre_layrnorm skipped": lambda m: setattr(m.vision_model, "pre_layrnorm", torch.nn.Identity()),
        "position embeddings off by one": roll_pos,
        "layer_norm eps 1e-12 instead of 1e-5": lambda m: each(m, torch.nn.LayerNorm, lambda a: setattr(a, "eps", 1e-12)),
    }
    for name, fn in bugs.items():
        m = copy.deepcopy(model)
        fn(m)
        i, t = run(m)
        print(f"{name:40s} image {rel(i, base_i)} | text {rel(t, base_t)}")

    ip = copy.deepcopy(proc.image_processor)
    ip.resample = Image.Resampling.BILINEAR
    pb = torch.stack([ip(images=Image.open(g.IMAGES_DIR / n), return_tensors="pt")["pixel_values"][0] for n in names])
    print(f"{'bilinear instead of bicubic resize':40s} image {rel(run(model, pb)[0], base_i)}")
    print(f"{'BGR instead of RGB':40s} image {rel(run(model, torch.flip(pixels, [1]))[0], base_i)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
