"""Saved conversations: a small SQLite store under ``RAG_HOME`` (no Gradio imports).

Each conversation belongs to one owner (``user:<login>`` with auth on, ``browser:<id>``
otherwise) and holds its turns in order: the typed ``Answer`` as JSON (so follow-ups
resolve against the real history when it is reopened) plus one verdict (👍/👎, or none)
and an optional comment per answer; every rating given is also kept, with its comment,
in ``ratings``. Each change of the turns bumps the conversation's ``version``: a page
that writes with the version it last saw cannot overwrite what another tab added
(``ConversationChangedError``). Every method opens its own connection: the store is
safe to share between threads and between UI worker processes (WAL, busy timeout).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rag.errors import RagError
from rag.models import Answer

FILE_NAME = "conversations.sqlite3"
MAX_TITLE_CHARS = 80
MAX_COMMENT_CHARS = 2000
MAX_LISTED = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations (owner, updated);
CREATE TABLE IF NOT EXISTS ratings (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    turn INTEGER NOT NULL,
    time REAL NOT NULL,
    verdict INTEGER,
    comment TEXT
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    turn INTEGER NOT NULL,
    answer TEXT NOT NULL,
    verdict INTEGER,
    comment TEXT,
    PRIMARY KEY (conversation_id, turn)
);
"""


class ConversationChangedError(RagError):
    """The conversation was changed elsewhere (another tab) since this page read it."""


def title_of(question: str) -> str:
    """A conversation's title: its first question on one line, shortened."""
    text = " ".join(question.split())
    return text if len(text) <= MAX_TITLE_CHARS else text[: MAX_TITLE_CHARS - 1] + "…"


@dataclass(frozen=True)
class ConversationInfo:
    id: str
    title: str
    created: float
    updated: float
    turns: int
    version: int = 0

    @property
    def when(self) -> str:
        """The last change, e.g. ``2026-11-29 14:05`` (UTC)."""
        return datetime.fromtimestamp(self.updated, UTC).strftime("%Y-%m-%d %H:%M")

    @property
    def label(self) -> str:
        return f"{self.title} · {self.when}"


@dataclass(frozen=True)
class Rating:
    verdict: bool | None
    comment: str | None


@dataclass(frozen=True)
class RatingEvent:
    """One rating as it was given: the verdict (None: taken back) and its comment."""

    time: float
    verdict: bool | None
    comment: str | None


