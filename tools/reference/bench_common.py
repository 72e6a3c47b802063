"""What the reference benchmarks share: the machine's name, the image list
and the PyTorch CLIP model with the processor the parity fixtures use."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import torch
from transformers import CLIPImageProcessorPil, CLIPModel, CLIPProcessor, CLIPTokenizer


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def image_files(folder: Path, exts: set[str]) -> list[Path]:
    """The images in `folder`, sorted; exits with a message when none."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in exts)
    if not files:
        print(f"no images in {folder}", file=sys.stderr)
        sys.exit(1)
    return files


def load_clip(model_dir, attn: str):
    """The model (float32, eval) and CLIPImageProcessorPil + tokenizer, as
    generate.py uses them."""
    model = CLIPModel.from_pretrained(model_dir, attn_implementation=attn, dtype=torch.float32).eval()
    processor = CLIPProcessor(image_processor=CLIPImageProcessorPil.from_pretrained(model_dir),
                              tokenizer=CLIPTokenizer.from_pretrained(model_dir))
    return model, processor
