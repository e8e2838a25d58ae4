"""Which statement a file is: its id, and whether the store already holds its content.

A file keeps the id it was stored under (by path), and so does a file that moved: its
bytes are recognised (``file_hash``), whatever suffix its id carries. A copy of content
the store already holds under another path (an upload, then ``rag ingest`` of the same
folder) is that statement, "unchanged", never a second one; the same clean text under
another name is reported and skipped (issue 21). Otherwise the id comes from the file
name, with a path-hash suffix when another file owns that name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ingest import paths
from ingest.web import url_statement_id
from rag.models import Statement


def statement_id_for(path: Path | str) -> str:
    """A readable id from the file name (``004_8209.txt`` -> ``004_8209``), or from a web
    page's URL (its host and path)."""
    if isinstance(path, str):
        return url_statement_id(path)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.") or "statement"
    return stem[:80]


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Twin:
    """Another statement that already holds this file's content."""

    statement: Statement
    same_bytes: bool  # else the same clean text from other bytes

    @property
    def reason(self) -> str:
        kind = "content" if self.same_bytes else "text"
        where = self.statement.path or "the store"
        return f"same {kind} as {self.statement.statement_id} ({where})"


class Identities:
    """Id claims of one ingest run, over the statements the store held when it began
    (``existing``, kept up to date by the run as its windows are written)."""

    def __init__(self, existing: dict[str, Statement], home: Path) -> None:
        self.existing = existing
        self.home = home
        self.taken: dict[str, str] = {}  # ids claimed in this run -> stored path
        self._known = {  # stored path -> its id (uploads stored before: made relative)
            form: sid
            for sid, s in existing.items()
            if (form := paths.stored_form(s.path, home)) is not None
        }
        self._latest: dict[str, Statement] = {}  # id -> its latest version
        self._files: dict[str, Statement] = {}  # file_hash -> statement
        self._texts: dict[str, Statement] = {}  # text_hash -> statement
        for statement in existing.values():
            self.remember(statement)

    def remember(self, statement: Statement) -> None:
        """Note a statement's content (a stored one, or one this run is writing)."""
        self._latest[statement.statement_id] = statement
        if statement.file_hash:
            self._files.setdefault(statement.file_hash, statement)
        if statement.text_hash:
            self._texts.setdefault(statement.text_hash, statement)

    def _holder(self, file_hash: str, text_hash: str) -> list[tuple[Statement, bool]]:
        """Statements (stored, or written by this run) that hold this content now:
        ``(statement, same bytes)``, the same bytes first."""
        found = []
        for table, key, field in (
            (self._files, file_hash, "file_hash"),
            (self._texts, text_hash, "text_hash"),
        ):
            other = table.get(key)
            if other is None:
                continue
            latest = self._latest.get(other.statement_id)
            if latest is not None and getattr(latest, field) == key:  # not since changed
                found.append((latest, field == "file_hash"))
        return found

    def twin(self, stored: str, file_hash: str, text_hash: str) -> Twin | None:
        """A statement of another file that is present with the same content; None when
        there is none, or when that file is gone (then this file is its move)."""
        for other, same_bytes in self._holder(file_hash, text_hash):
            if not other.content_hash:  # damaged in the store: this file rewrites it
                continue
            where = self.taken.get(other.statement_id) or paths.stored_form(other.path, self.home)
            if where is not None and where != stored and paths.exists(where, self.home):
                return Twin(other, same_bytes)
        return None

    def claim(self, path: Path | str, stored: str, file_hash: str, text_hash: str) -> str | Twin:
        """The file's id, or the :class:`Twin` whose content it repeats. In order: the
        id stored for this path; a present file's statement with the same content (the
        twin); the id of a statement with the same content whose file is gone (a move
        keeps its id, even a suffixed one: deep links, conversations and feedback point
        to it); the file name's id, with a path-hash suffix when another present file
        owns it."""
        previous = self._known.get(stored)
        if previous is not None and previous not in self.taken:
            return self._take(previous, stored)
        twin = self.twin(stored, file_hash, text_hash)
        if twin is not None:
            return twin
        for moved, _ in self._holder(file_hash, text_hash):
            if self._movable(moved, stored):
                return self._take(moved.statement_id, stored)
        sid = statement_id_for(path)
        owner = self.taken.get(sid)
        if owner is None and sid in self.existing:
            owner = paths.stored_form(self.existing[sid].path, self.home)
        if owner and owner != stored and (sid in self.taken or paths.exists(owner, self.home)):
            sid = f"{sid}-{hashlib.sha256(stored.encode()).hexdigest()[:6]}"
        return self._take(sid, stored)

    def _movable(self, statement: Statement, stored: str) -> bool:
        sid = statement.statement_id
        where = paths.stored_form(statement.path, self.home)
        gone = where is not None and not paths.exists(where, self.home)
        damaged = not statement.content_hash  # missing passages: rewritten from this file
        return (
            sid in self.existing and sid not in self.taken and where != stored and (gone or damaged)
        )

    def _take(self, sid: str, stored: str) -> str:
        self.taken[sid] = stored
        return sid
