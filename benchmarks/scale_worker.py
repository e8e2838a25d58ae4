"""One scale step in its own process (so peak RSS is per step): ``ingest`` or ``query``.

    python -m benchmarks.scale_worker ingest --corpus DIR --home DIR [--cache FILE --cache-mode M]
    python -m benchmarks.scale_worker query --home DIR --embedder st|onnx [--rounds N]

Prints one JSON object on the last stdout line. ``--cache-mode use`` is the clearly labelled
shortcut for corpora too large to embed here in time: the real Ingestor runs (files,
cleaning, chunking, hashing, Chroma writes, keyword index), but the vectors of a passage
whose exact text (and sentence spans) was embedded by an earlier real run are reused from
that run's content-hash cache instead of being computed again.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import pickle
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from benchmarks.common import Stats, eval_questions, quiet, self_peak_rss_mb

Span = tuple[int, int]


class CachingEmbedder:
    """A passage embedder that reuses vectors of identical (text, spans) seen before.

    With a ``sink`` (record mode), vectors computed here are appended to that file as they
    come (see ``load_cache``) instead of being kept: keeping every vector of a 100k run
    (~70 MB per 10k passages) would be counted in the ingest's peak RSS.
    """

    def __init__(
        self,
        inner: Any,
        cache: dict[str, tuple[np.ndarray, np.ndarray]],
        sink: BinaryIO | None = None,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.sink = sink
        self.hits = 0
        self.misses = 0

    @property
    def model_name(self) -> str:
        return str(self.inner.model_name)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.inner.embed_documents(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.inner.embed_query(text))

    @staticmethod
    def key(text: str, spans: Sequence[Span]) -> str:
        return hashlib.sha256(f"{text}\x00{list(spans)}".encode()).hexdigest()

    def embed_passages(
        self, texts: Sequence[str], sentence_spans: Sequence[Sequence[Span]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        keys = [self.key(t, s) for t, s in zip(texts, sentence_spans)]
        missing = [i for i, k in enumerate(keys) if k not in self.cache]
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if missing:
            vectors, sentences = self.inner.embed_passages(
                [texts[i] for i in missing], [sentence_spans[i] for i in missing]
            )
            found = {keys[i]: (vectors[j], sentences[j]) for j, i in enumerate(missing)}
            if self.sink is not None:
                pickle.dump(found, self.sink, protocol=pickle.HIGHEST_PROTOCOL)
            else:
                self.cache.update(found)
        self.misses += len(missing)
        self.hits += len(keys) - len(missing)
        got = [found[k] if k in found else self.cache[k] for k in keys]
        return np.stack([v for v, _ in got]), [s for _, s in got]


def load_cache(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A record-mode cache file: the dicts appended by ``CachingEmbedder``, merged."""
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with open(path, "rb") as f:
        while True:
            try:
                cache.update(pickle.load(f))
            except EOFError:
                return cache


def ingest(args: argparse.Namespace) -> dict[str, Any]:
    from ingest.pipeline import Ingestor
    from rag.encoders.embeddings import SentenceTransformerEmbedder, resolve_model_path
    from rag.encoders.onnx import export_dir, export_onnx
    from rag.settings import Settings
    from rag.store.chroma import ChromaStore

    settings = Settings(home=Path(args.home))
    started = time.perf_counter()
    st = SentenceTransformerEmbedder(settings.embedding_model)
    st.embed_query("warm up")
    model_load_s = time.perf_counter() - started
    # The export first, as in `rag ingest` (whose embedder writes it on its first window):
    # after the ingest, its transient memory would add to the store's.
    started = time.perf_counter()
    export_onnx(
        resolve_model_path(settings.embedding_model),
        export_dir(settings.home, settings.embedding_model),
        settings.embedding_model,
        model=st.model,
    )
    onnx_export_s = time.perf_counter() - started
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if args.cache_mode == "use":
        cache = load_cache(args.cache)
    with contextlib.ExitStack() as stack:
        sink: BinaryIO | None = None
        if args.cache_mode == "record":
            sink = stack.enter_context(open(args.cache, "wb"))
        embedder = CachingEmbedder(st, cache, sink)
        store = ChromaStore.from_settings(settings)
        report = Ingestor(settings, store, embedder).run([Path(args.corpus)])
    if report.skipped:
        raise RuntimeError(f"skipped files: {report.skipped[:3]}")
    return {
        "passages": report.passages_written,
        "statements": report.count("new"),
        "ingest_s": round(report.seconds, 2),
        "passages_per_s": round(report.passages_written / report.seconds, 1),
        "model_load_s": round(model_load_s, 2),
        "onnx_export_s": round(onnx_export_s, 2),
        "cache_mode": args.cache_mode,
        "embedded": embedder.misses,
        "reused_from_cache": embedder.hits,
        "self_peak_rss_mb": round(self_peak_rss_mb(), 1),
    }


