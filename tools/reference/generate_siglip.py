#!/usr/bin/env python3
"""Generate SigLIP / SigLIP 2 parity fixtures from random-initialised transformers
`SiglipModel`s, with a locally built Gemma-type tokenizer.

SigLIP 2's fixed-resolution checkpoints (google/siglip2-base-patch32-256, ...) load as
`SiglipModel` (config.json: model_type "siglip") with a Gemma byte-fallback BPE
tokenizer.json. No pretrained weights or real tokenizer files exist on our machines, so
the tokenizer is trained here with the `tokenizers` package on a small multilingual
corpus, in exactly Gemma's pipeline (the one transformers' GemmaTokenizer /
Siglip2Tokenizer builds): Replace(" " -> "▁") normalizer, Split(" ") pre-tokenizer,
BPE with byte fallback, no BOS, EOS appended. Siglip2Tokenizer adds a Lowercase
normalizer in front (SigLIP 2 was trained on lowercased text); the Rust side must do
the same.

Usage (from the repository root, inside tools/reference/.venv):

    python tools/reference/generate_siglip.py                       # committed: siglip-tiny
    python tools/reference/generate_siglip.py --config b32-256      # full size, target/reference/
    python tools/reference/generate_siglip.py --config b16-224 --out /some/dir
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import PIL
import safetensors
import tokenizers
import torch
import transformers
from PIL import Image
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE
from tokenizers.trainers import BpeTrainer
from transformers import SiglipConfig, SiglipModel
from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil
from transformers.models.siglip2.tokenization_siglip2 import Siglip2Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import (IMAGES_DIR, REPO, TEXTS, cosine_stats, f32, f32list, output_dirs,  # noqa: E402
                      write_parity_images)

MAX_LEN = 64
SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]  # ids 0..4, as in Gemma
PAD_ID, EOS_ID = 0, 1

# What a user types in the languages the issue names, plus the CLIP text list.
EXTRA_TEXTS = [
    "Oma mit Geburtstagskuchen",
    "plage au coucher du soleil",
    "Kinder am Strand bei Sonnenuntergang",
    "Ça c'est LA fête à l'ÉCOLE",
    "富士山と桜の写真",
    "おばあちゃんの誕生日ケーキ",
    "🎂🎉🥳",
    "İstanbul'da KIŞ ΣΟΦΙΑ straße",
]
ALL_TEXTS = TEXTS + EXTRA_TEXTS

# Corpus the tiny BPE is trained on: enough shared words that merges fire on the test
# texts, while rare scripts and emoji still go through byte fallback.
CORPUS = ALL_TEXTS + [
    "a photo of a dog on the beach", "a photo of the sunset over the sea",
    "die Katze schläft auf dem Sofa", "une photo de la plage en été", "la fête de noël",
    "geburtstag mit der familie", "kinder spielen im schnee", "東京の写真", "写真の桜",
    "el perro en la playa", "birthday cake with candles", "two dogs playing in the snow",
]

PREPROCESSOR = dict(
    do_resize=True,
    resample=2,  # PIL.Image.BILINEAR, as in google/siglip2-* preprocessor_config.json
    do_rescale=True,
    rescale_factor=1 / 255,
    do_normalize=True,
    image_mean=[0.5, 0.5, 0.5],
    image_std=[0.5, 0.5, 0.5],
)

CONFIGS = {
    # Committed. Text projection (48) equals the vision width, as SigLIP requires; text and
    # vision widths differ so mixing the towers fails on shapes.
    "tiny": dict(
        name="siglip-tiny",
        seed=20261207,
        text=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                  projection_size=48),
        vision=dict(image_size=256, patch_size=32, hidden_size=48, intermediate_size=96,
                    num_hidden_layers=2, num_attention_heads=4),
        vocab_size=None,  # the tokenizer's size
        model_dir=REPO / "tests" / "fixtures" / "models" / "siglip-tiny",
        parity_dir=REPO / "tests" / "fixtures" / "parity" / "siglip-tiny",
    ),
    # Not committed: google/siglip2-base-patch32-256's shapes (256k vocabulary).
    "b32-256": dict(
        name="siglip2-b32-256",
        seed=20261208,
        text=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12),
        vision=dict(image_size=256, patch_size=32, hidden_size=768, intermediate_size=3072,
                    num_hidden_layers=12, num_attention_heads=12),
        vocab_size=256000,
        default_out=REPO / "target" / "reference" / "siglip2-b32-256",
    ),
    # Not committed: google/siglip2-base-patch16-224's shapes.
    "b16-224": dict(
        name="siglip2-b16-224",
        seed=20261209,
        text=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12),
        vision=dict(image_size=224, patch_size=16, hidden_size=768, intermediate_size=3072,
                    num_hidden_layers=12, num_attention_heads=12),
        vocab_size=256000,
        default_out=REPO / "target" / "reference" / "siglip2-b16-224",
    ),
}
COMMITTED = [k for k, s in CONFIGS.items() if "model_dir" in s]


def build_tokenizer(vocab_size: int = 700) -> Tokenizer:
    """A Gemma-type tokenizer.json: the pipeline of transformers' GemmaTokenizer with a
    BPE trained here. The 256 `<0xNN>` byte tokens make byte fallback total."""
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    trainer_tok = Tokenizer(BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    trainer_tok.normalizer = normalizers.Replace(" ", "▁")
    trainer_tok.pre_tokenizer = pre_tokenizers.Split(pattern=" ", behavior="merged_with_previous", invert=False)
    corpus = [t.lower() for t in CORPUS]
    trainer = BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS + byte_tokens, limit_alphabet=120,
                         show_progress=False)
    trainer_tok.train_from_iterator(corpus, trainer)
    tok = Tokenizer.from_str(trainer_tok.to_str())
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    tok.post_processor = processors.TemplateProcessing(single="$A <eos>", pair="$A <eos> $B <eos>",
                                                       special_tokens=[("<eos>", EOS_ID)])
    assert tok.token_to_id("<pad>") == PAD_ID and tok.token_to_id("<eos>") == EOS_ID
    return tok


def save_model_dir(spec: dict, model_dir: Path) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer()
    tok.save(str(model_dir / "tokenizer.json"))
    (model_dir / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "GemmaTokenizer", "add_bos_token": False, "add_eos_token": True,
        "pad_token": "<pad>", "eos_token": "<eos>", "bos_token": "<bos>", "unk_token": "<unk>",
        "padding_side": "right", "model_max_length": MAX_LEN,
    }, indent=1) + "\n")
    vocab = spec["vocab_size"] or tok.get_vocab_size()
    config = SiglipConfig(
        text_config=dict(vocab_size=vocab, max_position_embeddings=MAX_LEN, hidden_act="gelu_pytorch_tanh",
                         layer_norm_eps=1e-6, pad_token_id=PAD_ID, eos_token_id=EOS_ID, bos_token_id=2,
                         **spec["text"]),
        vision_config=dict(hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, num_channels=3, **spec["vision"]),
    )
    torch.manual_seed(spec["seed"])
    model = SiglipModel(config).eval()
    with torch.no_grad():
        # Random init leaves logit_scale/bias at randn; give them SigLIP's trained order of
        # magnitude (scale ~ exp(4.7), bias ~ -16) so the probabilities are meaningful.
        model.logit_scale.fill_(4.7 + 0.01 * (spec["seed"] % 7))
        model.logit_bias.fill_(-16.5 + 0.1 * (spec["seed"] % 5))
    for stale in ["model.safetensors", "config.json", "preprocessor_config.json", "generation_config.json"]:
        (model_dir / stale).unlink(missing_ok=True)
    model.save_pretrained(model_dir, safe_serialization=True)
    (model_dir / "generation_config.json").unlink(missing_ok=True)
    side = spec["vision"]["image_size"]
    SiglipImageProcessorPil(size={"height": side, "width": side}, **PREPROCESSOR).save_pretrained(model_dir)


def load_reference(model_dir: Path):
    model = SiglipModel.from_pretrained(model_dir, attn_implementation="eager", dtype=torch.float32).eval()
    image_processor = SiglipImageProcessorPil.from_pretrained(model_dir)
    tokenizer = Siglip2Tokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "right"
    return model, image_processor, tokenizer


def text_entries(model, tokenizer, raw: Tokenizer):
    entries, embs = [], []
    for text in ALL_TEXTS:
        enc = tokenizer(text, padding="max_length", truncation=True, max_length=MAX_LEN)
        ids = enc["input_ids"]
        # The tokenizer.json alone, with the lowercasing Siglip2Tokenizer adds.
        raw_ids = raw.encode(text.lower()).ids
        n = min(len(raw_ids), MAX_LEN)
        expect = raw_ids if len(raw_ids) <= MAX_LEN else raw_ids[: MAX_LEN - 1] + [EOS_ID]
        assert ids == expect + [PAD_ID] * (MAX_LEN - n), (text, ids, raw_ids)
        with torch.no_grad():
            # No attention mask: SigLIP was trained without one and pools the last position.
            emb = model.get_text_features(input_ids=torch.tensor([ids])).pooler_output[0]
        embs.append(emb)
        entries.append({"text": text, "n_tokens_untruncated": len(raw_ids), "input_ids": ids,
                        "embedding": f32list(emb)})
    return entries, embs


def manual_preprocess(im: Image.Image, side: int) -> np.ndarray:
    """Independent restatement of SiglipImageProcessorPil: straight resize to the square,
    no crop, mean/std 0.5."""
    rgb = im.convert("RGB").resize((side, side), resample=Image.Resampling.BILINEAR)
    x = np.asarray(rgb).astype(np.float32) / np.float32(255)
    return ((x - np.float32(0.5)) / np.float32(0.5)).transpose(2, 0, 1)


def image_entries(model, processor, descriptions: dict[str, str], side: int):
    entries, embs, pixels = [], [], {}
    for name in sorted(descriptions):
        with Image.open(IMAGES_DIR / name) as im:
            im.load()
            mode, (w, h) = im.mode, im.size
            pv = processor(images=im.convert("RGB"), return_tensors="pt")["pixel_values"]
            manual = manual_preprocess(im, side)
        assert pv.shape == (1, 3, side, side), pv.shape
        assert np.array_equal(manual, pv[0].numpy()), f"manual preprocessing differs for {name}"
        with torch.no_grad():
            emb = model.get_image_features(pixel_values=pv).pooler_output[0]
        embs.append(emb)
        if name.endswith(".jpg"):
            # Lossless inputs must give bit-identical pixels (checked by hash); only the
            # JPEGs, which decoders round differently, need the reference's own pixels.
            pixels[name] = pv[0].contiguous()
        entries.append({
            "file": name, "description": descriptions[name], "source_mode": mode, "source_size_wh": [w, h],
            "pixel_shape": list(pv.shape[1:]), "pixel_sum": pv[0].double().sum().item(),
            "pixel_sha256": hashlib.sha256(pv[0].numpy().tobytes()).hexdigest(), "embedding": f32list(emb),
        })
    return entries, embs, pixels


def probabilities(model, text_embs, image_embs) -> list[list[float]]:
    """sigmoid(exp(logit_scale) * cos + logit_bias): text x image, as SiglipModel.forward."""
    t = torch.stack(text_embs)
    i = torch.stack(image_embs)
    t, i = t / t.norm(dim=-1, keepdim=True), i / i.norm(dim=-1, keepdim=True)
    logits = t @ i.T * model.logit_scale.exp() + model.logit_bias
    return [f32list(row) for row in torch.sigmoid(logits)]


def generate(key: str, out: Path | None) -> None:
    spec = CONFIGS[key]
    t0 = time.perf_counter()
    torch.use_deterministic_algorithms(True)
    descriptions = write_parity_images()
    model_dir, parity_dir = output_dirs(spec, out)
    save_model_dir(spec, model_dir)
    model, processor, tokenizer = load_reference(model_dir)
    raw = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    side = spec["vision"]["image_size"]
    texts, text_embs = text_entries(model, tokenizer, raw)
    images, image_embs, pixels = image_entries(model, processor, descriptions, side)
    cfg = model.config
    expected = {
        "model": spec["name"],
        "family": "siglip",
        "generator": {
            "script": "tools/reference/generate_siglip.py", "config": key, "seed": spec["seed"],
            "torch": torch.__version__, "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "pillow": PIL.__version__, "numpy": np.__version__,
            "safetensors": safetensors.__version__, "attn_implementation": "eager",
            "image_processor": "SiglipImageProcessorPil (PIL backend)", "tokenizer": "Siglip2Tokenizer",
        },
        "conventions": {
            "embedding": "unnormalised get_text_features / get_image_features pooler_output",
            "text_ids": "lowercased, tokenizer.json (no bos, eos appended), truncation to 64 keeping eos, "
                        "padded on the right to 64 with <pad> (0)",
            "text_pooling": "last position (index 63), no attention mask",
            "pixels": f"pixels.safetensors, one [3,{side},{side}] f32 tensor per JPEG file name (lossless files: pixel_sha256 of the f32 CHW bytes)",
            "rgb_rule": "PIL convert('RGB') (alpha dropped), then a straight bilinear resize to the square",
            "probabilities": "sigmoid(exp(logit_scale) * cos(text, image) + logit_bias), texts x images",
        },
        "model_config": {
            "text": {k: getattr(cfg.text_config, k) for k in [
                "vocab_size", "max_position_embeddings", "hidden_size", "intermediate_size",
                "num_hidden_layers", "num_attention_heads", "hidden_act", "layer_norm_eps", "projection_size"]},
            "vision": {k: getattr(cfg.vision_config, k) for k in [
                "image_size", "patch_size", "hidden_size", "intermediate_size",
                "num_hidden_layers", "num_attention_heads", "hidden_act", "layer_norm_eps"]},
            "logit_scale": f32(model.logit_scale.item()),
            "logit_bias": f32(model.logit_bias.item()),
        },
        "stats": {"text_pairwise_cosine": cosine_stats(text_embs),
                  "image_pairwise_cosine": cosine_stats(image_embs)},
        "texts": texts,
        "images": images,
        "probabilities": probabilities(model, text_embs, image_embs),
    }
    (parity_dir / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    save_file(pixels, str(parity_dir / "pixels.safetensors"),
              metadata={"content": f"{spec['name']} preprocessed pixels, CHW f32, one tensor per image file"})
    print(json.dumps(expected["stats"], indent=1))
    print(f"model dir:  {model_dir}\nparity dir: {parity_dir}\ntotal {time.perf_counter() - t0:.1f}s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=["committed", *sorted(CONFIGS)], default="committed")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    keys = COMMITTED if args.config == "committed" else [args.config]
    for key in keys:
        generate(key, args.out.resolve() if args.out else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
