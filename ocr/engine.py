"""The OCR engine seam: what the ocr stage asks of an engine, and what it gets back.

The stage (:mod:`.recognize`) decides which pages need OCR at all (born-digital pages are
read from their text layer) and merges the result; an engine only recognises the pages it
is given and may make an archival PDF. The engine in use is named by ``settings.ocr.engine``
(:mod:`.registry`): ``ocrmypdf`` (Tesseract through ocrmypdf, the default) or, for tests
and outside engines, a ``module:object`` import path, in the spirit of ocrmypdf's
``--plugin`` and its ``OcrEngine``.

Contract, which the pipeline's handling of failures rests on:

- :meth:`OcrEngine.check` raises :class:`MissingToolError` when the engine cannot run at
  all (the run stops with exit code 3 before touching the archive);
- :meth:`OcrEngine.recognize` raises :class:`ToolFailedError` for a document the engine
  could not process (it is quarantined with the message), :class:`MissingToolError` when
  a program vanished mid-run, and anything else only on a bug;
- programs are run through :func:`.tools.process.run_in_own_group`, so that the timeout
  and a worker's stop request end them with all their children.

An engine may also define ``analyse_page`` with the signature of :func:`.pagecheck.analyse_page`;
the scan station then analyses each page with it instead (the real analysis runs Tesseract
to find the page's orientation; the fake engines of the fast test tier skip that).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..config import OcrSettings
from ..models import PageText, SourceFile


@dataclass(frozen=True, slots=True)
class OcrJob:
    """One document for an engine. Engines run in worker processes, so this pickles."""

    source: SourceFile
    # The file to recognise, absolute: the original, or the scan station's prepared copy of it
    # (pages upright, blank pages perhaps left out). Read it, never change it (work copies go to workdir).
    input_file: Path
    workdir: Path  # an empty folder owned by this job (absolute)
    settings: OcrSettings
    skip_pages: tuple[int, ...]  # pages of input_file that carry a text layer: keep them as they are
    jobs: int  # pages the engine may recognise at once
    timeout: float  # seconds for the whole document
    # True: the scan station turned every page upright and tagged every image with its effective
    # resolution; the engine neither rotates pages nor imposes settings.image_dpi.
    prepared: bool = False


@dataclass(frozen=True, slots=True)
class EngineOutput:
    """What an engine made of a document: its recognised pages, perhaps an archival PDF.

    A page the engine was given but that is missing from ``pages`` is blank.
    """

    pages: tuple[PageText, ...]
    archival_pdf: Path | None = None
    archival_format: str | None = None  # "PDF/A-2B", "PDF", … as the file declares it


class OcrEngine(Protocol):
    """An OCR engine (see the module docstring for the contract)."""

    def check(self, settings: OcrSettings) -> None:
        """Raise MissingToolError unless the engine can run with these settings."""
        ...

    def version(self) -> str:
        """The engine and its version, for the record (``tesseract 5.3.0 / 16.10.4``)."""
        ...

    def recognize(self, job: OcrJob) -> EngineOutput:
        """Recognise the pages of ``job.input_file`` that are not in ``job.skip_pages``."""
        ...
