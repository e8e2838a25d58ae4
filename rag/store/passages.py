"""The read side of the passages collection: by id, by statement, nearest to a vector."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rag.encoders.embeddings import decode_int8
from rag.models import Passage
from rag.store.records import StoredPassage, to_passage


class PassageReads:
    """Passage queries, mixed into ``ChromaStore`` (which runs them through its ``_op``:
    retries, reopening, one clear error)."""

    def _op(self, kind: str, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def count_passages(self) -> int:
        return int(self._op("passages", "count"))

    def iter_passages(self, page: int = 5000) -> Iterator[Passage]:
        """All passages (text and offsets), in pages."""
        offset = 0
        while True:
            got = self._op(
                "passages",
                "get",
                include=["metadatas", "documents"],
                limit=page,
                offset=offset,
            )
            if not got["ids"]:
                return
            for pid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"]):
                yield to_passage(pid, meta, doc)
            offset += len(got["ids"])

    def passages(self, ids: Sequence[str]) -> dict[str, StoredPassage]:
        """Passages by id, with their sentence vectors."""
        if not ids:
            return {}
        got = self._op("passages", "get", ids=list(ids), include=["metadatas", "documents"])
        result = {}
        for pid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"]):
            passage = to_passage(pid, meta, doc)
            dim = int(meta.get("dim", 0)) or 1
            vectors = decode_int8(meta["svec"], dim) if meta.get("svec") else np.zeros((0, dim))
            result[pid] = StoredPassage(passage, vectors)
        return result

    def statement_passages(self, statement_id: str) -> list[Passage]:
        got = self._op(
            "passages",
            "get",
            where={"statement_id": statement_id},
            include=["metadatas", "documents"],
        )
        items = [
            to_passage(i, m, d) for i, m, d in zip(got["ids"], got["metadatas"], got["documents"])
        ]
        return sorted(items, key=lambda p: p.start)

    def query(
        self, vector: np.ndarray, n: int, statement_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest passages as ``(passage_id, cosine similarity)``, best first."""
        where = None
        if statement_ids is not None:
            if not statement_ids:
                return []
            where = (
                {"statement_id": statement_ids[0]}
                if len(statement_ids) == 1
                else {"statement_id": {"$in": list(statement_ids)}}
            )
        got = self._op(
            "passages",
            "query",
            query_embeddings=[vector],
            n_results=n,
            where=where,
            include=["distances"],
        )
        return [(pid, 1.0 - float(d)) for pid, d in zip(got["ids"][0], got["distances"][0])]

    def passage_vectors(self, passage_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored (unit) vectors of ``passage_ids``; unknown ids are left out."""
        if not passage_ids:
            return {}
        got = self._op("passages", "get", ids=list(passage_ids), include=["embeddings"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        return {pid: vectors[i] for i, pid in enumerate(got["ids"])}
