"""Which files an ingest reads, and what happened to each (:class:`FileOutcome`).

Folders are walked iteratively and to a bounded depth; files of other types are reported
rather than silently ignored; every outcome is safe to print on one line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.metadata import SIDECAR, one_line, safe_name

Status = Literal["new", "updated", "unchanged", "skipped", "removed"]


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file. ``path`` and ``reason`` are safe to print on one line:
    control characters and undecodable bytes of a file name are escaped."""

    path: str
    status: Status
    statement_id: str | None = None
    passages: int = 0
    reason: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", safe_name(self.path))
        if self.reason is not None:
            object.__setattr__(self, "reason", safe_name(self.reason))


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Statement files under ``paths`` (files or folders), plus paths that cannot be used.

    Folders are walked without following symlinked folders (no loops) and no deeper than
    ``MAX_DEPTH``; inside folders, hidden files and the sidecar are ignored, and a file of
    another type is reported (``skipped: .docx is not supported``).
    """
    files: list[Path] = []
    problems: list[FileOutcome] = []
    for root in paths:
        try:
            if root.is_dir():
                _walk(root, files, problems)
            elif root.exists() or root.is_symlink():
                files.append(root)
            else:
                problems.append(FileOutcome(str(root), "skipped", reason="no such file or folder"))
        except OSError as exc:
            problems.append(FileOutcome(str(root), "skipped", reason=f"unreadable: {exc.strerror}"))
    return _unique(files), problems


MAX_DEPTH = 64  # folders below this are reported, not walked
_SUPPORTED = ".txt, .md, .html, .pdf, .docx"


def _walk(root: Path, files: list[Path], problems: list[FileOutcome]) -> None:
    """Iterative (``os.walk`` recurses: 2,000 nested folders raised RecursionError)."""
    inside = Path(os.path.realpath(root))
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listing = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            reason = f"unreadable folder: {exc.strerror or one_line(exc)}"
            problems.append(FileOutcome(str(folder), "skipped", reason=reason))
            continue
        subfolders = []
        for entry in listing:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
                linked = entry.is_symlink()
            except OSError:
                is_dir = linked = False
            path = Path(entry.path)
            if is_dir and linked:
                continue  # a symlinked folder is not followed (no loops)
            if is_dir:
                subfolders.append(path)
            elif name == SIDECAR:
                continue
            elif linked and path.exists() and not _within(path, inside):
                # ``passwd.txt -> /etc/passwd`` must not become a searchable statement
                # (a dangling link reads nothing: the loader says it is dangling)
                reason = "a symlink to a file outside the folder is not followed"
                problems.append(FileOutcome(str(path), "skipped", reason=reason))
            elif path.suffix.lower() in SUPPORTED_SUFFIXES:
                files.append(path)
            else:
                kind = path.suffix.lower() or "a file without an extension"
                reason = f"{kind} is not supported (use {_SUPPORTED})"
                problems.append(FileOutcome(str(path), "skipped", reason=reason))
        if subfolders and depth >= MAX_DEPTH:
            reason = f"folders nested deeper than {MAX_DEPTH} levels are not read"
            problems.append(FileOutcome(str(folder), "skipped", reason=reason))
            continue
        stack.extend((sub, depth + 1) for sub in reversed(subfolders))


def _within(link: Path, folder: Path) -> bool:
    """Whether ``link`` resolves to a file inside ``folder`` (itself resolved)."""
    return Path(os.path.realpath(link)).is_relative_to(folder)


def _unique(files: list[Path]) -> list[Path]:
    """Each file once, even when named both directly and through its folder."""
    seen: set[Path] = set()
    result = []
    for path in files:
        key = path.absolute() if path.is_symlink() else path.resolve()
        if key not in seen:
            seen.add(key)
            result.append(path)
    return result
