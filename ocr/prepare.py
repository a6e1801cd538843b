"""Bring scan images into a form ocrmypdf accepts, without touching the original.

ocrmypdf (through img2pdf) refuses images with an alpha channel, CMYK JPEGs without an
ICC profile and more than 8 bits per sample, all of which scanners and screenshot tools
produce. Such images are converted losslessly where possible (alpha flattened onto white,
16 bit reduced to 8, CMYK to RGB) into a work copy; the original is archived unchanged.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

_ACCEPTED = {"1", "L", "RGB"}


def needs_conversion(frame: Image.Image) -> bool:
    """True when ocrmypdf would refuse ``frame`` as it is (alpha, 16 bit, CMYK without profile)."""
    if frame.mode == "P":
        return "transparency" in frame.info
    if frame.mode == "CMYK":
        return not frame.info.get("icc_profile")
    return frame.mode not in _ACCEPTED


def to_accepted_mode(frame: Image.Image) -> Image.Image:
    """``frame`` converted to 1, L or RGB without losing what can be kept."""
    if frame.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: scale to 8 bit rather than clip (Pillow's convert("L") clips at 255).
        return frame.point(lambda v: v / 257).convert("L")
    if frame.mode == "F":
        return frame.convert("L")
    if "A" in frame.mode or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat.convert("L") if frame.mode in ("LA", "La") else flat
    return frame.convert("RGB")


def prepare_image(src: Path, workdir: Path) -> Path:
    """``src`` itself if ocrmypdf takes it, else a converted TIFF in ``workdir``."""
    with Image.open(src) as img:
        frames = getattr(img, "n_frames", 1)
        needs = False
        for index in range(frames):
            img.seek(index)
            needs = needs or needs_conversion(img)
        if not needs:
            return src
        converted = []
        for index in range(frames):
            img.seek(index)
            frame = img.copy()
            out = to_accepted_mode(frame) if needs_conversion(frame) else frame
            out.info["dpi"] = img.info.get("dpi") or frame.info.get("dpi")
            converted.append(out)
    target = workdir / "prepared.tiff"
    dpi = converted[0].info.get("dpi")
    kwargs = {"dpi": tuple(round(float(d)) for d in dpi)} if dpi else {}
    converted[0].save(target, format="TIFF", save_all=True, append_images=converted[1:],
                      compression="tiff_lzw", **kwargs)
    return target
