"""Where settings come from: the settings file (TOML), ``AKTE_*`` variables and flags.

Every value is checked against its field's type before it replaces a default: a string (all
an environment variable holds) is parsed, anything else must already have the right type, and
an unknown section or key is refused with its place named. :func:`.config.load_settings`
applies the sources in their order and checks what spans several fields.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Mapping, TypeVar, get_type_hints

from .errors import ConfigError

_S = TypeVar("_S")  # the settings object (config.Settings)

RULE_FLAGS = re.IGNORECASE | re.MULTILINE  # how rule patterns are compiled (classify/rules.py)


ENV_VARIABLES = {
    # env name: (section or None, key)
    "AKTE_BACKEND": (None, "backend"),
    "AKTE_OCR_LANGUAGES": ("ocr", "languages"),
    "AKTE_OCR_WORKERS": ("ocr", "workers"),
    "AKTE_OCR_IN_PROCESS": ("ocr", "in_process"),
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
    "AKTE_OPERATOR": ("transfer", "operator"),
    "AKTE_SCANNER": ("transfer", "scanner"),
    "AKTE_SCAN_PROFILE": ("transfer", "profile"),
    "AKTE_SCHUTZBEDARF": ("transfer", "schutzbedarf"),
}
_POSITIVE = frozenset({"image_dpi", "timeout_per_page", "max_image_pixels", "tesseract_timeout", "timeout"})
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _coerce(value: Any, hint: Any, name: str, key: str = "") -> Any:
    """Check a settings-file, environment or flag value against the field's type.

    Strings (all an environment variable can hold) are parsed into booleans and numbers;
    any other value must already have the field's type: ``workers = "vier"``, ``deskew = 5``
    or ``languages = 3`` are refused, never silently converted.

    Raises:
        ConfigError: naming ``name`` (file and key, or the variable) and what was expected.
    """
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise ConfigError(f"{name}: {value!r} is not true or false")
    if hint in (int, float):
        number = _number(value, hint, name)
        if key == "review_threshold" and not 0 <= number <= 1:
            raise ConfigError(f"{name}: {value!r} must lie between 0 and 1")
        if number < 0 or (number == 0 and key in _POSITIVE):
            raise ConfigError(f"{name}: {value!r} must be {'above' if key in _POSITIVE else 'at least'} 0")
        return number
    if hint in (str, str | None):
        if isinstance(value, str):
            return value
        raise ConfigError(f"{name}: {value!r} is not a text (write it in quotes)")
    if hint == tuple[str, ...]:
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) and v.strip() for v in value):
            return tuple(value)
        raise ConfigError(f"{name}: {value!r} is not a non-empty list of texts")
    raise ConfigError(f"{name}: cannot be set here")


def _number(value: Any, hint: type, name: str) -> int | float:
    kind = "whole number" if hint is int else "number"
    if isinstance(value, str):
        try:
            value = hint(value.strip())
        except ValueError:
            raise ConfigError(f"{name}: {value!r} is not a {kind}") from None
    # bool is an int subclass: `workers = true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (hint is int and isinstance(value, float)):
        raise ConfigError(f"{name}: {value!r} is not a {kind}")
    if not math.isfinite(value):
        raise ConfigError(f"{name}: {value!r} is not a finite {kind}")
    return hint(value)


def _apply(section_obj: Any, values: Mapping[str, Any], where: str) -> Any:
    hints = get_type_hints(type(section_obj))
    known = {f.name for f in fields(section_obj)} - {"rules"}
    changes = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        changes[key] = _coerce(value, hints[key], f"{where} {key}" if where.endswith("]") else where, key)
    return replace(section_obj, **changes)


def _rules_from_toml(raw: Any, where: str) -> tuple:
    """``[classify.rules.<type>]`` tables → ``ClassifySettings.rules``; every regex is compiled here,
    so a broken one stops the run before any OCR starts."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} [classify] rules: {raw!r} is not a table; write [classify.rules.<type>] tables")
    rules = []
    for doc_type, spec in raw.items():
        name = f"{where} [classify.rules.{doc_type}]"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{name}: {spec!r} is not a table with keywords/patterns")
        unknown = set(spec) - {"keywords", "patterns"}
        if unknown:
            raise ConfigError(f"{name}: unknown setting {sorted(unknown)[0]!r} (known: keywords, patterns)")
        keywords, patterns = (
            _coerce(spec[key], tuple[str, ...], f"{name} {key}") if key in spec else ()
            for key in ("keywords", "patterns")
        )
        for pattern in patterns:
            try:
                re.compile(pattern, RULE_FLAGS)
            except re.error as exc:
                raise ConfigError(f"{name} pattern {pattern!r}: {exc}") from None
        rules.append((doc_type, keywords, patterns))
    return tuple(rules)


def read_toml(path: str | Path) -> dict[str, Any]:
    """The parsed settings file; only a regular UTF-8 file is opened (a FIFO would block).

    Raises:
        ConfigError: naming the file and what is wrong with it.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ConfigError(f"settings file {path}: not a regular file")
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"settings file {path}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"settings file {path}: not UTF-8 (byte {raw[exc.start]:#04x} in line {line}); save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path}: {exc}") from None


def set_value(settings: _S, section: str | None, key: str, value: Any, where: str) -> _S:
    """``settings`` with one value (of an environment variable or a flag) set, after checking it.

    Args:
        settings: the settings built so far.
        section: the slice the key belongs to (``"ocr"`` …), or None for a top-level key.
        key: the field's name.
        value: the value as given (a string from the environment).
        where: what set it, for the message (``AKTE_OCR_WORKERS``, ``--backend``).
    """
    if section is None:
        return replace(settings, **{key: _coerce(value, str, where)})
    return replace(settings, **{section: _apply(getattr(settings, section), {key: value}, where)})


def merge_file(settings: _S, data: Mapping[str, Any], where: str) -> _S:
    """``settings`` with the values of a parsed settings file (:func:`read_toml`); every
    section, key and value is checked, so a typo stops the run with its place named."""
    sections = {f.name for f in fields(settings) if is_dataclass(getattr(settings, f.name))}
    for key, value in data.items():
        if key == "backend":
            settings = replace(settings, backend=_coerce(value, str, f"{where} backend"))
        elif key in sections:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where} [{key}]: {value!r} is not a table; write a [{key}] section")
            values = dict(value)
            if key == "classify" and "rules" in values:
                rules = _rules_from_toml(values.pop("rules"), where)
                settings = replace(settings, classify=replace(settings.classify, rules=rules))
            settings = replace(settings, **{key: _apply(getattr(settings, key), values, f"{where} [{key}]")})
        else:
            raise ConfigError(f"{where}: unknown setting or section {key!r}")
    return settings
