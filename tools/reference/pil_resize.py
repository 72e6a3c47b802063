#!/usr/bin/env python3
"""Pure-numpy restatement of Pillow's 8-bit BICUBIC `Image.resize` (libImaging/Resample.c).

CLIPImageProcessorPil resizes with `PIL.Image.resize(size, resample=BICUBIC)` on a uint8
RGB image. This file spells out exactly what that computes so that the Rust side can
port it bit for bit; `python pil_resize.py` checks it against Pillow on the parity images.

Algorithm (per axis, separable):
  scale        = in_size / out_size
  filterscale  = max(scale, 1)            # antialias: kernel widened when downscaling
  support      = 2.0 * filterscale        # bicubic support is 2
  for each output index i:
      center = (i + 0.5) * scale
      xmin   = max(int(center - support + 0.5), 0)          # int() truncates toward zero
      xmax   = min(int(center + support + 0.5), in_size)
      w[x]   = cubic((x - center + 0.5) / filterscale) for x in [xmin, xmax)
               cubic(t) with a = -0.5:  |t|<1: (a+2)|t|^3 - (a+3)|t|^2 + 1
                                        |t|<2: a(|t|^3 - 5|t|^2 + 8|t| - 4);  else 0
      w     /= sum(w)                                         (in double)
      k[x]   = int(w * 2^22 + 0.5) if w >= 0 else int(w * 2^22 - 0.5)   # PRECISION_BITS = 22
      out    = clamp((2^21 + sum(k[x] * in[x])) >> 22, 0, 255)          # arithmetic shift
  Horizontal pass first (only if the width changes), result stored as uint8, then the
  vertical pass (only if the height changes). Channels are independent.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PRECISION_BITS = 32 - 8 - 2


def _cubic(x: np.ndarray, a: float = -0.5) -> np.ndarray:
    x = np.abs(x)
    return np.where(
        x < 1.0,
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1,
        np.where(x < 2.0, (((x - 5) * x + 8) * x - 4) * a, 0.0),
    )


def _coeffs(in_size: int, out_size: int):
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    bounds, kernels = [], []
    for i in range(out_size):
        center = (i + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        x = np.arange(xmin, xmax, dtype=np.float64)
        w = _cubic((x - center + 0.5) * (1.0 / filterscale))
        ww = w.sum()
        if ww != 0.0:
            w = w / ww
        k = np.where(w < 0, (w * (1 << PRECISION_BITS) - 0.5), (w * (1 << PRECISION_BITS) + 0.5))
        kernels.append(np.trunc(k).astype(np.int64))
        bounds.append((xmin, xmax))
    return bounds, kernels


def _pass(img: np.ndarray, out_size: int, axis: int) -> np.ndarray:
    """Resample uint8 array `img` (H, W, C) along axis 0 (vertical) or 1 (horizontal)."""
    src = np.moveaxis(img, axis, 0).astype(np.int64)
    bounds, kernels = _coeffs(src.shape[0], out_size)
    out = np.empty((out_size,) + src.shape[1:], dtype=np.uint8)
    for i, ((lo, hi), k) in enumerate(zip(bounds, kernels)):
        acc = (1 << (PRECISION_BITS - 1)) + np.tensordot(k, src[lo:hi], axes=(0, 0))
        out[i] = np.clip(acc >> PRECISION_BITS, 0, 255)
    return np.moveaxis(out, 0, axis)


def resize_bicubic(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 (H, W, C) -> uint8 (height, width, C), identical to PIL resize(BICUBIC)."""
    out = img
    if width != img.shape[1]:
        out = _pass(out, width, axis=1)
    if height != img.shape[0]:
        out = _pass(out, height, axis=0)
    return out


def main() -> int:
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import generate

    bad = 0
    for path in sorted(generate.IMAGES_DIR.iterdir()):
        with Image.open(path) as im:
            rgb = generate.to_rgb_rule(im)
        h, w = rgb.shape[:2]
        nh, nw = generate.resized_hw(h, w)
        ref = np.asarray(Image.fromarray(rgb, "RGB").resize((nw, nh), resample=Image.Resampling.BICUBIC))
        got = resize_bicubic(rgb, nw, nh)
        same = np.array_equal(ref, got)
        bad += not same
        print(f"{'same' if same else 'DIFFERS'} {path.name} {w}x{h} -> {nw}x{nh}"
              + ("" if same else f" max diff {np.abs(ref.astype(int) - got).max()}"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
