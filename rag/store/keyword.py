"""Keyword search (BM25) over the stored passages, persisted next to the store.

The index is built from Chroma's passages with bm25s, saved under
``<home>/keyword/<fingerprint>`` and loaded from there while the store's fingerprint is
unchanged: no rebuild per query, one rebuild per change of the statements. A saved index is
scored by :class:`SavedScores` with numpy alone (bm25s and the scipy it imports cost a
quarter of a second of every ``rag ask``), to the bit as bm25s scores it. It is only a
cache: ``manifest.json``, written last, holds the fingerprint it was built for and a
checksum of every file, and a folder that does not match them (truncated, reordered,
half-deleted, garbage) is not loaded (:class:`DamagedIndexError`) but rebuilt from the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import tempfile
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.models import Passage
from rag.sentences import content_terms

logger = logging.getLogger(__name__)

RECENT_SCORES = 8  # score arrays remembered (each is one float per passage)
MANIFEST = "manifest.json"


class DamagedIndexError(ValueError):
    """A saved index that does not match its manifest or the store: rebuild it."""


class Scorer(Protocol):
    """What the index scores with: ``bm25s.BM25`` after a build, :class:`SavedScores`
    after a load."""

    def get_scores(self, query_tokens_single: list[str]) -> Any: ...


class SavedScores:
    """A saved bm25s index read with numpy alone, scoring as ``bm25s.BM25.get_scores``.

    bm25s stores the BM25 score of every (term, passage) pair as a CSC matrix (``data``,
    ``indices``, ``indptr``: one column per vocabulary term); a query's scores are its
    known terms' columns added up, in the query's order, in the saved dtype, exactly as
    bm25s adds them. Methods with a non-occurrence array (BM25L, BM25+) add its entries.
    A term without a column scores nothing (bm25s raises on it; ``content_terms`` never
    yields the one such term, the empty string).
    """

    def __init__(
        self,
        data: np.ndarray,
        indices: np.ndarray,
        indptr: np.ndarray,
        vocab: dict[str, int],
        num_docs: int,
        nonoccurrence: np.ndarray | None = None,
    ) -> None:
        if len(data) != len(indices) or len(indptr) < 1 or int(indptr[-1]) != len(data):
            raise DamagedIndexError("the saved score arrays do not fit together")
        if len(indices) and int(indices.max()) >= num_docs:
            raise DamagedIndexError("the saved scores name passages beyond the index")
        self._data, self._indices, self._indptr = data, indices, indptr
        # bm25s gives the empty string an id past the last column (where bm25s raises)
        self._vocab = {term: i for term, i in vocab.items() if i < len(indptr) - 1}
        self._num_docs = num_docs
        self._nonoccurrence = nonoccurrence

    @classmethod
    def read(cls, folder: Path) -> SavedScores:
        """The index ``bm25s.BM25.save`` wrote to ``folder``."""
        try:
            params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
            vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
            dtype, int_dtype = np.dtype(params["dtype"]), np.dtype(params["int_dtype"])
            arrays = [
                np.load(folder / f"{name}.csc.index.npy", allow_pickle=False)
                for name in ("data", "indices", "indptr")
            ]
            nonoccurrence_file = folder / "nonoccurrence_array.index.npy"
            nonoccurrence = (
                np.load(nonoccurrence_file, allow_pickle=False)
                if params["method"] in ("bm25l", "bm25+")
                else None
            )
            return cls(
                arrays[0].astype(dtype, copy=False),
                arrays[1].astype(int_dtype, copy=False),
                arrays[2],
                {str(k): int(v) for k, v in vocab.items()},
                int(params["num_docs"]),
                nonoccurrence,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, DamagedIndexError):
                raise
            raise DamagedIndexError(f"unreadable BM25 arrays: {exc}") from exc

    def get_scores(self, query_tokens_single: list[str]) -> np.ndarray:
        ids = [self._vocab[t] for t in query_tokens_single if t in self._vocab]
        scores = np.zeros(self._num_docs, dtype=self._data.dtype)
        for i in ids:
            start, end = self._indptr[i], self._indptr[i + 1]
            np.add.at(scores, self._indices[start:end], self._data[start:end])
        if self._nonoccurrence is not None:
            scores += self._nonoccurrence[ids].sum()
        return scores


class KeywordIndex:
    """BM25 over passages, with the document frequencies used to weight query terms."""

    def __init__(
        self,
        passage_ids: list[str],
        statement_ids: list[str],
        retriever: Scorer | None,
        doc_freq: dict[str, int],
    ) -> None:
        self.passage_ids = passage_ids
        self.statement_ids = np.asarray(statement_ids, dtype=object)
        self._retriever = retriever
        self.doc_freq = doc_freq
        self._by_statement: dict[str, np.ndarray] | None = None
        self._recent: OrderedDict[tuple[str, ...], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

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
        scores = self._scores(tuple(terms))
        rows = None if statement_ids is None else self._rows(statement_ids)
        if rows is not None:
            scores = scores[rows]
        n = min(n, len(scores))
        if n == 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        hits = top if rows is None else rows[top]
        return [
            (self.passage_ids[i], float(score)) for i, score in zip(hits, scores[top]) if score > 0
        ]

    def _scores(self, terms: tuple[str, ...]) -> np.ndarray:
        """BM25 scores of every passage for ``terms``; the last few are remembered (a
        comparison searches the same topic once per statement)."""
        with self._lock:
            cached = self._recent.get(terms)
        if cached is not None:
            return cached
        assert self._retriever is not None
        scores = np.asarray(self._retriever.get_scores(list(terms)))
        with self._lock:
            self._recent[terms] = scores
            while len(self._recent) > RECENT_SCORES:
                self._recent.popitem(last=False)
        return scores

    def _rows(self, statement_ids: Collection[str]) -> np.ndarray:
        """Row numbers of the passages of ``statement_ids``."""
        if self._by_statement is None:
            groups: dict[str, list[int]] = {}
            for row, sid in enumerate(self.statement_ids):
                groups.setdefault(sid, []).append(row)
            self._by_statement = {sid: np.asarray(r, dtype=np.int64) for sid, r in groups.items()}
        parts = [self._by_statement[s] for s in statement_ids if s in self._by_statement]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def passages_of(self, statement_ids: Collection[str]) -> list[str]:
        """Ids of the indexed passages of ``statement_ids``."""
        return [self.passage_ids[row] for row in self._rows(statement_ids)]

    # -- persistence ----------------------------------------------------------------

    def save(self, folder: Path, fingerprint: str) -> None:
        """Write atomically: a temp folder renamed into place, its manifest written last."""
        clear_in_the_way(folder.parent)
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
            manifest = {
                "fingerprint": fingerprint,
                "passages": self.size,
                "files": _checksums(tmp),
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
            _remove(folder)
            tmp.rename(folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, fingerprint: str, passages: int) -> KeywordIndex:
        """The index saved in ``folder`` for the store with ``fingerprint`` and ``passages``
        passages. Raises :class:`DamagedIndexError` unless every file is the one written."""
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            wanted = (manifest["fingerprint"], int(manifest["passages"]), manifest["files"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DamagedIndexError(f"no readable manifest: {exc}") from exc
        if wanted[:2] != (fingerprint, passages):
            raise DamagedIndexError(f"built for {wanted[:2]}, not {(fingerprint, passages)}")
        if _checksums(folder) != wanted[2]:
            raise DamagedIndexError("files differ from the ones written")
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        retriever = SavedScores.read(folder / "bm25") if (folder / "bm25").exists() else None
        index = cls(
            meta["ids"], meta["sids"], retriever, {k: int(v) for k, v in meta["df"].items()}
        )
        if index.size != passages or len(index.statement_ids) != passages:
            raise DamagedIndexError(f"{index.size} passages indexed, not {passages}")
        return index


def _remove(path: Path) -> None:
    """Remove whatever is at ``path``: a folder, or a file (or link) in a folder's place."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def clear_in_the_way(folder: Path) -> None:
    """Make room for the cache folder ``folder`` and its parent: anything else in their
    place (a file, a dangling link) is removed. The index is only a cache: whatever its
    damage, it is rebuilt (a file in its folder's place raised ``NotADirectoryError`` on
    every question, and the app did not start)."""
    for path in (folder.parent, folder):
        if (path.exists() or path.is_symlink()) and not path.is_dir():
            logger.warning("%s is not a folder: removed (the keyword index is rebuilt)", path)
            path.unlink()


def _checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` but the manifest, by relative path."""
    sums = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            sums[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return sums
