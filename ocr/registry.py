"""The OCR engine registry: which engine ``settings.ocr.engine`` names.

A registered name (``ocrmypdf``, the default), or a ``module:object`` import path for an
engine that lives outside the package (the fake engines of the test suite, a site's own
engine); the object is an engine or a class made without arguments. Like every setting it
comes from the administrator's settings file, environment (``AKTE_OCR_ENGINE``) or flags,
never from an input. It sits above the interface (:mod:`.engine`) and the engines.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Callable

from ..errors import ConfigError
from .engine import OcrEngine


def _ocrmypdf() -> OcrEngine:
    from .ocrmypdf_engine import OcrmypdfEngine

    return OcrmypdfEngine()


def _direct() -> OcrEngine:
    from .direct import DirectEngine

    return DirectEngine()


ENGINES: dict[str, Callable[[], OcrEngine]] = {"ocrmypdf": _ocrmypdf, "direct": _direct}
_METHODS = ("check", "version", "recognize")


@lru_cache(maxsize=8)
def get_engine(name: str) -> OcrEngine:
    """The engine ``name`` stands for (one instance per process and name).

    Raises:
        ConfigError: no such engine, or the object named is not one.
    """
    if name in ENGINES:
        return ENGINES[name]()
    module_name, sep, attr = name.partition(":")
    if not (sep and module_name and attr):
        raise ConfigError(f"OCR engine {name!r}: use {', '.join(sorted(ENGINES))} or a module:object import path")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"OCR engine {name!r}: cannot import {module_name}: {exc}") from None
    found = getattr(module, attr, None)
    engine = found() if isinstance(found, type) else found
    if engine is None or not all(callable(getattr(engine, m, None)) for m in _METHODS):
        raise ConfigError(f"OCR engine {name!r} is not an OCR engine (needs {', '.join(_METHODS)})")
    return engine
