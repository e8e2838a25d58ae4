"""Keyword search (bm25s) over the stored passages, persisted next to the store.

The index is built from Chroma's passages, saved under ``<home>/keyword/<fingerprint>``
and loaded from there while the store's fingerprint is unchanged: no rebuild per query,
one rebuild per change of the statements.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
from collections import Counter
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np

from rag.models import Passage
from rag.sentences import content_terms

logger = logging.getLogger(__name__)


class KeywordIndex:
    """BM25 over passages, with the document frequencies used to weight query terms."""

    def __init__(
        self,
        passage_ids: list[str],
        statement_ids: list[str],
        retriever: object | None,
        doc_freq: dict[str, int],
    ) -> None:
        self.passage_ids = passage_ids
        self.statement_ids = np.asarray(statement_ids, dtype=object)
        self._retriever = retriever
        self.doc_freq = doc_freq

    @property
    def size(self) -> int:
        return len(self.passage_ids)

    @classmethod
    def build(cls, passages: Iterable[Passage]) -> KeywordIndex:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        ids: list[str] = []
        sids: list[str] = []
        corpus: list[list[str]] = []
        df: Counter[str] = Counter()
        for p in passages:
            terms = content_terms(p.text)
            ids.append(p.passage_id)
            sids.append(p.statement_id)
            corpus.append(terms)
            df.update(set(terms))
        retriever = None
        if corpus:
            retriever = bm25s.BM25()
            retriever.index(corpus, show_progress=False)
        return cls(ids, sids, retriever, dict(df))

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms get the highest weight."""
        n = max(self.size, 1)
        return math.log(
            1.0 + (n - self.doc_freq.get(term, 0) + 0.5) / (self.doc_freq.get(term, 0) + 0.5)
        )

    def search(
        self,
        query: str,
        n: int,
        statement_ids: Collection[str] | None = None,
        ignore: Collection[str] = (),
    ) -> list[tuple[str, float]]:
        """Top ``n`` passages as ``(passage_id, bm25 score)``; only positive scores."""
        terms = [t for t in content_terms(query) if t in self.doc_freq and t not in ignore]
        if not terms or self._retriever is None:
            return []
        scores = self._retriever.get_scores(terms)  # type: ignore[attr-defined]
        if statement_ids is not None:
            allowed = np.isin(self.statement_ids, list(statement_ids))
            scores = np.where(allowed, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(self.passage_ids[i], float(scores[i])) for i in top if scores[i] > 0]

    # -- persistence ----------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write atomically: a temp folder renamed into place."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
        try:
            if self._retriever is not None:
                self._retriever.save(str(tmp / "bm25"), show_progress=False)  # type: ignore[attr-defined]
            (tmp / "meta.json").write_text(
                json.dumps(
                    {
                        "ids": self.passage_ids,
                        "sids": self.statement_ids.tolist(),
                        "df": self.doc_freq,
                    }
                ),
                encoding="utf-8",
            )
            if folder.exists():
                shutil.rmtree(folder)
            tmp.rename(folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        import bm25s

        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        retriever = None
        if (folder / "bm25").exists():
            retriever = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
        return cls(meta["ids"], meta["sids"], retriever, {k: int(v) for k, v in meta["df"].items()})