class ConversationStore:
    """Conversations per owner, in ``<home>/conversations.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @classmethod
    def under(cls, home: Path) -> ConversationStore:
        return cls(Path(home) / FILE_NAME)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10.0, isolation_level=None)) as db:
                db.execute("PRAGMA foreign_keys = ON")
                if not self._ready:
                    db.execute("PRAGMA journal_mode = WAL")
                    db.executescript(_SCHEMA)
                    columns = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
                    if "version" not in columns:  # a store written before versions
                        db.execute(
                            "ALTER TABLE conversations ADD COLUMN version INTEGER NOT NULL "
                            "DEFAULT 0"
                        )
                    self._ready = True
                # One transaction, holding the write lock from the start: a read-then-
                # write (the next turn's number) cannot race another worker.
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            raise RagError(
                f"Cannot use the conversation store {self.path}: {exc}",
                hint="check the data directory",
            ) from exc

    # -- conversations ----------------------------------------------------------

    def create(self, owner: str, title: str) -> str:
        """A new, empty conversation; returns its id."""
        cid = uuid.uuid4().hex
        now = time.time()
        with self._db() as db:
            db.execute(
                "INSERT INTO conversations (id, owner, title, created, updated) "
                "VALUES (?, ?, ?, ?, ?)",
                (cid, owner, title_of(title) or "Untitled", now, now),
            )
        return cid

    def _infos(self, where: str, args: tuple[object, ...]) -> list[ConversationInfo]:
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.created, c.updated, COUNT(t.turn), c.version "
                "FROM conversations c "
                f"LEFT JOIN turns t ON t.conversation_id = c.id WHERE {where} "
                "GROUP BY c.id ORDER BY c.updated DESC LIMIT ?",
                (*args, MAX_LISTED),
            ).fetchall()
        return [ConversationInfo(*row) for row in rows]

    def conversations(self, owner: str) -> list[ConversationInfo]:
        """The owner's conversations, most recently changed first."""
        return self._infos("c.owner = ?", (owner,))

    def get(self, owner: str, cid: str) -> ConversationInfo | None:
        """One of the owner's conversations, or None (another owner's, or deleted)."""
        found = self._infos("c.owner = ? AND c.id = ?", (owner, cid))
        return found[0] if found else None

    def _owned(self, db: sqlite3.Connection, owner: str, cid: str) -> int:
        """The conversation's version (a clear error if it is not the owner's)."""
        row = db.execute(
            "SELECT version FROM conversations WHERE id = ? AND owner = ?", (cid, owner)
        ).fetchone()
        if row is None:
            raise RagError("That conversation no longer exists", hint="it may have been deleted")
        return int(row[0])

    @staticmethod
    def _drop_from(db: sqlite3.Connection, cid: str, turn: int) -> None:
        """Remove the turns from ``turn`` on, with their ratings."""
        for table in ("turns", "ratings"):
            db.execute(f"DELETE FROM {table} WHERE conversation_id = ? AND turn >= ?", (cid, turn))

    def _changed(self, db: sqlite3.Connection, cid: str) -> None:
        db.execute(
            "UPDATE conversations SET version = version + 1, updated = ? WHERE id = ?",
            (time.time(), cid),
        )

    def rename(self, owner: str, cid: str, title: str) -> None:
        name = title_of(title)
        if not name:
            raise RagError("Type a name for the conversation first")
        with self._db() as db:
            self._owned(db, owner, cid)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (name, cid))

    def delete(self, owner: str, cid: str) -> None:
        with self._db() as db:
            self._owned(db, owner, cid)
            db.execute("DELETE FROM conversations WHERE id = ?", (cid,))

    # -- turns ------------------------------------------------------------------

    def answers(self, owner: str, cid: str) -> list[Answer]:
        """The conversation's answers, oldest first (the follow-up history)."""
        with self._db() as db:
            self._owned(db, owner, cid)
            rows = db.execute(
                "SELECT answer FROM turns WHERE conversation_id = ? ORDER BY turn", (cid,)
            ).fetchall()
        return [Answer.model_validate_json(row[0]) for row in rows]

    def append(
        self,
        owner: str,
        cid: str,
        answer: Answer,
        turn: int | None = None,
        version: int | None = None,
    ) -> int:
        """Store ``answer`` as turn ``turn`` (default: the next one); later turns, from
        before an edit-and-resend, are dropped. Returns the turn's index.

        Raises:
            ConversationChangedError: ``version`` (what the caller last saw) is not the
                conversation's: another tab changed it, and this write would lose that.
        """
        with self._db() as db:
            current = self._owned(db, owner, cid)
            if version is not None and version != current:
                raise ConversationChangedError(
                    "This conversation was changed in another tab or window",
                    hint="open it again from the list to see every turn",
                )
            if turn is None:
                row = db.execute(
                    "SELECT COUNT(*) FROM turns WHERE conversation_id = ?", (cid,)
                ).fetchone()
                turn = int(row[0])
            self._drop_from(db, cid, turn)
            db.execute(
                "INSERT INTO turns (conversation_id, turn, answer) VALUES (?, ?, ?)",
                (cid, turn, answer.model_dump_json()),
            )
            self._changed(db, cid)
        return turn

    def truncate(self, owner: str, cid: str, turns: int) -> None:
        """Keep only the first ``turns`` answers."""
        with self._db() as db:
            self._owned(db, owner, cid)
            self._drop_from(db, cid, turns)
            self._changed(db, cid)

    def rate(
        self, owner: str, cid: str, turn: int, verdict: bool | None, comment: str | None = None
    ) -> None:
        """One verdict per answer (``None`` takes it back); a new rating replaces the old.
        A comment is kept unless a new one is given; every rating is also kept, with the
        comment given with it, in the answer's history (``rating_history``)."""
        note = (comment or "").strip()[:MAX_COMMENT_CHARS] or None
        value = None if verdict is None else int(verdict)
        with self._db() as db:
            self._owned(db, owner, cid)
            found = db.execute(
                "UPDATE turns SET verdict = ?, comment = COALESCE(?, comment) "
                "WHERE conversation_id = ? AND turn = ?",
                (value, note, cid, turn),
            ).rowcount
            if found:
                db.execute(
                    "INSERT INTO ratings VALUES (?, ?, ?, ?, ?)",
                    (cid, turn, time.time(), value, note),
                )
        if not found:
            raise RagError("That answer is no longer in the conversation")

    def ratings(self, owner: str, cid: str) -> list[Rating]:
        """Each turn's verdict and comment, oldest first."""
        with self._db() as db:
            self._owned(db, owner, cid)
            rows = db.execute(
                "SELECT verdict, comment FROM turns WHERE conversation_id = ? ORDER BY turn",
                (cid,),
            ).fetchall()
        return [Rating(None if v is None else bool(v), c) for v, c in rows]

    def rating_history(self, owner: str, cid: str, turn: int) -> list[RatingEvent]:
        """Every rating given to the answer of ``turn``, oldest first, each with its comment."""
        with self._db() as db:
            self._owned(db, owner, cid)
            rows = db.execute(
                "SELECT time, verdict, comment FROM ratings "
                "WHERE conversation_id = ? AND turn = ? ORDER BY rowid",
                (cid, turn),
            ).fetchall()
        return [RatingEvent(t, None if v is None else bool(v), c) for t, v, c in rows]
