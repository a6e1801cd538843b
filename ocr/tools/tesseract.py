"""Tesseract probe: is it installed, which version, which languages.

ocrmypdf drives Tesseract for the archive; this module checks up front that the
configured languages exist, so a missing ``deu`` model fails the run once with a clear
message instead of quarantining every scan.
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache

from ...errors import MissingToolError

MIN_VERSION = (4, 1)


@lru_cache(maxsize=1)
def version() -> str:
    """Tesseract's version, e.g. ``5.3.0``; raises MissingToolError if absent or too old."""
    try:
        out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        raise MissingToolError(
            "tesseract is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-deu)"
        ) from None
    match = re.search(r"tesseract\s+v?(\d+)\.(\d+)(?:\.(\d+))?", out.stdout + out.stderr)
    if not match:
        raise MissingToolError(f"cannot read tesseract's version from: {out.stdout[:100]!r}")
    found = tuple(int(x) for x in match.groups() if x is not None)
    if found[:2] < MIN_VERSION:
        raise MissingToolError(f"tesseract {'.'.join(map(str, found))} is too old; need ≥ 4.1")
    return ".".join(map(str, found))


@lru_cache(maxsize=1)
def languages() -> frozenset[str]:
    """The installed language models."""
    version()
    out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    return frozenset(line.strip() for line in out.stdout.splitlines()[1:] if line.strip())


def check_languages(spec: str) -> None:
    """Raise MissingToolError unless every language of ``deu+eng`` style ``spec`` is installed."""
    missing = [lang for lang in spec.split("+") if lang not in languages()]
    if missing:
        raise MissingToolError(
            f"Tesseract language data missing: {', '.join(missing)} "
            f"(Debian: apt-get install {' '.join('tesseract-ocr-' + m for m in missing)})"
        )
