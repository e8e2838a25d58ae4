"""The read side of the passages collection: by id, by statement, nearest to a vector."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rag.encoders.embeddings import decode_int8
from rag.models import Passage
from rag.store.records import DAMAGED, StoredPassage, damaged, to_passage

logger = logging.getLogger(__name__)


_WARNED: set[str] = set()  # damaged passages already named by this process


def _passages(got: dict[str, Any]) -> Iterator[tuple[Passage, dict[str, Any]]]:
    """The passages of a ``get`` and their metadata; a passage whose metadata cannot be
    read (garbled in the database) is left out, named once per process, instead of
    failing the question it was found for with a raw ``ValueError``."""
    for pid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"]):
        try:
            yield to_passage(pid, meta or {}, doc or ""), meta or {}
        except DAMAGED as exc:
            _left_out(pid, exc)


def _left_out(pid: str, exc: BaseException) -> None:
    if pid not in _WARNED:
        if not _WARNED:
            logger.warning("%s", damaged("passage", pid, exc))
        else:
            logger.info("%s", damaged("passage", pid, exc))
        _WARNED.add(pid)


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
            for passage, _ in _passages(got):
                yield passage
            offset += len(got["ids"])

    def passages(self, ids: Sequence[str]) -> dict[str, StoredPassage]:
        """Passages by id, with their sentence vectors."""
        if not ids:
            return {}
        got = self._op("passages", "get", ids=list(ids), include=["metadatas", "documents"])
        result = {}
        for passage, meta in _passages(got):
            try:
                dim = int(meta.get("dim", 0)) or 1
                svec = meta.get("svec")
                vectors = decode_int8(svec, dim) if svec else np.zeros((0, dim))
            except DAMAGED as exc:
                _left_out(passage.passage_id, exc)
                continue
            result[passage.passage_id] = StoredPassage(passage, vectors)
        return result

    def statement_passages(self, statement_id: str) -> list[Passage]:
        got = self._op(
            "passages",
            "get",
            where={"statement_id": statement_id},
            include=["metadatas", "documents"],
        )
        return sorted((p for p, _ in _passages(got)), key=lambda p: p.start)

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
