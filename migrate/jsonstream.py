"""Read the elements of a large top-level JSON array one at a time.

Migration sources (paperless-ngx's ``manifest.json``, metadata files) can describe
hundreds of thousands of documents; ``json.load`` would hold them all in memory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

_CHUNK = 1 << 16
_decoder = json.JSONDecoder()


class JsonStreamError(ValueError):
    """The file is not a JSON array of values; carries the byte offset."""


def iter_json_array(path: Path, encoding: str = "utf-8") -> Iterator[Any]:
    """Yield each element of the JSON array in ``path``; memory stays that of one element.

    Raises:
        JsonStreamError: not a JSON array, invalid JSON, or not text in ``encoding``.
    """
    try:
        yield from _iter_array(path, encoding)
    except UnicodeDecodeError as exc:
        raise JsonStreamError(f"not {encoding} text ({exc})") from None
    except RecursionError:
        raise JsonStreamError("JSON nested too deeply") from None


def _iter_array(path: Path, encoding: str) -> Iterator[Any]:
    with open(path, encoding=encoding) as fh:
        buf = ""
        pos = 0
        eof = False
        consumed = 0  # characters dropped from the front of buf, for error offsets

        def fill() -> bool:
            nonlocal buf, pos, eof, consumed
            if eof:
                return False
            chunk = fh.read(_CHUNK)
            if not chunk:
                eof = True
                return False
            consumed += pos
            buf = buf[pos:] + chunk
            pos = 0
            return True

        def skip_ws() -> None:
            nonlocal pos
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n":
                    pos += 1
                if pos < len(buf) or not fill():
                    return

        skip_ws()
        if pos >= len(buf) or buf[pos] != "[":
            raise JsonStreamError("expected a JSON array at the start")
        pos += 1
        first = True
        while True:
            skip_ws()
            if pos >= len(buf):
                raise JsonStreamError("the array is not closed (file truncated?)")
            if buf[pos] == "]":
                return
            if not first:
                if buf[pos] != ",":
                    raise JsonStreamError(f"expected ',' at character {consumed + pos}")
                pos += 1
                skip_ws()
            while True:
                try:
                    value, end = _decoder.raw_decode(buf, pos)
                except json.JSONDecodeError as exc:
                    # Perhaps the element runs past the buffer: read more and try again.
                    if fill():
                        continue
                    raise JsonStreamError(f"invalid JSON at character {consumed + exc.pos}: {exc.msg}") from None
                # A number at the buffer's end may continue in the next chunk.
                if end == len(buf) and not eof and fill():
                    continue
                break
            pos = end
            first = False
            yield value