def query(args: argparse.Namespace) -> dict[str, Any]:
    from rag.encoders.embeddings import SentenceTransformerEmbedder
    from rag.encoders.onnx import OnnxQueryEmbedder, export_dir
    from rag.service import build_services
    from rag.settings import Settings

    settings = Settings(home=Path(args.home))
    questions = eval_questions()
    started = time.perf_counter()
    if args.embedder == "onnx":
        embedder: Any = OnnxQueryEmbedder(export_dir(settings.home, settings.embedding_model))
    else:
        embedder = SentenceTransformerEmbedder(settings.embedding_model)
    services = build_services(settings, embedder=embedder)
    services.answerer.answer(questions[0])  # loads the model, the catalog, the keyword index
    first_s = time.perf_counter() - started
    rss_after_first = self_peak_rss_mb()
    wall: list[float] = []
    single: list[float] = []  # answers that are not per-statement comparisons
    parts: dict[str, list[float]] = {"embed": [], "retrieve": [], "score": [], "total": []}
    dense: list[float] = []
    keyword: list[float] = []
    deadline = time.perf_counter() + args.max_seconds
    snap = services.catalog.snapshot()
    for _ in range(args.rounds):
        for q in questions:
            t0 = time.perf_counter()
            answer = services.answerer.answer(q)
            wall.append((time.perf_counter() - t0) * 1000)
            if not answer.compare:
                single.append(wall[-1])
            for key in parts:
                parts[key].append(float(answer.timings_ms.get(key, 0.0)))
            vector = embedder.embed_query(q)
            t0 = time.perf_counter()
            services.store.query(vector, settings.candidates)
            dense.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            snap.keywords.search(q, settings.candidates)
            keyword.append((time.perf_counter() - t0) * 1000)
            if time.perf_counter() > deadline:
                break
        if time.perf_counter() > deadline:
            break
    check: list[float] = []  # what the catalog does every ttl seconds, inside a query
    relist: list[float] = []  # what it does when the store's version token moved
    for _ in range(5):
        t0 = time.perf_counter()
        services.store.version()
        check.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        services.store.fingerprint()
        relist.append((time.perf_counter() - t0) * 1000)
    return {
        "embedder": args.embedder,
        "catalog_check_ms": round(Stats(check).p50, 2),
        "catalog_relist_ms": round(Stats(relist).p50, 1),
        "passages": services.store.count_passages(),
        "first_answer_s": round(first_s, 2),
        "answers": Stats(wall).as_dict(),
        "answers_not_compare": Stats(single).as_dict(),
        "breakdown_p50_ms": {k: round(Stats(v).p50, 2) for k, v in parts.items()},
        "breakdown_p95_ms": {k: round(Stats(v).p95, 2) for k, v in parts.items()},
        "chroma_query_p50_ms": round(Stats(dense).p50, 2),
        "chroma_query_p95_ms": round(Stats(dense).p95, 2),
        "bm25_search_p50_ms": round(Stats(keyword).p50, 2),
        "bm25_search_p95_ms": round(Stats(keyword).p95, 2),
        "rss_after_first_answer_mb": round(rss_after_first, 1),
        "self_peak_rss_mb": round(self_peak_rss_mb(), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    quiet()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_worker")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest")
    p.add_argument("--corpus", required=True)
    p.add_argument("--home", required=True)
    p.add_argument("--cache")
    p.add_argument("--cache-mode", choices=("off", "record", "use"), default="off")
    q = sub.add_parser("query")
    q.add_argument("--home", required=True)
    q.add_argument("--embedder", choices=("st", "onnx"), default="st")
    q.add_argument("--rounds", type=int, default=2)
    q.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args(argv)
    result = ingest(args) if args.command == "ingest" else query(args)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
