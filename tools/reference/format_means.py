"""Reference decodes of tests/fixtures/formats: each file's upright size and
mean colour as a colour-managed viewer shows it, from decoders independent of
Shoebox's build (pillow-heif's bundled libheif for HEIC, Pillow's libavif for
AVIF, libjxl for JPEG XL: djxl where it can write the file, else imagecodecs).
Pixels are converted from their ICC profile to sRGB with LittleCMS
(PIL.ImageCms), and alpha is composited onto the thumbnails' backdrop
(#E6E6E6), since that is what the thumbnails show. Writes
tests/fixtures/formats/expected.json; crates/engine/tests/formats.rs
compares Shoebox's thumbnails with it.
"""
import io
import json
import subprocess
import tempfile
from pathlib import Path

import imagecodecs
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageOps

ROOT = Path(__file__).resolve().parents[2]
DIR = ROOT / "tests" / "fixtures" / "formats"


BACKDROP = 0xE6
# Sample bit depths of the 16-bit-output JPEG XL samples (from
# ../shared/fixtures/formats/README.md; imagecodecs does not scale them).
JXL_BITS = {"sunset_logo.jxl": 10, "alpha_premultiplied.jxl": 12}
# Samples whose alpha is associated: libjxl returns premultiplied colour.
PREMULTIPLIED = {"alpha_premultiplied.jxl"}


def flatten(a: np.ndarray) -> np.ndarray:
    """8-bit RGB(A) -> RGB on the backdrop."""
    if a.shape[-1] == 3:
        return a.astype(np.float64)
    rgb, alpha = a[..., :3].astype(np.float64), a[..., 3:4].astype(np.float64) / 255
    return rgb * alpha + BACKDROP * (1 - alpha)


def to_srgb(im: Image.Image) -> Image.Image:
    """8-bit RGB(A), converted from its ICC profile (if any) to sRGB."""
    im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
    icc = im.info.get("icc_profile")
    if not icc:
        return im
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    dst = ImageCms.createProfile("sRGB")
    alpha = im.getchannel("A") if im.mode == "RGBA" else None
    rgb = ImageCms.profileToProfile(im.convert("RGB"), src, dst, outputMode="RGB")
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb


def decode_jxl(path: Path) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "out.png"
        done = subprocess.run(["djxl", str(path), str(png), "--bits_per_sample=8"],
                              capture_output=True).returncode == 0 and png.exists()
        if done:
            with Image.open(png) as im:
                im.load()
                return np.asarray(to_srgb(im))
    a = imagecodecs.jpegxl_decode(path.read_bytes())  # orientation applied
    if a.ndim == 4:  # animation: first frame
        a = a[0]
    if a.dtype == np.uint16:
        # imagecodecs returns the codestream's bit depth unscaled.
        bits = JXL_BITS.get(path.name, 16)
        a = (a.astype(np.float64) * 255 / ((1 << bits) - 1) + 0.5).astype(np.uint8)
    elif a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)
    if a.ndim == 2:
        a = np.stack([a] * 3, -1)
    if path.name in PREMULTIPLIED:
        alpha = a[..., 3:4].astype(np.float64)
        rgb = np.where(alpha > 0, a[..., :3] * 255.0 / np.maximum(alpha, 1), 0)
        a = np.concatenate([np.clip(rgb + 0.5, 0, 255).astype(np.uint8), a[..., 3:4]], -1)
    return a


def decode(path: Path) -> np.ndarray:
    """Upright pixels in sRGB, 8 bits, RGB or RGBA."""
    if path.suffix == ".jxl":
        return decode_jxl(path)
    if path.suffix == ".avif":
        with Image.open(path) as im:  # libavif reports irot/imir as EXIF orientation
            icc = im.info.get("icc_profile")
            im = ImageOps.exif_transpose(im)
            im.info["icc_profile"] = icc
            return np.asarray(to_srgb(im))
    heif = pillow_heif.open_heif(path, convert_hdr_to_8bit=True)  # irot/imir applied
    return np.asarray(to_srgb(heif.to_pillow()))


def main() -> None:
    out = {}
    for path in sorted(DIR.iterdir()):
        if path.suffix not in {".heic", ".hif", ".avif", ".jxl"}:
            continue
        px = decode(path)
        h, w = px.shape[:2]
        shown = flatten(px)
        out[path.name] = {
            "upright_wh": [w, h],
            "has_alpha": px.shape[-1] == 4,
            "mean_rgb_shown": [round(float(shown[..., c].mean()), 2) for c in range(3)],
        }
        print(path.name, out[path.name])
    (DIR / "expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
