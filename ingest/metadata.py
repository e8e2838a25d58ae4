"""Statement metadata from three places, merged with a fixed precedence.

Highest first: options given for this run (``--organization`` …), the folder's
``statements.json`` sidecar, then what the file declares itself (front matter, HTML meta,
PDF info). Nothing is invented: a field no source gives stays ``None``.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.dates import is_valid_date
from rag.models import StatementMeta

logger = logging.getLogger(__name__)

SIDECAR = "statements.json"
_FIELDS = tuple(StatementMeta.model_fields)


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
    if not isinstance(data, dict):
        raise SidecarError(f"{path}: expected an object keyed by file name")
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def sidecar_meta(file: Path) -> StatementMeta:
    """The sidecar entry for ``file`` (by file name), or an empty one."""
    folder = file.parent
    sidecar = folder / SIDECAR
    if not sidecar.is_file():
        return StatementMeta()
    entry = _read_sidecar(folder, sidecar.stat().st_mtime).get(file.name, {})
    return StatementMeta(**{k: _text(entry.get(k)) for k in _FIELDS})


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def merge(*layers: StatementMeta | None) -> StatementMeta:
    """First non-empty value per field, layers given highest precedence first."""
    merged: dict[str, str | None] = {}
    for field in _FIELDS:
        merged[field] = next(
            (v for layer in layers if layer is not None and (v := getattr(layer, field))), None
        )
    if merged["date"] and not is_valid_date(merged["date"]):
        logger.warning(
            "date %r is not YYYY[-MM[-DD]]: kept, but date filters skip it", merged["date"]
        )
    return StatementMeta(**merged)
