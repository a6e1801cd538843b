"""One settings object, built once: defaults < settings file (TOML) < ``AKTE_*`` env < flags.

The settings file is ``--config FILE`` / ``AKTE_CONFIG``, else ``<archive>/akte.toml`` when it
exists. Stages receive only their slice (``settings.ocr``, ``settings.search`` …). How each
source is read and its values checked (the file, the variables, flags): :mod:`.config_sources`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import unquote

from .config_sources import ENV_VARIABLES, merge_file, read_toml, set_value
from .errors import ConfigError
from .states import BackendName

DEFAULT_TAXONOMY = (
    "antrag",
    "bescheid",
    "rechnung",
    "vertrag",
    "widerspruch",
    "protokoll",
    "urkunde",
    "personal",
    "korrespondenz",
    "sonstiges",
)


@dataclass(frozen=True, slots=True)
class OcrSettings:
    """How scans are recognised and turned into archival PDFs."""

    languages: str = "deu+eng"
    rotate_pages: bool = True
    deskew: bool = True
    workers: int = 0  # documents OCRed at once; 0 = one per CPU core
    # OCR in the main process, one document at a time, instead of in worker processes: no
    # isolation from a crashing OCR library. For a debugger, and the fast tier's fake engines.
    in_process: bool = False
    image_dpi: int = 300  # assumed for images that carry no resolution
    timeout_per_page: int = 180  # seconds, for the whole OCR run: timeout_base + this × pages
    timeout_base: int = 60  # seconds per document (start-up, PDF/A), on top of the pages' time
    min_text_chars: int = 20  # a PDF page with fewer characters counts as a scan
    max_image_pixels: int = 200_000_000  # larger images are refused as decompression bombs
    tesseract_timeout: int = 300
    engine: str = "direct"  # a registered engine ("direct", "ocrmypdf"), or "module:object" (ocr/registry.py)


@dataclass(frozen=True, slots=True)
class ElasticSettings:
    """Connection to an Elasticsearch cluster (``AKTE_BACKEND=elasticsearch``)."""

    url: str = field(default="http://127.0.0.1:9200", repr=False)  # may carry user:password
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_cert: str | None = None
    index_prefix: str = "akte"
    timeout: float = 30.0

    def secrets(self) -> tuple[str, ...]:
        """Every text that must never be printed: password, API key and the URL's user info,
        as written and percent-decoded (see :func:`redact`)."""
        bare = {self.password, self.api_key}
        userinfo = url_userinfo(self.url)
        password = userinfo.partition(":")[2]
        bare.update({password, unquote(password)})
        # A bare secret of under 4 characters would turn every such letter group into ***;
        # the user info as a whole (with its ':') is always distinctive.
        found = {s for s in bare if s and len(s) >= 4} | {s for s in (userinfo, unquote(userinfo)) if s}
        return tuple(sorted(found, key=len, reverse=True))


@dataclass(frozen=True, slots=True)
class ClassifySettings:
    """Document types, rules and the learned model."""

    taxonomy: tuple[str, ...] = DEFAULT_TAXONOMY
    review_threshold: float = 0.6
    model_path: str | None = None  # None: <archive>/model/classifier.zip if trained, else the shipped one
    rules: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()  # (type, keywords, regexes)


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """German search analysis, the same for every backend."""

    decompound_dict: str | None = None  # hunspell .dic for splitting compounds; None: Debian's de_DE


SCHUTZBEDARF = ("normal", "hoch", "sehr-hoch")


@dataclass(frozen=True, slots=True)
class TransferSettings:
    """What the Transfervermerk of each scan says (README "Ersetzendes Scannen")."""

    operator: str = ""  # who scans; empty: the operating-system user running akte
    scanner: str = ""  # e.g. "Fujitsu fi-7160 (Inv.-Nr. 4711)"
    profile: str = ""  # e.g. "300 dpi Graustufen, duplex"
    schutzbedarf: str = "normal"  # protection need: normal | hoch | sehr-hoch
    sample_normal: float = 0.05  # share of pages a person checks at "normal" (chosen at random, recorded)
    sample_hoch: float = 0.2  # ... at "hoch" (plus a second person's approval); "sehr-hoch": every page


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """The scan station: page checks, blank pages and separator sheets (README "Scan station")."""

    osd_min_confidence: float = 2.0  # Tesseract OSD's answer is tried first from here on
    min_confidence: float = 60.0  # mean word confidence below this: "low-confidence"
    min_dictionary_share: float = 0.3  # fewer German words than this: the orientation is re-checked
    orientation_margin: float = 0.1  # best and second-best orientation closer than this: "orientation-uncertain"
    review_dpi: int = 200  # effective resolution below this: "low-dpi"
    rescan_dpi: int = 150  # below this: "rescan-dpi"
    max_skew: float = 1.0  # degrees of residual skew: "skewed"
    blank_max_ink: float = 0.0005  # ink share of a blank page (after dust and border removal)
    blank_max_marks: int = 4  # ... with at most this many marks (hole punches, a stray dot)
    dark_page_share: float = 0.5  # share of dark pixels: "dark-page"
    dark_border_share: float = 0.02  # share of dark scanner border: "dark-border"
    keep_blank_pages: bool = True  # the archival PDF keeps blank pages (the original always does)
    split: str = "separator"  # "separator" or "none"
    separator_pattern: str = r"^PATCHT$"  # barcode value of a separator sheet
    reference_pattern: str = r"^AZ:\s*(?P<ref>\S.*)$"  # barcode value that sets the next document's Aktenzeichen


@dataclass(frozen=True, slots=True)
class WebSettings:
    """The clerks' web archive (``akte serve``): default scopes per role, sessions, sign-in limits.

    A scope lists document types; ``""`` stands for unclassified records. ``personal`` is in no
    default: personnel files are only for users given that type by ``akte user add --types``.
    """

    clerk_types: tuple[str, ...] = tuple(t for t in DEFAULT_TAXONOMY if t != "personal")
    records_types: tuple[str, ...] = tuple(t for t in DEFAULT_TAXONOMY if t != "personal") + ("",)
    session_idle_minutes: int = 30
    secure_cookies: bool = False  # set true behind HTTPS: the session cookie then never travels in clear
    login_max_failures: int = 5  # per user name and per client address …
    login_window_seconds: int = 900  # … within this window; then sign-in waits until it passes


@dataclass(frozen=True, slots=True)
class Settings:
    """All settings of one run."""

    archive_dir: Path
    backend: BackendName = BackendName.SQLITE
    ocr: OcrSettings = field(default_factory=OcrSettings)
    elastic: ElasticSettings = field(default_factory=ElasticSettings)
    classify: ClassifySettings = field(default_factory=ClassifySettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    transfer: TransferSettings = field(default_factory=TransferSettings)
    web: WebSettings = field(default_factory=WebSettings)

    @property
    def workers(self) -> int:
        """Documents processed at once."""
        return self.ocr.workers or max(1, os.cpu_count() or 1)


def url_userinfo(url: str) -> str:
    """The ``user:password`` part of a URL, however malformed, or "".

    It runs from the scheme's ``//`` (or the start) to the *last* ``@``: an unencoded password
    may hold ``/``, ``?``, ``#`` and ``@``, so the last ``@`` is the only end that can never
    leave part of it outside (an ``@`` in a path only makes this redact more than needed).
    """
    at = url.rfind("@")
    if at < 0:
        return ""
    scheme = url.find("//")
    return url[scheme + 2 if 0 <= scheme < at else 0:at]


def redact_url(url: str) -> str:
    """The URL without its user info, safe to print (``http://u:p/w@host:9200`` → ``http://host:9200``)."""
    at = url.rfind("@")
    if at < 0:
        return url
    return url[: at - len(url_userinfo(url))] + url[at + 1 :]


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret (longest first) replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def default_archive_dir() -> Path:
    """``$XDG_DATA_HOME/aktenarchiv`` (usually ``~/.local/share/aktenarchiv``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "aktenarchiv"


def load_settings(
    archive_dir: str | Path | None = None,
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the one ``Settings`` of a run.

    Args:
        archive_dir: ``--archive`` flag; falls back to ``AKTE_ARCHIVE``, then the XDG default.
        config_file: ``--config`` flag; falls back to ``AKTE_CONFIG``, then ``<archive>/akte.toml``.
        overrides: flag values as ``{"backend": ..., "ocr.languages": ...}``; None values ignored.
        environ: the environment (``os.environ`` when None).
    """
    env = os.environ if environ is None else environ
    archive = Path(archive_dir or env.get("AKTE_ARCHIVE") or default_archive_dir()).expanduser()
    settings = Settings(archive_dir=archive.absolute())

    cfg_path = config_file or env.get("AKTE_CONFIG")
    if cfg_path is None and (archive / "akte.toml").is_file():
        cfg_path = archive / "akte.toml"
    if cfg_path is not None:
        settings = merge_file(settings, read_toml(cfg_path), f"settings file {cfg_path}")

    for name, (section, key) in ENV_VARIABLES.items():
        if env.get(name) not in (None, ""):
            settings = set_value(settings, section, key, env[name], name)
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        section, _, key = dotted.rpartition(".")
        settings = set_value(settings, section or None, key, value, f"--{key.replace('_', '-')}")

    if settings.scan.split not in ("separator", "none"):
        raise ConfigError(f"scan.split {settings.scan.split!r}: use 'separator' or 'none'")
    for name in ("separator_pattern", "reference_pattern"):
        try:
            re.compile(getattr(settings.scan, name))
        except re.error as exc:
            raise ConfigError(f"scan.{name}: not a valid regular expression ({exc})")
    settings = replace(settings, backend=backend_name(settings.backend))
    taxonomy = settings.classify.taxonomy
    for doc_type, _, _ in settings.classify.rules:
        if doc_type not in taxonomy:
            raise ConfigError(f"settings file {cfg_path} [classify.rules.{doc_type}]: {doc_type!r} is not in "
                              f"the taxonomy ({', '.join(taxonomy)})")
    if settings.transfer.schutzbedarf not in SCHUTZBEDARF:
        raise ConfigError(f"schutzbedarf {settings.transfer.schutzbedarf!r}: use {', '.join(SCHUTZBEDARF)}")
    for name in ("sample_normal", "sample_hoch"):
        if not 0.0 <= getattr(settings.transfer, name) <= 1.0:
            raise ConfigError(f"transfer.{name}: a share between 0 and 1, e.g. 0.05")
    return settings


def backend_name(value: str) -> BackendName:
    """The backend a setting or flag names; raises ConfigError for any other."""
    try:
        return BackendName(value)
    except ValueError:
        raise ConfigError(f"backend {value!r}: use {BackendName.choices()}") from None
