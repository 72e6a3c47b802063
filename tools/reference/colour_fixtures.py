"""Colour and alpha fixtures: what PIL's `Image.convert("RGB")` makes of each
input mode, the first step of every CLIP-family reference preprocessor
(OpenAI CLIP, open_clip, transformers 4.x; transformers 5 composites alpha
onto white first, see docs/formats.md).

Writes tests/fixtures/colour/<name> (the input) and
tests/fixtures/colour/expected/<name>.png (PIL's RGB, 8-bit, lossless).
Inputs come from ../shared/fixtures/formats (byte copies, licences in
tests/fixtures/colour/README.md) or are generated here, deterministically.
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "fixtures" / "formats"
OUT = ROOT / "tests" / "fixtures" / "colour"

COPIED = {
    "rgba_photo.png": "png/riaphotographs_rgba.png",
    "rgb16_rec2020.png": "png/nikon_d300_16bit_rec2020.png",
    "rgb16.tiff": "tiff/video-001-16bit.tiff",
    "ycck_adobe.jpg": "jpeg/flower_small_cmyk.jpg",
    "rgba_lossy.webp": "webp/yellow_rose_lossy_alpha.webp",
    "rgba_lossless.webp": "webp/tux_lossless.webp",
    "palette_animated.gif": "gif/star_animated.gif",
    "animated_lossy.webp": "webp/random_lossy_animated.webp",
}


def gradient(w: int, h: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)], -1).astype(np.uint8)


def generate() -> dict[str, bytes | None]:
    made = {}
    rgb = gradient(96, 64)
    alpha = (np.arange(96)[None, :] * 255 // 95).repeat(64, 0).astype(np.uint8)
    Image.fromarray(np.dstack([rgb[..., 0], alpha]), "LA").save(OUT / "grey_alpha.png")
    made["grey_alpha.png"] = None
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(OUT / "rgba_ramp.png")
    made["rgba_ramp.png"] = None
    # Plain Adobe CMYK (transform 0), as Photoshop writes print files.
    Image.fromarray(rgb, "RGB").convert("CMYK").save(OUT / "cmyk_adobe.jpg", quality=95)
    made["cmyk_adobe.jpg"] = None
    # Display P3 (the iPhone camera's profile, taken from a real iPhone JPEG):
    # flat patches whose sRGB rendering differs clearly from their numbers.
    with Image.open(SHARED / "jpeg/iphone13mini_p3_gainmap.jpg") as iphone:
        p3 = iphone.info["icc_profile"]
    patches = Image.new("RGB", (PATCH * len(P3_PATCHES), PATCH))
    for i, colour in enumerate(P3_PATCHES):
        patches.paste(colour, (i * PATCH, 0, (i + 1) * PATCH, PATCH))
    patches.save(OUT / "p3_patches.png", icc_profile=p3)
    made["p3_patches.png"] = None
    return made


PATCH = 64
P3_PATCHES = [(230, 40, 40), (40, 200, 60), (60, 80, 220), (200, 180, 60), (128, 128, 128)]


def display_expectations() -> dict:
    """What a colour-managed viewer shows at each patch centre: LittleCMS
    (PIL.ImageCms) from the file's profile to sRGB."""
    import io

    from PIL import ImageCms

    with Image.open(OUT / "p3_patches.png") as im:
        src = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        shown = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
        centres = [(i * PATCH + PATCH // 2, PATCH // 2) for i in range(len(P3_PATCHES))]
        return {"p3_patches.png": [[x, y, list(shown.getpixel((x, y)))] for x, y in centres]}


def reference_embeddings(names: list[str]) -> dict[str, list[float]]:
    """clip-tiny's image embedding of each input, through the reference pipeline:
    convert("RGB"), then transformers' PIL-backend CLIP processor."""
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import generate

    model, processor = generate.load_reference(ROOT / "tests" / "fixtures" / "models" / "clip-tiny")
    out = {}
    for name in names:
        with Image.open(OUT / name) as im:
            im.seek(0)
            pv = processor(images=im.convert("RGB"), return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            out[name] = generate.f32list(model.get_image_features(pixel_values=pv).pooler_output[0])
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "expected").mkdir(exist_ok=True)
    names = []
    for name, rel in COPIED.items():
        src = SHARED / rel
        if not src.exists():
            sys.exit(f"{src} is missing: the copied inputs come from ../shared")
        shutil.copyfile(src, OUT / name)
        names.append(name)
    names += list(generate())
    for name in sorted(names):
        with Image.open(OUT / name) as im:
            im.seek(0)
            mode = im.mode
            rgb = im.convert("RGB")
            rgb.save(OUT / "expected" / f"{name}.png", optimize=False)
        print(f"{name:24} {mode:6} {rgb.size}")
    embeddings = reference_embeddings(sorted(names))
    (OUT / "expected" / "clip-tiny.json").write_text(json.dumps(embeddings, indent=0) + "\n")
    (OUT / "expected" / "display.json").write_text(json.dumps(display_expectations(), indent=0) + "\n")


if __name__ == "__main__":
    main()
