"""Where a statement's file is, as the store records it: portable across moves of RAG_HOME.

A file inside the data directory (an upload) is recorded relative to it, as
``$RAG_HOME/uploads/name.txt``, so moving or restoring ``RAG_HOME`` elsewhere keeps it
found; any other file keeps its absolute path. Stores written before this recorded
uploads absolutely: ``stored_form`` reads such a path as the relative one while the file
is still under the current data directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

HOME_PREFIX = "$RAG_HOME/"


def _home(home: Path) -> Path:
    return Path(home).expanduser().absolute().resolve()


def to_stored(path: Path | str, home: Path) -> str:
    """The recorded form of an absolute file path (resolved as ingest resolves it)."""
    path = Path(path)
    root = _home(home)
    if path.is_relative_to(root):
        return HOME_PREFIX + path.relative_to(root).as_posix()
    return str(path)


def local_path(stored: str, home: Path) -> Path:
    """The file a recorded path names on this machine now."""
    if stored.startswith(HOME_PREFIX):
        return _home(home) / stored.removeprefix(HOME_PREFIX)
    return Path(stored)


def is_web(stored: str) -> bool:
    """A web page's statement: its recorded identity is its URL, not a file."""
    return stored.startswith(("http://", "https://"))


def stored_form(stored: str | None, home: Path) -> str | None:
    """A recorded path as ``to_stored`` would write it today (None stays None)."""
    if stored is None or stored.startswith(HOME_PREFIX) or is_web(stored):
        return stored
    return to_stored(Path(stored), home)


def exists(stored: str | None, home: Path) -> bool:
    """Whether the recorded file is there (a statement without a path, or a web page:
    never missing)."""
    return stored is None or is_web(stored) or local_path(stored, home).exists()


def under(stored: str, roots: Iterable[Path], home: Path) -> bool:
    """Whether the recorded file is one of ``roots`` or inside one of them (folders given
    by any name: as given, and resolved through symlinks). A web page is under none."""
    if is_web(stored):
        return False
    path = local_path(stored, home)
    for root in roots:
        for form in {Path(root).absolute(), Path(root).resolve()}:
            if path == form or path.is_relative_to(form):
                return True
    return False
