"""Passages to vectors for the store's writes, in slices (ingest and repair share it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rag.encoders.embeddings import PassageEmbedder
from rag.models import Passage, Statement
from rag.store.chroma import StatementWrite


def embedded_writes(
    embedder: PassageEmbedder,
    items: Sequence[tuple[Statement, list[Passage]]],
    batch: int,
    pause: Callable[[], object] | None = None,
) -> list[StatementWrite]:
    """The writes of ``items`` (statements with their passages), embedded in slices of
    ``batch`` passages: the embedder holds every token vector of a call, so one 1 MB file
    in one call grew peak memory by 0.2 GB. ``pause`` runs before each slice: an upload
    in the app lets the questions being answered go first (``rag.priority``; a 20 kB
    upload held the CPU for 32 s while the app's answers took 12 times longer)."""
    passages = [p for _, ps in items for p in ps]
    parts: list[np.ndarray] = []
    sentence_vectors: list[np.ndarray] = []
    for i in range(0, len(passages), batch):
        if pause is not None:
            pause()
        part = passages[i : i + batch]
        vectors, sentences = embedder.embed_passages(
            [p.text for p in part],
            [[(s - p.start, e - p.start) for s, e in p.sentences] for p in part],
        )
        parts.append(vectors)
        sentence_vectors.extend(sentences)
    if not parts:  # nothing new: the model is not even loaded
        return []
    vectors = np.concatenate(parts)
    writes: list[StatementWrite] = []
    offset = 0
    for statement, own in items:
        end = offset + len(own)
        writes.append(
            StatementWrite(statement, own, vectors[offset:end], sentence_vectors[offset:end])
        )
        offset = end
    return writes
