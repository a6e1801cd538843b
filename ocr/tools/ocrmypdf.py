"""Wrapper around the ``ocrmypdf`` program: argument list, timeout, error translation.

It runs as a child process (``python -m ocrmypdf``) rather than through its Python API:
a crash, a hang or a memory blow-up in one document then stays in that process, and the
timeout can really stop it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

from ...errors import MissingToolError, ToolFailedError
from .lifetime import die_with_parent
from .ocrmypdf_plugin import SIDECAR_ENV

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
    env = dict(os.environ)
    env[SIDECAR_ENV] = str(sidecar_dir)
    # Tesseract's own threads slow 2-core machines down (DESIGN.md); parallelism comes
    # from ocrmypdf's --jobs and from several documents at once.
    env["OMP_THREAD_LIMIT"] = "1"
    log.debug("running %s", args)
    proc = _run_in_own_group(args, env=env, cwd=sidecar_dir, timeout=timeout, input_file=input_file)
    if proc.stderr:
        log.debug("ocrmypdf stderr for %s:\n%s", input_file, proc.stderr)
    if proc.returncode == 0 or (proc.returncode == PDFA_CONVERSION_FAILED and output_file.exists()):
        return OcrmypdfRun(output_file, pdfa_status(output_file))
    if proc.returncode == 3:
        raise MissingToolError(f"ocrmypdf is missing a dependency: {_last_line(proc.stderr)}")
    what = _INPUT_FAILURES.get(proc.returncode, f"ocrmypdf exit code {proc.returncode}")
    raise ToolFailedError(f"{what}: {_last_line(proc.stderr)}")


_running: subprocess.Popen | None = None  # the ocrmypdf of this process, for kill_running()


def _run_in_own_group(args, *, env, cwd, timeout: float, input_file: Path) -> subprocess.CompletedProcess:
    """Run ocrmypdf in its own process group, so that it and its Tesseract and Ghostscript
    children can be stopped together (on timeout, or by :func:`kill_running`)."""
    global _running
    parent = os.getpid()
    try:
        # If this process is killed outright, ocrmypdf must not OCR on as an orphan.
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=cwd, start_new_session=True,
                                preexec_fn=partial(die_with_parent, parent))
    except OSError as exc:
        raise MissingToolError(f"cannot start ocrmypdf: {exc}") from None
    _running = proc
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_running()
        proc.communicate()
        raise ToolFailedError(f"{input_file}: OCR took longer than {timeout:.0f} s and was stopped") from None
    finally:
        _running = None
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def kill_running() -> None:
    """Stop the ocrmypdf run of this process, with all its children (no-op if none)."""
    proc = _running
    if proc is not None and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def pdfa_status(path: Path) -> str:
    """``PDF/A-<part><conformance>`` as the file declares it, else ``PDF``."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        status = pdf.open_metadata().pdfa_status
    return f"PDF/A-{status}" if status else "PDF"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no message)"
