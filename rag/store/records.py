"""How statements and passages are laid out in Chroma records (pure conversions)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from rag.dates import date_range, is_valid_date
from rag.encoders.embeddings import encode_int8
from rag.models import Passage, Statement

STATEMENT_FIELDS = (
    "organization",
    "author",
    "date",
    "title",
    "source",
    "path",
    "file_hash",
    "text_hash",
)


@dataclass(frozen=True)
class StoredPassage:
    """A passage with what quote selection needs: its sentence vectors."""

    passage: Passage
    sentence_vectors: np.ndarray  # (len(passage.sentences), dim), unit rows


class StatementWrite(NamedTuple):
    """One statement to write, with its passages and their vectors."""

    statement: Statement
    passages: Sequence[Passage]
    passage_vectors: np.ndarray
    sentence_vectors: Sequence[np.ndarray]


def fingerprint_of(statements: Iterable[Statement]) -> str:
    """A digest of the statements' ids and content hashes (``ChromaStore.fingerprint``)."""
    digest = hashlib.sha256()
    for s in sorted(statements, key=lambda s: s.statement_id):
        digest.update(f"{s.statement_id}\x00{s.content_hash}\x01".encode())
    return digest.hexdigest()[:20]


def to_statement(sid: str, meta: dict[str, Any], text: str | None = None) -> Statement:
    return Statement(
        statement_id=sid,
        organization=meta.get("organization"),
        author=meta.get("author"),
        date=meta.get("date"),
        title=meta.get("title"),
        source=meta.get("source") or sid,
        path=meta.get("path"),
        content_hash=meta.get("content_hash", ""),
        passages=int(meta.get("passages", 0)),
        text=text,
        file_hash=meta.get("file_hash"),
        text_hash=meta.get("text_hash"),
    )


def statement_record(item: StatementWrite) -> tuple[str, np.ndarray, str, dict[str, Any]]:
    """A statement's record: id, centroid of its passage vectors, clean text, metadata."""
    statement, vectors = item.statement, np.asarray(item.passage_vectors)
    # Every key is written, None for a missing one: Chroma merges metadata on upsert,
    # so a field the new version lacks (a date, say) must be cleared explicitly.
    meta: dict[str, Any] = {k: getattr(statement, k) or None for k in STATEMENT_FIELDS}
    meta.update(content_hash=statement.content_hash, passages=len(item.passages))
    meta["date_lo"] = meta["date_hi"] = None
    if statement.date and is_valid_date(statement.date):
        meta["date_lo"], meta["date_hi"] = date_range(statement.date)
    centroid = vectors.mean(axis=0) if len(item.passages) else None
    if centroid is None or not np.isfinite(centroid).all() or not centroid.any():
        centroid = np.full(vectors.shape[1] if vectors.ndim == 2 else 1, 1.0)
    return statement.statement_id, centroid / np.linalg.norm(centroid), statement.text or "", meta


def passage_meta(passage: Passage, sentence_vectors: np.ndarray) -> dict[str, Any]:
    return {
        "statement_id": passage.statement_id,
        "paragraph": passage.paragraph,
        "start": passage.start,
        "end": passage.end,
        "sentences": [x for span in passage.sentences for x in span],
        "svec": encode_int8(sentence_vectors),
        "dim": int(sentence_vectors.shape[1]),
    }


def to_passage(pid: str, meta: dict[str, Any], text: str) -> Passage:
    flat = list(meta.get("sentences") or [])
    spans = tuple((int(flat[i]), int(flat[i + 1])) for i in range(0, len(flat) - 1, 2))
    return Passage(
        passage_id=pid,
        statement_id=str(meta["statement_id"]),
        paragraph=int(meta["paragraph"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        sentences=spans or ((int(meta["start"]), int(meta["end"])),),
    )


DAMAGED = (ValueError, KeyError, TypeError, IndexError)  # what a garbled record raises


def damaged(kind: str, record_id: str, exc: BaseException) -> str:
    """One line about a record whose metadata cannot be read (it is left out)."""
    return (
        f"the {kind} {record_id!r} has damaged metadata ({type(exc).__name__}: {exc}); "
        "it is left out (and so may be others): `rag repair --check` lists them, "
        "`rag repair` rebuilds them"
    )
