"""Fake OCR engines for the fast test tier, after ocrmypdf's ``tests/plugins`` (tesseract_noop,
tesseract_crash): the pipeline, quarantine and resume logic run in seconds, and the paths
from a crashing, hanging or missing program to their exit codes are exercised.

Select one with ``settings.ocr.engine`` / ``AKTE_OCR_ENGINE`` = ``fake_engines:<Name>``;
``tests/`` is on ``sys.path`` (pytest's ``pythonpath``; ``PYTHONPATH`` for a subprocess).
The crashing, hanging and missing engines run real child programs through the package's
own runner (:func:`aktenarchiv.ocr.tools.process.run_in_own_group`), so it is the real
timeout and the real error translation that meet them.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

from aktenarchiv.errors import ToolFailedError
from aktenarchiv.models import PDF, PageText
from aktenarchiv.ocr.engine import EngineOutput, OcrJob
from aktenarchiv.ocr.ink import measure_ink
from aktenarchiv.ocr.pagecheck import BLANK, PageAnalysis, ink_issues, resolution_issues
from aktenarchiv.ocr.resolution import effective_resolution
from aktenarchiv.ocr.separator import match_separator, read_barcodes
from aktenarchiv.ocr.tools.process import failure, run_in_own_group
from PIL import Image

FIXED_TEXT = "Stadt Musterstadt, Bauamt. Wir bestätigen den Eingang Ihres Schreibens."
HANG_SECONDS = 3600


def page_text(job: OcrJob, number: int) -> str:
    """What the instant engine 'reads' on a page: fixed text plus the file's name and page."""
    stem = job.source.name.rsplit(".", 1)[0]
    return f"{FIXED_TEXT}\nVorgang {stem}, Seite {number}"


def quick_analysis(image, *, settings, languages, default_dpi, **_) -> PageAnalysis:
    """The scan station's page analysis without Tesseract: resolution, ink, blank and separator
    sheets as the real one finds them; every page taken as upright and legible."""
    resolution = effective_resolution(image, default_dpi)
    ink = measure_ink(image, resolution.dpi)
    separator = match_separator(read_barcodes(image), settings)
    if separator is not None:
        return PageAnalysis(resolution.dpi, resolution.source, 0, False, separator, "", None, None, ink.coverage, ())
    blank = ink.is_blank(settings.blank_max_ink, settings.blank_max_marks)
    issues = ink_issues(ink, settings) + ([BLANK] if blank else resolution_issues(resolution, settings))
    return PageAnalysis(resolution.dpi, resolution.source, 0, blank, None, "", None, None, ink.coverage, tuple(issues))


class InstantEngine:
    """Returns fixed text at once, and an archival copy (a plain PDF of the scan).

    Its page analysis is :func:`quick_analysis`: the scan station's own, which runs
    Tesseract, is tested where a test is about the scan station.
    """

    analyse_page = staticmethod(quick_analysis)

    def check(self, settings) -> None:
        pass

    def version(self) -> str:
        return "fake-instant 1.0"

    def recognize(self, job: OcrJob) -> EngineOutput:
        pages = tuple(PageText(n, page_text(job, n), "ocr", 96.0)
                      for n in range(1, job.source.page_count + 1) if n not in job.skip_pages)
        archival = job.workdir / "archival.pdf"
        job.workdir.mkdir(parents=True, exist_ok=True)
        if job.source.media_type == PDF:
            shutil.copyfile(job.input_file, archival)
        else:
            with Image.open(job.input_file) as image:
                frames = []
                for index in range(getattr(image, "n_frames", 1)):
                    image.seek(index)
                    frames.append(image.convert("L"))
            frames[0].save(archival, format="PDF", save_all=True, append_images=frames[1:], resolution=150)
        return EngineOutput(pages, archival, "PDF")


class PacedEngine(InstantEngine):
    """The instant engine at a human pace (for killing a batch mid-way)."""

    def recognize(self, job: OcrJob) -> EngineOutput:
        time.sleep(0.15)  # 4 records to go take ≥ 0.6 s when the test, polling every 0.05 s, sees 2
        return super().recognize(job)


class CrashingEngine(InstantEngine):
    """Its OCR program dies of a segmentation fault on every document."""

    def recognize(self, job: OcrJob) -> EngineOutput:
        crash = ("import os, signal, sys; print('fake tesseract: bad page', file=sys.stderr); "
                 "os.kill(os.getpid(), signal.SIGSEGV)")
        proc = run_in_own_group([sys.executable, "-c", crash], what="fake-tesseract", env=None, cwd=job.workdir.parent,
                                timeout=job.timeout, input_file=job.input_file)
        raise ToolFailedError(failure("fake-tesseract", proc))


class HangingEngine(InstantEngine):
    """Its OCR program never finishes; the document's timeout must stop it.

    The program carries the input's path in its arguments, so a test can check that no
    such process is left.
    """

    def recognize(self, job: OcrJob) -> EngineOutput:
        hang = f"import time; time.sleep({HANG_SECONDS})"
        run_in_own_group([sys.executable, "-c", hang, str(job.input_file)], what="fake-tesseract", env=None,
                         cwd=job.workdir.parent, timeout=job.timeout, input_file=job.input_file)
        raise AssertionError("the hanging program returned")


class VanishingEngine(InstantEngine):
    """Passes the start-up check, but its program is gone when a document comes."""

    def recognize(self, job: OcrJob) -> EngineOutput:
        run_in_own_group(["/nonexistent/fake-tesseract", str(job.input_file)], what="fake-tesseract", env=None,
                         cwd=None, timeout=job.timeout, input_file=job.input_file)
        raise AssertionError("a program that does not exist ran")


class BuggyEngine(InstantEngine):
    """Fails with an exception no engine should raise: a programming error."""

    def recognize(self, job: OcrJob) -> EngineOutput:
        raise KeyError("page-000001")


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line mentions ``marker`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().decode(errors="replace")
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry))
    return found

