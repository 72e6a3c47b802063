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
    """The model (float32, eval) and its PIL-backed processor, as the parity generators
    use them: CLIP (generate.py) or SigLIP (generate_siglip.py), by config.json. The
    processor's `text_kwargs` are the family's tokenizer arguments (SigLIP: always padded
    to 64 on the right)."""
    import json

    model_type = json.loads((Path(model_dir) / "config.json").read_text()).get("model_type", "clip")
    if model_type == "siglip":
        from transformers import SiglipModel, SiglipProcessor
        from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil
        from transformers.models.siglip2.tokenization_siglip2 import Siglip2Tokenizer

        model = SiglipModel.from_pretrained(model_dir, attn_implementation=attn, dtype=torch.float32).eval()
        tokenizer = Siglip2Tokenizer.from_pretrained(model_dir)
        tokenizer.padding_side = "right"
        processor = SiglipProcessor(image_processor=SiglipImageProcessorPil.from_pretrained(model_dir),
                                    tokenizer=tokenizer)
        processor.text_kwargs = dict(padding="max_length", truncation=True, max_length=64)
        return model, processor
    model = CLIPModel.from_pretrained(model_dir, attn_implementation=attn, dtype=torch.float32).eval()
    processor = CLIPProcessor(image_processor=CLIPImageProcessorPil.from_pretrained(model_dir),
                              tokenizer=CLIPTokenizer.from_pretrained(model_dir))
    processor.text_kwargs = dict(truncation=True, max_length=77)
    return model, processor
