"""Retrieve stage: dense search, keyword search and their reciprocal-rank fusion.

The ranking maths are pure functions (``rrf_fuse``, ``exact_search``); ``Retriever``
wires them to the store and the keyword index and remembers what it read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rag.cache import LRUCache
from rag.models import Statement
from rag.policy import ScoringPolicy
from rag.store.catalog import Snapshot
from rag.store.chroma import ChromaStore, StoredPassage

PASSAGE_CACHE_SIZE = 4096

Ranking = list[tuple[str, float]]  # (passage id, score), best first


def rrf_fuse(rankings: Sequence[Ranking], rrf_k: int, k: int) -> Ranking:
    """Reciprocal-rank fusion: the top ``k`` passage ids with a prior relative to the best
    (1.0), from rankings whose own scores are ignored (only the ranks count)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (pid, _) in enumerate(ranking):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (rrf_k + rank + 1)
    top = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
    if not top:
        return []
    best = top[0][1]
    return [(pid, score / best) for pid, score in top]


def exact_search(
    vector: np.ndarray, among: Sequence[str], vectors: Mapping[str, np.ndarray], n: int
) -> Ranking:
    """The ``n`` passages of ``among`` (those with a vector) most similar to ``vector``."""
    found = [pid for pid in among if pid in vectors]
    if not found:
        return []
    matrix = np.stack([vectors[pid] for pid in found])
    sims = matrix @ np.asarray(vector, dtype=np.float32)
    top = np.argsort(-sims, kind="stable")[:n]
    return [(found[i], float(sims[i])) for i in top]


def restrict(scope: Sequence[Statement], snap: Snapshot) -> list[str] | None:
    """Statement ids to filter by, or None when the scope is everything."""
    if len(scope) == len(snap.statements):
        return None
    return [s.statement_id for s in scope]


class Retriever:
    """Hybrid passage search over the store, within a set of statements."""

    def __init__(self, store: ChromaStore, policy: ScoringPolicy) -> None:
        self.store = store
        self.policy = policy
        self._passages: LRUCache[str, StoredPassage] = LRUCache(PASSAGE_CACHE_SIZE)
        self._vectors: LRUCache[str, np.ndarray] = LRUCache(PASSAGE_CACHE_SIZE)

    def passages(self, snap: Snapshot, ids: Sequence[str]) -> dict[str, StoredPassage]:
        """Passages by id with their sentence vectors (saves a Chroma read per retrieval)."""
        return self._passages.get_many(snap.fingerprint, ids, self.store.passages)

    def dense(self, vector: np.ndarray, n: int, ids: list[str] | None, snap: Snapshot) -> Ranking:
        """Chroma's index over everything; within a few statements, an exact search among
        their passages (known from the keyword index) instead of a ``where`` filter."""
        if ids is not None:
            among = snap.keywords.passages_of(ids)
            if 0 < len(among) <= self.policy.exact_search_max:
                # a comparison searches each compared statement's passages in turn
                vectors = self._vectors.get_many(
                    snap.fingerprint, among, self.store.passage_vectors
                )
                return exact_search(vector, among, vectors, n)
        return self.store.query(vector, n, ids)

    def run(
        self,
        text: str,
        vector: np.ndarray,
        snap: Snapshot,
        ids: list[str] | None,
        k: int,
        ignore: frozenset[str] = frozenset(),
    ) -> list[tuple[StoredPassage, float]]:
        """Dense and keyword results fused: the top ``k`` passages with their 0..1 prior,
        best first."""
        n = max(self.policy.candidates, k)
        dense = self.dense(vector, n, ids, snap)
        keyword = snap.keywords.search(text, n, ids, ignore)
        fused = rrf_fuse((dense, keyword), self.policy.rrf_k, k)
        stored = self.passages(snap, [pid for pid, _ in fused])
        return [(stored[pid], prior) for pid, prior in fused if pid in stored]
