"""Statement metadata from three places, merged with a fixed precedence.

Highest first: options given for this run (``--organization`` …), the folder's
``statements.json`` sidecar, then what the file declares itself (front matter, HTML meta,
PDF info). Nothing is invented: a field no source gives stays ``None``.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.dates import is_valid_date
from rag.errors import IngestError
from rag.models import StatementMeta

logger = logging.getLogger(__name__)

SIDECAR = "statements.json"
_FIELDS = tuple(StatementMeta.model_fields)
MAX_META_CHARS = 500  # a title, a name, a URL: longer is a broken or hostile file


class SidecarError(ValueError):
    """The folder's statements.json cannot be used."""


@lru_cache(maxsize=256)
def _read_sidecar(folder: Path, mtime: float) -> dict[str, dict[str, Any]]:
    del mtime  # part of the cache key only
    path = folder / SIDECAR
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SidecarError(f"{path}: not valid JSON ({exc})".splitlines()[0]) from exc
    except RecursionError as exc:  # "[[[[…" thousands deep
        raise SidecarError(f"{path}: nested too deeply") from exc
    if not isinstance(data, dict):
        raise SidecarError(f"{path}: expected an object keyed by file name")
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def sidecar_meta(file: Path) -> StatementMeta:
    """The sidecar entry for ``file`` (by file name), or an empty one.

    A value of the wrong type (a list, an object) is ignored with a warning."""
    folder = file.parent
    sidecar = folder / SIDECAR
    if not sidecar.is_file():
        return StatementMeta()
    entry = _read_sidecar(folder, sidecar.stat().st_mtime).get(file.name, {})
    fields: dict[str, str | None] = {}
    for key in _FIELDS:
        value = entry.get(key)
        if value is None or isinstance(value, str):
            fields[key] = _text(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            fields[key] = _text(str(value))  # "date": 2004
        else:
            logger.warning(
                "%s: %s of %s is a %s, not text: ignored",
                safe_name(str(sidecar)),
                key,
                safe_name(file.name),
                type(value).__name__,
            )
    return StatementMeta(**fields)


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None


def check_date(value: str | None) -> str | None:
    """A date given by the user (``--date``), checked before anything runs.

    Raises:
        IngestError: not ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (a real day).
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not is_valid_date(value):
        raise IngestError(
            f"Not a date: {safe_name(value)!r}", hint="use YYYY, YYYY-MM or YYYY-MM-DD"
        )
    return value


def merge(*layers: StatementMeta | None, where: str = "") -> StatementMeta:
    """First usable value per field, layers given highest precedence first.

    A value over ``MAX_META_CHARS`` or a date that does not parse is ignored with one
    warning (``where`` names the file), and the next layer's value is used instead."""
    merged: dict[str, str | None] = {}
    for field in _FIELDS:
        merged[field] = None
        for layer in layers:
            value = getattr(layer, field) if layer is not None else None
            if not value:
                continue
            problem = _problem(field, value)
            if problem is None:
                merged[field] = value
                break
            logger.warning("%s: %s: ignored", where or "metadata", problem)
    return StatementMeta(**merged)


def _problem(field: str, value: str) -> str | None:
    if len(value) > MAX_META_CHARS:
        return f"{field} is {len(value)} characters, over {MAX_META_CHARS}"
    if field == "date" and not is_valid_date(value):
        return f"date {safe_name(value)!r} is not YYYY[-MM[-DD]]"
    return None


_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a non-UTF-8 file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_name(text: str) -> str:
    """``text`` fit for one line of a report: control characters (newlines, escape
    sequences, bidi overrides) and undecodable bytes of a file name become visible escapes."""
    return _UNSAFE.sub(lambda m: _escape(m.group()), text)


def collapse(text: str) -> str:
    """Runs of whitespace to one space, trimmed."""
    return re.sub(r"\s+", " ", text).strip()


def one_line(exc: BaseException) -> str:
    return collapse(str(exc))
