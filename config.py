"""One settings object, built once: defaults < settings file (TOML) < ``AKTE_*`` env < flags.

The settings file is ``--config FILE`` / ``AKTE_CONFIG``, else ``<archive>/akte.toml`` when it
exists. Stages receive only their slice (``settings.ocr``, ``settings.search`` …).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError

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
    image_dpi: int = 300  # assumed for images that carry no resolution
    timeout_per_page: int = 180  # seconds, for the whole OCR run: timeout_base + this × pages
    timeout_base: int = 60  # seconds per document (start-up, PDF/A), on top of the pages' time
    min_text_chars: int = 20  # a PDF page with fewer characters counts as a scan
    max_image_pixels: int = 200_000_000  # larger images are refused as decompression bombs
    tesseract_timeout: int = 300
    engine: str = "ocrmypdf"  # a registered engine, or "module:object" (ocr/registry.py)


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
    backend: str = "sqlite"  # "sqlite" (embedded default) or "elasticsearch"
    ocr: OcrSettings = field(default_factory=OcrSettings)
    elastic: ElasticSettings = field(default_factory=ElasticSettings)
    classify: ClassifySettings = field(default_factory=ClassifySettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    web: WebSettings = field(default_factory=WebSettings)

    @property
    def workers(self) -> int:
        """Documents processed at once."""
        return self.ocr.workers or max(1, os.cpu_count() or 1)


def default_archive_dir() -> Path:
    """``$XDG_DATA_HOME/aktenarchiv`` (usually ``~/.local/share/aktenarchiv``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "aktenarchiv"


_ENV = {
    # env name: (section or None, key)
    "AKTE_BACKEND": (None, "backend"),
    "AKTE_OCR_LANGUAGES": ("ocr", "languages"),
    "AKTE_OCR_WORKERS": ("ocr", "workers"),
    "AKTE_OCR_DESKEW": ("ocr", "deskew"),
    "AKTE_OCR_ROTATE": ("ocr", "rotate_pages"),
    "AKTE_OCR_ENGINE": ("ocr", "engine"),
    "AKTE_ES_URL": ("elastic", "url"),
    "AKTE_ES_API_KEY": ("elastic", "api_key"),
    "AKTE_ES_USERNAME": ("elastic", "username"),
    "AKTE_ES_PASSWORD": ("elastic", "password"),
    "AKTE_ES_CA_CERT": ("elastic", "ca_cert"),
    "AKTE_ES_INDEX_PREFIX": ("elastic", "index_prefix"),
    "AKTE_REVIEW_THRESHOLD": ("classify", "review_threshold"),
    "AKTE_MODEL": ("classify", "model_path"),
    "AKTE_DECOMPOUND_DICT": ("search", "decompound_dict"),
}
_SECTIONS = {
    "ocr": OcrSettings, "elastic": ElasticSettings, "classify": ClassifySettings, "search": SearchSettings,
    "web": WebSettings,
}


def _coerce(value: Any, current: Any, name: str) -> Any:
    """Convert a TOML/env value to the type of the default it replaces."""
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if isinstance(current, int):
            return int(value)
        if isinstance(current, float):
            return float(value)
        if isinstance(current, tuple) and isinstance(value, list):
            return tuple(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name}: {value!r} is not a valid {type(current).__name__}")
    return value


def _apply(section_obj: Any, values: Mapping[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(section_obj)}
    changes = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        changes[key] = _coerce(value, getattr(section_obj, key), f"{where}.{key}")
    return replace(section_obj, **changes)


def _rules_from_toml(raw: Mapping[str, Any]) -> tuple:
    rules = []
    for doc_type, spec in raw.items():
        if not isinstance(spec, Mapping):
            raise ConfigError(f"[classify.rules.{doc_type}] must be a table with keywords/patterns")
        rules.append((doc_type, tuple(spec.get("keywords", ())), tuple(spec.get("patterns", ()))))
    return tuple(rules)


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
        try:
            data = tomllib.loads(Path(cfg_path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"settings file {cfg_path}: {exc.strerror or exc}")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"settings file {cfg_path}: {exc}")
        settings = _merge_file(settings, data, str(cfg_path))

    for name, (section, key) in _ENV.items():
        if env.get(name) not in (None, ""):
            settings = _set(settings, section, key, env[name], name)
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        section, _, key = dotted.rpartition(".")
        settings = _set(settings, section or None, key, value, f"--{key.replace('_', '-')}")

    if settings.backend not in ("sqlite", "elasticsearch"):
        raise ConfigError(f"backend {settings.backend!r}: use 'sqlite' or 'elasticsearch'")
    return settings


def _set(settings: Settings, section: str | None, key: str, value: Any, where: str) -> Settings:
    if section is None:
        return replace(settings, **{key: _coerce(value, getattr(settings, key), where)})
    return replace(settings, **{section: _apply(getattr(settings, section), {key: value}, where)})


def _merge_file(settings: Settings, data: Mapping[str, Any], where: str) -> Settings:
    for key, value in data.items():
        if key == "backend":
            settings = replace(settings, backend=str(value))
        elif key in _SECTIONS and isinstance(value, Mapping):
            values = dict(value)
            if key == "classify" and "rules" in values:
                rules = _rules_from_toml(values.pop("rules"))
                settings = replace(settings, classify=replace(settings.classify, rules=rules))
            settings = replace(settings, **{key: _apply(getattr(settings, key), values, f"{where} [{key}]")})
        else:
            raise ConfigError(f"{where}: unknown setting or section {key!r}")
    return settings
