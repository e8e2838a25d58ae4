"""Tiny hand-made inputs for the stage tests: statements, passages, scored sentences."""

from __future__ import annotations

import numpy as np

from rag.models import Passage, Statement
from rag.stages.score import ScoredSentence, SentenceFeatures
from rag.store.chroma import StoredPassage

TEXT = "Troops out now. The war is a crime against the people of Iraq. Nobody voted for it."
SENTENCES = ((0, 15), (16, 62), (63, 83))


def statement(sid: str = "s1", organization: str | None = "Socialist Equality Party") -> Statement:
    return Statement(
        statement_id=sid,
        source=f"{sid}.txt",
        organization=organization,
        date="2020-01-03",
        title=f"On {sid}",
        content_hash=f"hash-{sid}",
    )


def stored(sid: str = "s1", pid: str = "s1-p1", vectors: np.ndarray | None = None) -> StoredPassage:
    passage = Passage(
        passage_id=pid,
        statement_id=sid,
        paragraph=1,
        start=0,
        end=len(TEXT),
        text=TEXT,
        sentences=SENTENCES,
    )
    if vectors is None:
        vectors = np.eye(len(SENTENCES), 4, dtype=np.float32)
    return StoredPassage(passage, vectors)


def sentence(
    index: int,
    score: float,
    evidence: float,
    sid: str = "s1",
    pid: str = "s1-p1",
) -> ScoredSentence:
    start, end = SENTENCES[index]
    return ScoredSentence(
        sid, pid, 1, index, start, end, score, evidence, SentenceFeatures(evidence, 0.0, 1.0)
    )


def speaker(
    sid: str,
    author: str | None = None,
    organization: str | None = None,
    date: str | None = None,
) -> Statement:
    """A statement record with who said it (plan-stage tests need no text)."""
    return Statement(
        statement_id=sid,
        source=f"{sid}.txt",
        content_hash=sid,
        author=author,
        organization=organization,
        date=date,
    )
