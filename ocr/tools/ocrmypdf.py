"""Wrapper around the ``ocrmypdf`` program: argument list, timeout, error translation.

It runs as a child process (``python -m ocrmypdf``, through :mod:`.process`) rather than
through its Python API: a crash, a hang or a memory blow-up in one document then stays in
that process, and the timeout can really stop it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ...errors import MissingToolError, ToolFailedError
from .process import failure, kill_running, last_line, run_in_own_group

# kill_running (from .process, where every engine's programs run) is part of this wrapper's
# interface: a worker process stops its ocrmypdf run, with all its children, through it.
__all__ = ["OcrmypdfRun", "kill_running", "pdfa_status", "run_ocrmypdf", "version"]

log = logging.getLogger(__name__)
PLUGIN = "aktenarchiv.ocr.tools.ocrmypdf_plugin"

# ocrmypdf's documented exit codes that say something about the input.
_INPUT_FAILURES = {
    2: "ocrmypdf rejected the arguments or input",
    4: "ocrmypdf produced an invalid output PDF",
    5: "ocrmypdf could not read or write a file",
    6: "the PDF already has text on pages ocrmypdf was told to OCR",
    7: "a helper program (Tesseract, Ghostscript) failed",
    8: "the PDF is encrypted",
    9: "invalid ocrmypdf configuration",
    15: "ocrmypdf failed with an unexpected error",
}
PDFA_CONVERSION_FAILED = 10  # output exists, but as a regular PDF


@dataclass(frozen=True, slots=True)
class OcrmypdfRun:
    """What one successful run produced."""

    output: Path
    archival_format: str  # "PDF/A-2B", or "PDF" when ocrmypdf could not make PDF/A


@lru_cache(maxsize=1)
def version() -> str:
    """ocrmypdf's version string; raises MissingToolError when it cannot run."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", "ocrmypdf", "--version"],
            capture_output=True, text=True, timeout=60, check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise MissingToolError(f"ocrmypdf is not usable: {exc}") from None
    return out.stdout.strip()


def run_ocrmypdf(
    *,
    input_file: Path,
    output_file: Path,
    sidecar_dir: Path,
    languages: str,
    rotate_pages: bool,
    deskew: bool,
    skip_text: bool,
    image_dpi: int | None,
    jobs: int,
    timeout: float,
    tesseract_timeout: int,
) -> OcrmypdfRun:
    """OCR ``input_file`` into a PDF/A-2b at ``output_file``; page sidecars go to ``sidecar_dir``."""
    args = [
        sys.executable, "-m", "ocrmypdf",
        "--plugin", PLUGIN,
        "--language", languages,
        "--jobs", str(jobs),
        "--tesseract-timeout", str(tesseract_timeout),
        "--quiet",
    ]
    if rotate_pages:
        args.append("--rotate-pages")
    if deskew:
        args.append("--deskew")
    if skip_text:
        # Debian 12's Ghostscript refuses --skip-text with a forced PDF/A output (DESIGN.md);
        # "auto" makes PDF/A where it can and reports what it made (see pdfa_status).
        args += ["--skip-text", "--output-type", "auto"]
    else:
        args += ["--output-type", "pdfa-2"]
    if image_dpi:
        args += ["--image-dpi", str(image_dpi)]
    args += [str(input_file), str(output_file)]
    # The plugin module imports ocrmypdf (~0.4 s); a worker whose documents need no OCR
    # (born-digital PDFs, imports) never pays for it.
    from .ocrmypdf_plugin import SIDECAR_ENV

    env = dict(os.environ)
    env[SIDECAR_ENV] = str(sidecar_dir)
    # Tesseract's own threads slow 2-core machines down (DESIGN.md); parallelism comes
    # from ocrmypdf's --jobs and from several documents at once.
    env["OMP_THREAD_LIMIT"] = "1"
    log.debug("running %s", args)
    proc = run_in_own_group(args, what="ocrmypdf", env=env, cwd=sidecar_dir, timeout=timeout, input_file=input_file)
    if proc.stderr:
        log.debug("ocrmypdf stderr for %s:\n%s", input_file, proc.stderr)
    if proc.returncode == 0 or (proc.returncode == PDFA_CONVERSION_FAILED and output_file.exists()):
        return OcrmypdfRun(output_file, pdfa_status(output_file))
    if proc.returncode == 3:
        raise MissingToolError(f"ocrmypdf is missing a dependency: {last_line(proc.stderr)}")
    if proc.returncode in _INPUT_FAILURES:
        raise ToolFailedError(f"{_INPUT_FAILURES[proc.returncode]}: {last_line(proc.stderr)}")
    raise ToolFailedError(failure("ocrmypdf", proc))


def pdfa_status(path: Path) -> str:
    """``PDF/A-<part><conformance>`` as the file declares it, else ``PDF``."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        status = pdf.open_metadata().pdfa_status
    return f"PDF/A-{status}" if status else "PDF"
