#!/usr/bin/env python3
"""Generate CLIP parity fixtures from random-initialised transformers CLIP models.

No pretrained weights exist on our machines, so Rust (candle) parity is proven
against the PyTorch reference on models with fixed-seed random weights.

Usage (from the repository root, inside tools/reference/.venv):

    python tools/reference/generate.py                    # both committed configs (tiny, tiny-gelu)
    python tools/reference/generate.py --config tiny-gelu # one committed config
    python tools/reference/generate.py --config vit-b-32  # real ViT-B/32 shape, not committed
    python tools/reference/generate.py --config vit-b-32 --out /some/dir

See tools/reference/README.md for what the outputs contain.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import PIL
import torch
from PIL import Image, ImageDraw

import safetensors
import tokenizers
import transformers
from safetensors.torch import save_file
from transformers import (
    CLIPConfig,
    CLIPImageProcessorPil,
    CLIPModel,
    CLIPProcessor,
    CLIPTextConfig,
    CLIPTokenizer,
    CLIPVisionConfig,
)
from transformers.image_transforms import get_resize_output_image_size
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, ChannelDimension

REPO = Path(__file__).resolve().parents[2]
SHARED_TOKENIZER = REPO.parent / "shared" / "models" / "clip-tokenizer" / "tokenizer.json"
COMMITTED_TOKENIZER = REPO / "tests" / "fixtures" / "models" / "clip-tiny" / "tokenizer.json"
CC0 = REPO / "tests" / "fixtures" / "cc0"
IMAGES_DIR = REPO / "tests" / "fixtures" / "parity" / "images"

# Tokenizer ids (tokenizer.json): what every tokenised text starts/ends with and what
# CLIPProcessor pads with. The *config's* bos/eos/pad ids are a separate matter, see CONFIGS.
BOS_ID = 49406
EOS_ID = 49407  # also the tokenizer's pad id
MAX_LEN = 77

# Current transformers CLIPTextConfig ids (bos 49406, eos 49407, pad 49407): pooling takes
# the first position whose id == 49407.
MODERN_TEXT_IDS = dict(bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=EOS_ID)
# The ids found in the text_config of the real openai/clip-vit-* and laion/CLIP-ViT-*
# config.json files (written with the old transformers defaults, before PR #24773).
# eos_token_id == 2 makes transformers pool at argmax(input_ids) instead (the legacy
# branch in CLIPTextTransformer.forward); bos/pad are not used by the model forward at all.
LEGACY_TEXT_IDS = dict(bos_token_id=0, eos_token_id=2, pad_token_id=1)

# ---------------------------------------------------------------------------
# Configurations
# ---------------------------------------------------------------------------

TINY_TEXT = dict(
    vocab_size=49408,
    max_position_embeddings=77,
    hidden_size=32,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=2,
)
TINY_VISION = dict(
    image_size=224,
    patch_size=32,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
)

CONFIGS = {
    # Committed. Token embedding dominates the size (49408 x 32 x 4 B = 6.3 MB).
    # Text and vision widths/head counts differ and projection_dim (48) differs
    # from both, so every projection is non-square and mixing up the towers or
    # transposing a projection fails on shapes, not only on values.
    "tiny": dict(
        name="clip-tiny",
        seed=20240601,
        text=TINY_TEXT,
        vision=TINY_VISION,
        projection_dim=48,
        hidden_act="quick_gelu",
        text_ids=MODERN_TEXT_IDS,
        model_dir=REPO / "tests" / "fixtures" / "models" / "clip-tiny",
        parity_dir=REPO / "tests" / "fixtures" / "parity" / "clip-tiny",
    ),
    # Committed. Same shapes as "tiny", but configured like Shoebox's default model
    # (laion/CLIP-ViT-B-32-laion2B-s34B-b79K): exact erf "gelu" in both towers and the
    # legacy text ids of the real laion/openai config.json (eos_token_id 2 -> pooling at
    # argmax(input_ids)). Also carries "token_id_cases" (see legacy_id_cases()).
    "tiny-gelu": dict(
        name="clip-tiny-gelu",
        seed=20240603,
        text=TINY_TEXT,
        vision=TINY_VISION,
        projection_dim=48,
        hidden_act="gelu",
        text_ids=LEGACY_TEXT_IDS,
        model_dir=REPO / "tests" / "fixtures" / "models" / "clip-tiny-gelu",
        parity_dir=REPO / "tests" / "fixtures" / "parity" / "clip-tiny-gelu",
    ),
    # Not committed: the openai/clip-vit-base-patch32 architecture.
    "vit-b-32": dict(
        name="clip-vit-b-32",
        seed=20240602,
        text=dict(
            vocab_size=49408,
            max_position_embeddings=77,
            hidden_size=512,
            intermediate_size=2048,
            num_hidden_layers=12,
            num_attention_heads=8,
        ),
        vision=dict(
            image_size=224,
            patch_size=32,
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
        ),
        projection_dim=512,
        hidden_act="quick_gelu",
        text_ids=MODERN_TEXT_IDS,
        default_out=REPO / "target" / "reference" / "clip-vit-b-32",
    ),
}

# Configs whose outputs are committed (written to their model_dir / parity_dir).
COMMITTED = [key for key, spec in CONFIGS.items() if "model_dir" in spec]

# Standard OpenAI CLIP preprocessing (same values as openai/clip-vit-base-patch32).
PREPROCESSOR = dict(
    do_resize=True,
    size={"shortest_edge": 224},
    resample=3,  # PIL.Image.BICUBIC
    do_center_crop=True,
    crop_size={"height": 224, "width": 224},
    do_rescale=True,
    rescale_factor=1 / 255,
    do_normalize=True,
    image_mean=list(OPENAI_CLIP_MEAN),
    image_std=list(OPENAI_CLIP_STD),
    do_convert_rgb=True,
)

LONG_TEXT = (
    "This is a deliberately long caption that goes on and on about a holiday photo: "
    "a family of four standing on a windy beach at sunset, the children holding a red kite, "
    "the dog chasing seagulls near the waves, an old lighthouse on the cliff behind them, "
    "fishing boats returning to the harbour, clouds glowing orange and pink over the sea, "
    "and somebody's sandwich being stolen by a particularly bold gull while everyone laughs."
)

TEXTS = [
    "a photo of a cat",  # short 5-word query
    "A Photo Of A DOG on the BEACH",
    "  two   dogs\tplaying\n\nin the   snow  ",
    "café crème brûlée à Noël, smörgåsbord in Malmö",
    "東京の夜景",
    "北京烤鸭 and 김치",
    "sunset at the beach 🌅🏖️ with friends 👨‍👩‍👧",
    "",
    "Hello, world! (test) -- 'quotes' & \"double\"; a/b? #tag @user ...",
    "3 cats and 42 dogs in 2024, pi is 3.14159",
    "it's a dog's life, isn't it? we'll see",
    LONG_TEXT,
]

# ---------------------------------------------------------------------------
# Parity images (deterministic, derived from tests/fixtures/cc0)
# ---------------------------------------------------------------------------


def _png_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def _jpeg_bytes(im: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    # subsampling=2 -> 4:2:0, the common camera layout; baseline, no EXIF.
    im.save(buf, format="JPEG", quality=quality, subsampling=2, optimize=False, progressive=False)
    return buf.getvalue()


def build_parity_images() -> dict[str, tuple[bytes, str]]:
    """Return {file name: (encoded bytes, description)}."""
    astronaut = Image.open(CC0 / "astronaut.png").convert("RGB")  # 512x512 RGB
    camera = Image.open(CC0 / "camera.png")  # 512x512 L
    chelsea = Image.open(CC0 / "chelsea.png").convert("RGB")  # 451x300 RGB
    coffee = Image.open(CC0 / "coffee.png").convert("RGB")  # 600x400 RGB
    hubble = Image.open(CC0 / "hubble_deep_field.jpg").convert("RGB")  # 1000x872 RGB
    assert camera.mode == "L"

    out: dict[str, tuple[bytes, str]] = {}

    # Wide landscape (3:1): a band of the coffee picture, downsized.
    wide = coffee.crop((0, 100, 600, 300)).resize((480, 160), Image.Resampling.LANCZOS)
    out["wide_coffee_480x160.png"] = (_png_bytes(wide), "landscape 3:1 RGB PNG")

    # Tall portrait crop of the astronaut (no resampling).
    tall = astronaut.crop((150, 0, 350, 512))
    out["tall_astronaut_200x512.png"] = (_png_bytes(tall), "portrait RGB PNG, crop without resampling")

    # Grayscale ('L' mode) PNG, odd size.
    gray = camera.crop((40, 20, 341, 281))
    assert gray.mode == "L"
    out["gray_camera_301x261.png"] = (_png_bytes(gray), "grayscale L-mode PNG, odd size")

    # RGBA with varying alpha: horizontal ramp 0..255, a fully transparent disc and a
    # fully opaque band. Under the drop-alpha reference rule the cat stays visible; under
    # transformers 5's alpha_composite rule the transparent disc turns white, so the two
    # rules differ clearly.
    w, h = chelsea.size
    ramp = np.tile(np.linspace(0, 255, w).round().astype(np.uint8), (h, 1))
    alpha = Image.fromarray(ramp, "L")
    draw = ImageDraw.Draw(alpha)
    draw.ellipse((260, 60, 380, 180), fill=0)
    draw.rectangle((0, 230, w, 270), fill=255)
    rgba = chelsea.copy()
    rgba.putalpha(alpha)
    assert rgba.mode == "RGBA"
    out["rgba_chelsea_451x300.png"] = (_png_bytes(rgba), "RGBA PNG, varying alpha (0..255 ramp, transparent disc)")

    # Small image below 224 on both sides (upscaling path).
    small = coffee.resize((150, 100), Image.Resampling.LANCZOS)
    out["small_coffee_150x100.png"] = (_png_bytes(small), "small RGB PNG below 224 (upscaled by preprocessing)")

    # Odd size above 224, tall (333 wide x 517 high), crop without resampling.
    odd = hubble.crop((300, 200, 633, 717))
    assert odd.size == (333, 517)
    out["odd_hubble_333x517.png"] = (_png_bytes(odd), "odd-sized RGB PNG above 224, portrait")

    # Extreme panorama: shortest edge 60 -> 224, longest 1000 -> 3733.
    pano = astronaut.crop((0, 200, 512, 260)).resize((1000, 60), Image.Resampling.BICUBIC)
    out["panorama_astronaut_1000x60.png"] = (_png_bytes(pano), "extreme 50:3 panorama RGB PNG")

    # Palette PNG with a tRNS chunk (PIL mode 'P' with info['transparency']): the
    # reference drops the transparency (palette colours stay); transformers 5 would
    # composite onto white.
    pal = chelsea.resize((120, 80), Image.Resampling.LANCZOS).quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    counts = np.bincount(np.array(pal).ravel(), minlength=64)
    trans = np.full(64, 255, dtype=np.uint8)
    trans[int(np.argmax(counts))] = 0  # most frequent colour fully transparent
    trans[int(np.argsort(counts)[-2])] = 128  # second most frequent half transparent
    buf = io.BytesIO()
    pal.save(buf, format="PNG", transparency=bytes(trans.tolist()), optimize=False, compress_level=9)
    out["palette_trns_chelsea_120x80.png"] = (buf.getvalue(), "palette (P) PNG with tRNS transparency")

    # JPEG (4:2:0, quality 90) re-encode of the cat.
    out["jpeg_chelsea_451x300.jpg"] = (_jpeg_bytes(chelsea, 90), "baseline JPEG 4:2:0 q90, no EXIF")

    # Originals, byte for byte.
    for name, desc in [
        ("rocket.jpg", "cc0 original JPEG 640x427"),
        ("coins.png", "cc0 original grayscale PNG 384x303"),
        ("coffee.png", "cc0 original RGB PNG 600x400"),
    ]:
        out[name] = ((CC0 / name).read_bytes(), desc)
    return out


def write_parity_images() -> dict[str, str]:
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    images = build_parity_images()
    for name, (data, _) in images.items():
        path = IMAGES_DIR / name
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            print(f"wrote {path.relative_to(REPO)} ({len(data)} bytes)")
    # Check there is no EXIF orientation in anything we feed the parity test.
    for name in images:
        with Image.open(IMAGES_DIR / name) as im:
            assert 0x0112 not in im.getexif(), f"{name} has an EXIF orientation tag"
    return {name: desc for name, (_, desc) in images.items()}


# ---------------------------------------------------------------------------
# Model / processor
# ---------------------------------------------------------------------------


def make_config(spec: dict) -> CLIPConfig:
    text = CLIPTextConfig(
        **spec["text"],
        projection_dim=spec["projection_dim"],
        hidden_act=spec["hidden_act"],
        layer_norm_eps=1e-5,
        **spec["text_ids"],
    )
    vision = CLIPVisionConfig(
        **spec["vision"],
        projection_dim=spec["projection_dim"],
        hidden_act=spec["hidden_act"],
        layer_norm_eps=1e-5,
        num_channels=3,
    )
    return CLIPConfig(
        text_config=text.to_dict(),
        vision_config=vision.to_dict(),
        projection_dim=spec["projection_dim"],
        logit_scale_init_value=2.6592,
    )


def tokenizer_source() -> Path:
    """The shared OpenAI CLIP tokenizer.json, or the identical committed copy without shared/."""
    for path in (SHARED_TOKENIZER, COMMITTED_TOKENIZER):
        if path.exists():
            return path
    raise SystemExit(f"no tokenizer.json: neither {SHARED_TOKENIZER} nor {COMMITTED_TOKENIZER} exists")


def save_model_dir(spec: dict, model_dir: Path) -> None:
    tokenizer_json = tokenizer_source().read_bytes()
    config = make_config(spec)
    torch.manual_seed(spec["seed"])
    model = CLIPModel(config).eval()
    model_dir.mkdir(parents=True, exist_ok=True)
    for stale in ["model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
                  "preprocessor_config.json", "processor_config.json"]:
        (model_dir / stale).unlink(missing_ok=True)
    model.save_pretrained(model_dir, safe_serialization=True)
    (model_dir / "tokenizer.json").write_bytes(tokenizer_json)
    CLIPImageProcessorPil(**PREPROCESSOR).save_pretrained(model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        tok = CLIPTokenizer(tokenizer_file=str(model_dir / "tokenizer.json"), model_max_length=MAX_LEN)
        tok.save_pretrained(tmp)
        (model_dir / "tokenizer_config.json").write_bytes((Path(tmp) / "tokenizer_config.json").read_bytes())
    # generation_config.json is meaningless for CLIP; drop it if transformers wrote one.
    (model_dir / "generation_config.json").unlink(missing_ok=True)


def load_reference(model_dir: Path):
    """Load exactly what the Rust side loads: the saved files."""
    model = CLIPModel.from_pretrained(model_dir, attn_implementation="eager", dtype=torch.float32).eval()
    # Explicitly the PIL backend: AutoProcessor would pick the torchvision backend when
    # torchvision is installed (open_clip_torch pulls it in), which resizes differently.
    image_processor = CLIPImageProcessorPil.from_pretrained(model_dir)
    tokenizer = CLIPTokenizer.from_pretrained(model_dir)
    processor = CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
    assert processor.image_processor.backend == "pil"
    return model, processor


# ---------------------------------------------------------------------------
# Expected outputs
# ---------------------------------------------------------------------------


def f32list(t: torch.Tensor) -> list[float]:
    # Shortest decimal that round-trips the f32 value exactly.
    return [float(str(np.float32(x))) for x in t.detach().to(torch.float32).cpu().numpy().ravel()]


def f32(x: float) -> float:
    return float(str(np.float32(x)))


def cosine_stats(embs: list[torch.Tensor]) -> dict:
    e = torch.stack(embs)
    e = e / e.norm(dim=-1, keepdim=True)
    sim = e @ e.T
    iu = torch.triu_indices(len(embs), len(embs), 1)
    vals = sim[iu[0], iu[1]]
    return {"min": round(vals.min().item(), 4), "mean": round(vals.mean().item(), 4), "max": round(vals.max().item(), 4)}


def text_entries(model, processor, raw_tokenizer: tokenizers.Tokenizer):
    entries, embs, max_pad_diff = [], [], 0.0
    for text in TEXTS:
        ids = processor(text=[text], truncation=True, max_length=MAX_LEN)["input_ids"][0]
        raw = raw_tokenizer.encode(text).ids  # tokenizer.json alone, no truncation
        assert raw[0] == BOS_ID and raw[-1] == EOS_ID, raw
        if len(raw) <= MAX_LEN:
            assert ids == raw, (text, ids, raw)
        else:
            assert ids == raw[: MAX_LEN - 1] + [EOS_ID], (text, ids, raw)
        assert len(ids) <= MAX_LEN and ids[0] == BOS_ID and ids[-1] == EOS_ID

        with torch.no_grad():
            emb = model.get_text_features(input_ids=torch.tensor([ids])).pooler_output[0]
            padded = processor(text=[text], padding="max_length", truncation=True, max_length=MAX_LEN,
                               return_tensors="pt")
            assert padded["input_ids"].shape == (1, MAX_LEN)
            assert padded["input_ids"][0, : len(ids)].tolist() == ids
            assert (padded["input_ids"][0, len(ids):] == EOS_ID).all()
            assert padded["attention_mask"][0].tolist() == [1] * len(ids) + [0] * (MAX_LEN - len(ids))
            emb_pad = model.get_text_features(**padded).pooler_output[0]
        max_pad_diff = max(max_pad_diff, (emb - emb_pad).abs().max().item())
        embs.append(emb)
        entries.append({
            "text": text,
            "n_tokens_untruncated": len(raw),
            "input_ids": ids,
            "embedding": f32list(emb),
            "embedding_padded77": f32list(emb_pad),
        })
    return entries, embs, max_pad_diff


def legacy_id_cases(model, raw_tokenizer: tokenizers.Tokenizer) -> list[dict]:
    """Hand-made id rows where the legacy rule (argmax(input_ids), first on ties) picks a
    different position than "first id == eos_token_id" (2 here), "first 49407" or "last".

    Tokenised text always ends in 49407, the largest id, so for the texts above every rule
    agrees; only rows like these (no 49407, or tokens after it) tell them apart.
    """
    bpe = raw_tokenizer.encode("a photo of a dog", add_special_tokens=False).ids
    assert len(bpe) == 5 and EOS_ID not in bpe and BOS_ID not in bpe and 2 not in bpe, bpe
    a, photo, of, _, dog = bpe
    cases = [
        ("bos + words, eos dropped: argmax is the bos at 0", [BOS_ID] + bpe),
        ("no bos/eos, literal id 2 at 1, max (49406) at 3", [a, 2, photo, BOS_ID, of, dog]),
        ("eos in the middle, words after it", [BOS_ID, a, photo, EOS_ID, of, dog]),
        ("max (49406) twice: the first one (1) counts", [a, BOS_ID, photo, BOS_ID, dog]),
    ]
    out = []
    for what, ids in cases:
        pool = int(torch.tensor(ids).argmax())
        assert pool == ids.index(max(ids))
        with torch.no_grad():
            emb = model.get_text_features(input_ids=torch.tensor([ids])).pooler_output[0]
            # transformers really pooled there: the same row of the last hidden state.
            out_full = model.text_model(input_ids=torch.tensor([ids]))
            ref = model.text_projection(out_full.last_hidden_state[0, pool])
        assert torch.equal(emb, ref), what
        out.append({"what": what, "input_ids": ids, "pool_index": pool, "embedding": f32list(emb)})
    return out


def resized_hw(h: int, w: int) -> list[int]:
    dummy = np.zeros((1, h, w), dtype=np.uint8)
    return list(get_resize_output_image_size(dummy, 224, default_to_square=False,
                                             input_data_format=ChannelDimension.FIRST))


def to_rgb_rule(im: Image.Image) -> np.ndarray:
    """The reference RGB rule (H, W, 3 uint8): PIL convert("RGB"), alpha dropped.

    This is the first step of the pipelines every CLIP checkpoint was trained with
    (OpenAI CLIP and open_clip `_convert_to_rgb`, transformers 4.x `convert_to_rgb`).
    transformers 5 composites alpha onto white instead; image_entries() records that
    embedding too, as `embedding_alpha_composited`.
    """
    return np.asarray(im.convert("RGB"))


def manual_preprocess(im: Image.Image) -> np.ndarray:
    """Independent restatement of CLIPImageProcessorPil; must be bit-identical to it."""
    rgb = Image.fromarray(to_rgb_rule(im), "RGB")
    w, h = rgb.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = 224, int(224 * long / short)  # float maths, truncated
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    resized = np.asarray(rgb.resize((nw, nh), resample=Image.Resampling.BICUBIC))  # PIL, uint8 out
    top, left = (nh - 224) // 2, (nw - 224) // 2
    crop = resized[top: top + 224, left: left + 224].astype(np.float32) / np.float32(255)
    mean = np.array(OPENAI_CLIP_MEAN, dtype=np.float32)
    std = np.array(OPENAI_CLIP_STD, dtype=np.float32)
    return ((crop - mean) / std).transpose(2, 0, 1)


def image_entries(model, processor, descriptions: dict[str, str]):
    entries, embs, pixels = [], [], {}
    for name in sorted(descriptions):
        path = IMAGES_DIR / name
        with Image.open(path) as im:
            im.load()
            mode, (w, h) = im.mode, im.size
            has_alpha = "A" in im.getbands() or im.info.get("transparency") is not None
            # The processor sees PIL's convert("RGB"), as in training (see to_rgb_rule).
            pv = processor(images=im.convert("RGB"), return_tensors="pt")["pixel_values"]
            if has_alpha:
                composited = processor(images=im, return_tensors="pt")["pixel_values"]
            manual = manual_preprocess(im)
        assert pv.shape == (1, 3, 224, 224) and pv.dtype == torch.float32
        assert np.array_equal(manual, pv[0].numpy()), f"manual preprocessing differs for {name}"
        with torch.no_grad():
            emb = model.get_image_features(pixel_values=pv).pooler_output[0]
        embs.append(emb)
        pixels[name] = pv[0].contiguous()
        p64 = pv[0].double()
        entry = {
            "file": name,
            "description": descriptions[name],
            "source_mode": mode,
            "source_size_wh": [w, h],
            "has_alpha": has_alpha,
            "resized_hw": resized_hw(h, w),
            "pixel_shape": list(pv.shape[1:]),
            "pixel_sum": p64.sum().item(),
            "pixel_abs_sum": p64.abs().sum().item(),
            "pixel_sha256": hashlib.sha256(pv[0].numpy().tobytes()).hexdigest(),
            "embedding": f32list(emb),
        }
        if has_alpha:
            with torch.no_grad():
                emb_c = model.get_image_features(pixel_values=composited).pooler_output[0]
            entry["embedding_alpha_composited"] = f32list(emb_c)
            entry["pixel_sum_alpha_composited"] = composited[0].double().sum().item()
        entries.append(entry)
    return entries, embs, pixels


def output_dirs(spec: dict, out: Path | None) -> tuple[Path, Path]:
    """(model dir, parity dir): the committed fixture paths, or `out` (default: the spec's
    default_out) with model/ and parity/ inside. The parity dir is created."""
    if "model_dir" in spec and out is None:
        model_dir, parity_dir = spec["model_dir"], spec["parity_dir"]
    else:
        root = out if out is not None else spec["default_out"]
        model_dir, parity_dir = root / "model", root / "parity"
    parity_dir.mkdir(parents=True, exist_ok=True)
    return model_dir, parity_dir


def generate(config_key: str, out: Path | None) -> None:
    spec = CONFIGS[config_key]
    t0 = time.perf_counter()
    torch.use_deterministic_algorithms(True)
    descriptions = write_parity_images()

    model_dir, parity_dir = output_dirs(spec, out)

    save_model_dir(spec, model_dir)
    t_model = time.perf_counter()
    model, processor = load_reference(model_dir)
    raw_tokenizer = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))

    texts, text_embs, max_pad_diff = text_entries(model, processor, raw_tokenizer)
    images, image_embs, pixels = image_entries(model, processor, descriptions)
    t_outputs = time.perf_counter()

    cfg = model.config
    legacy = cfg.text_config.eos_token_id == 2
    if legacy:
        text_pooling = ("legacy config (text_config.eos_token_id == 2): hidden state at argmax(input_ids), the "
                        "first on ties; for tokenised text that is the first 49407")
    else:
        text_pooling = (f"hidden state at the first position whose id == eos_token_id ({cfg.text_config.eos_token_id}); "
                        "equals argmax(ids) for this tokenizer")
    id_cases = legacy_id_cases(model, raw_tokenizer) if legacy else None
    expected = {
        "model": spec["name"],
        "generator": {
            "script": "tools/reference/generate.py",
            "config": config_key,
            "seed": spec["seed"],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "pillow": PIL.__version__,
            "numpy": np.__version__,
            "safetensors": safetensors.__version__,
            "attn_implementation": "eager",
            "image_processor": "CLIPImageProcessorPil (PIL backend)",
        },
        "conventions": {
            "embedding": "unnormalised get_text_features / get_image_features output (projection, no L2 norm)",
            "text_ids": "tokenizer.json with its RobertaProcessing post-processor: [49406] + bpe + [49407]; "
                        "truncation=True,max_length=77 keeps 75 BPE tokens then 49407; no padding",
            "text_pooling": text_pooling,
            "embedding_padded77": "same text padded to 77 with 49407, attention_mask 1 for real tokens, 0 for pads",
            "pixels": "pixels.safetensors, one [3,224,224] f32 tensor per image file name",
            "rgb_rule": "PIL convert('RGB') before the processor, as in the training pipelines (OpenAI CLIP, "
                        "open_clip, transformers 4.x): alpha and tRNS transparency are dropped, L -> R=G=B",
            "embedding_alpha_composited": "only for images with alpha: the embedding under transformers 5's "
                                          "rule (alpha_composite onto opaque white) -- NOT the reference; "
                                          "present so a wrong rule is easy to diagnose",
        },
        "model_config": {
            "text": {k: getattr(cfg.text_config, k) for k in [
                "vocab_size", "max_position_embeddings", "hidden_size", "intermediate_size",
                "num_hidden_layers", "num_attention_heads", "hidden_act", "layer_norm_eps",
                "bos_token_id", "eos_token_id", "pad_token_id"]},
            "vision": {k: getattr(cfg.vision_config, k) for k in [
                "image_size", "patch_size", "hidden_size", "intermediate_size",
                "num_hidden_layers", "num_attention_heads", "hidden_act", "layer_norm_eps"]},
            "projection_dim": cfg.projection_dim,
            "logit_scale": f32(model.logit_scale.item()),
        },
        "stats": {
            "text_pairwise_cosine": cosine_stats(text_embs),
            "image_pairwise_cosine": cosine_stats(image_embs),
            "max_abs_diff_unpadded_vs_padded77": max_pad_diff,
        },
        "texts": texts,
        "images": images,
    }
    if id_cases is not None:
        expected["conventions"]["token_id_cases"] = (
            "legacy configs only: hand-made id rows (not tokenizer output) where argmax(ids) differs from "
            "'first id == 2', 'first 49407' and 'last position'; embedding = get_text_features(input_ids=[row])")
        expected["token_id_cases"] = id_cases

    (parity_dir / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    save_file(pixels, str(parity_dir / "pixels.safetensors"),
              metadata={"content": f"{spec['name']} preprocessed pixels, CHW f32, one tensor per image file"})

    t1 = time.perf_counter()
    print(json.dumps(expected["stats"], indent=1))
    print(f"model dir:  {model_dir}")
    print(f"parity dir: {parity_dir}")
    print(f"timings: build+save model {t_model - t0:.1f}s, reference outputs {t_outputs - t_model:.1f}s, "
          f"total {t1 - t0:.1f}s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=["committed", *sorted(CONFIGS)], default="committed",
                    help=f"default 'committed': every committed config ({', '.join(COMMITTED)}) in turn")
    ap.add_argument("--out", type=Path, default=None,
                    help="output root (model/ and parity/ are created inside). Default: committed fixture "
                         "paths for tiny and tiny-gelu, target/reference/clip-vit-b-32 for vit-b-32")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    keys = COMMITTED if args.config == "committed" else [args.config]
    if args.out and len(keys) > 1:
        ap.error("--out needs a single --config")
    for key in keys:
        generate(key, args.out.resolve() if args.out else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
