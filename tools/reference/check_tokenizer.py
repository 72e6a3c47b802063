#!/usr/bin/env python3
"""Cross-check tokenizer.json (HF `tokenizers`, what the Rust side uses) against
open_clip's pure-Python SimpleTokenizer (the original OpenAI CLIP BPE code).

open_clip_torch is not a pinned dependency (it pulls torchvision, which would make
transformers' AutoImageProcessor default to its torchvision backend). Either have it
installed, or point --openclip-tokenizer-py at open_clip/tokenizer.py from an unpacked
wheel (`pip download open_clip_torch --no-deps` and unzip); that file needs only
ftfy, regex, numpy and torch.

Prints one line per text and exits 1 if any text outside KNOWN_DIFFERENCES differs.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import tokenizers

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402

# Texts where open_clip's extra text cleaning (ftfy.fix_text + html.unescape) changes the
# input before BPE; tokenizer.json only does NFC, \s+ -> ' ' and lowercasing.
KNOWN_DIFFERENCES = [
    "fish &amp; chips",                 # html.unescape -> "&"
    "it\u2019s curly",                   # ftfy uncurls quotes -> "it's"
    "\uff26\uff55\uff4c\uff4c width",    # ftfy full-width -> ASCII ("Full")
    "\ufb01sh ligature",                 # ftfy ligature fi -> "fi"
]

EXTRA = [
    "a photo of a cat.",
    "ÅNGSTRÖM İstanbul straße",
    "e\u0301cole (decomposed accent)",
    "tab\tand\u00a0nbsp and\u2003em-space",
    "emoji 👍🏽 ZWJ 👨‍💻 flags 🇫🇷",
    "नमस्ते दुनिया",
    "مرحبا بالعالم",
    "Здравствуй, мир",
    "x" * 200,
    "1234567890",
    "don't stop belie'vin'",
    "HTTP://EXAMPLE.COM/path?q=1",
]


def load_openclip(path: str | None):
    if path:
        spec = importlib.util.spec_from_file_location("openclip_tokenizer", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod.SimpleTokenizer()
    from open_clip.tokenizer import SimpleTokenizer  # type: ignore

    return SimpleTokenizer()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer-json", default=str(generate.tokenizer_source()))
    ap.add_argument("--openclip-tokenizer-py", default=None)
    args = ap.parse_args()

    try:
        oc = load_openclip(args.openclip_tokenizer_py)
    except ImportError as e:
        print(f"open_clip not available ({e}); nothing to compare")
        return 0
    hf = tokenizers.Tokenizer.from_file(args.tokenizer_json)

    bad = 0
    for text in generate.TEXTS + EXTRA + KNOWN_DIFFERENCES:
        ref = [oc.sot_token_id] + oc.encode(text) + [oc.eot_token_id]
        got = hf.encode(text).ids
        same = ref == got
        known = text in KNOWN_DIFFERENCES
        if not same and not known:
            bad += 1
        status = "same" if same else ("DIFFERS (known)" if known else "DIFFERS")
        print(f"{status:16s} {len(got):4d} {text[:50]!r}")
        if not same:
            print(f"    open_clip: {ref[:20]}")
            print(f"    tokenizer.json: {got[:20]}")
    print(f"{bad} unexpected differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
