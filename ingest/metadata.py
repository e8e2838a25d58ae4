"""Statement metadata from three places, merged with a fixed precedence.

Highest first: options given for this run (``--organization`` …), the folder's
``statements.json`` sidecar, then what the file declares itself (front matter, HTML meta,
PDF info). Nothing is invented: a field no source gives stays ``None``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.dates import is_valid_date
from rag.errors import IngestError
from rag.models import StatementMeta

logger = logging.getLogger(__name__)

SIDECAR = "statements.json"
_FIELDS = tuple(StatementMeta.model_fields)
MAX_META_CHARS = 500  # a title, a name, a URL: longer is a broken or hostile file


class SidecarError(ValueError):
    """The folder's statements.json cannot be used."""


@dataclass(frozen=True)
class Sidecar:
    """A ``statements.json`` after validation: what may be stored, and what was not."""

    entries: dict[str, dict[str, str]]  # file name -> field -> a usable value
    problems: dict[str, list[str]]  # file name ("" for the file as a whole) -> lines


def parse_sidecar(text: str, where: str = SIDECAR) -> Sidecar:
    """Validate a ``statements.json``: the one check for the CLI's sidecars and the UI's
    uploaded ones, so both store exactly the same values.

    Kept: entries keyed by a plain file name (no folder, no ``..``: a key must not reach
    another folder's file), with text values (a number is a year: ``"date": 2004``) that
    pass :func:`merge`'s checks (length, a real date, no script URL as the source).
    Anything else is left out, with one line in ``problems``; unknown fields are dropped.

    Raises:
        SidecarError: not JSON, nested too deeply, or not an object.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SidecarError(f"{where}: not valid JSON ({exc})".splitlines()[0]) from exc
    except RecursionError as exc:  # "[[[[…" thousands deep
        raise SidecarError(f"{where}: nested too deeply") from exc
    if not isinstance(data, dict):
        raise SidecarError(f"{where}: expected an object keyed by file name")
    entries: dict[str, dict[str, str]] = {}
    problems: dict[str, list[str]] = {}
    for key, entry in data.items():
        name = str(key)
        if not _is_file_name(name):
            problems.setdefault("", []).append(f"{safe_name(name)!r} is not a file name: ignored")
            continue
        if not isinstance(entry, dict):
            kind = type(entry).__name__
            problems.setdefault("", []).append(
                f"{safe_name(name)}: a {kind}, not an object: ignored"
            )
            continue
        fields: dict[str, str] = {}
        for field in _FIELDS:
            value = entry.get(field)
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)  # "date": 2004
            if value is not None and not isinstance(value, str):
                kind = type(value).__name__
                problems.setdefault(name, []).append(
                    f"{field} of {safe_name(name)} is a {kind}, not text: ignored"
                )
                continue
            value = _text(value)
            problem = _problem(field, value) if value else None
            if problem:
                problems.setdefault(name, []).append(f"{safe_name(name)}: {problem}: ignored")
            elif value:
                fields[field] = value
        entries[name] = fields
    return Sidecar(entries, problems)


def _is_file_name(name: str) -> bool:
    """A plain file name: no folder part (either slash), not ``.``/``..``, no controls."""
    return (
        name == Path(name).name
        and "\\" not in name
        and name not in ("", ".", "..")
        and not _UNSAFE.search(name)
    )


@lru_cache(maxsize=256)
def _read_sidecar(folder: Path, mtime: float) -> Sidecar:
    del mtime  # part of the cache key only
    path = folder / SIDECAR
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SidecarError(f"{path}: not valid JSON ({exc})".splitlines()[0]) from exc
    return parse_sidecar(text, str(path))


def sidecar_meta(file: Path) -> StatementMeta:
    """The sidecar entry for ``file`` (by file name), or an empty one.

    A value that cannot be used (a list, an object, too long, not a date) is ignored
    with a warning."""
    folder = file.parent
    sidecar = folder / SIDECAR
    if not sidecar.is_file():
        return StatementMeta()
    parsed = _read_sidecar(folder, sidecar.stat().st_mtime)
    for line in parsed.problems.get(file.name, ()):
        logger.warning("%s: %s", safe_name(str(sidecar)), line)
    return StatementMeta(**parsed.entries.get(file.name, {}))


def update_sidecar(folder: Path, entries: dict[str, dict[str, str]], replace: bool) -> None:
    """Write ``entries`` into ``folder``'s ``statements.json`` (atomically): each replaces
    its file's entry (``replace``) or overrides only the fields it names. Entries are
    validated like any sidecar; an earlier sidecar that no longer parses is replaced."""
    target = folder / SIDECAR
    merged: dict[str, dict[str, str]] = {}
    # none yet, or damaged: it is only the metadata of earlier uploads
    with contextlib.suppress(OSError, UnicodeDecodeError, SidecarError):
        merged = parse_sidecar(target.read_text(encoding="utf-8"), str(target)).entries
    checked = parse_sidecar(json.dumps(entries), str(target)).entries
    for name, fields in checked.items():
        merged[name] = fields if replace else {**merged.get(name, {}), **fields}
    _write_sidecar(target, merged)


def remove_from_sidecar(folder: Path, names: Sequence[str]) -> None:
    """Drop the entries of ``names`` from ``folder``'s ``statements.json`` (if any): the
    metadata of uploads that are removed, so that a later file of that name does not
    inherit it."""
    target = folder / SIDECAR
    try:
        entries = parse_sidecar(target.read_text(encoding="utf-8"), str(target)).entries
    except (OSError, UnicodeDecodeError, SidecarError):
        return
    if not any(name in entries for name in names):
        return
    kept = {name: fields for name, fields in entries.items() if name not in names}
    _write_sidecar(target, kept)


def _write_sidecar(target: Path, entries: dict[str, dict[str, str]]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(entries, ensure_ascii=False, indent=2), encoding="utf-8")
    temporary.replace(target)


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
    if field == "source" and _SCRIPT_URL.match(_URL_NOISE.sub("", value)):
        return f"source {safe_name(value[:60])!r} is not a link that may be opened"
    return None


# A source is shown and may become a link: never one that runs or reads local files.
# Browsers drop whitespace and control characters inside a scheme ("java\tscript:").
_URL_NOISE = re.compile(r"[\s\x00-\x1f]+")
_SCRIPT_URL = re.compile(r"(?i)(javascript|vbscript|data|file|blob):")


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
