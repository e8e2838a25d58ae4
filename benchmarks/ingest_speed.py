"""Ingest throughput of the real Ingestor against raw ``model.encode`` of the same passages.

The model is loaded before any clock starts (for both), so the comparison is the pipeline's
own overhead: loading and cleaning files, sentence splitting, chunking, hashing, the
per-sentence vectors (token outputs + offsets), Chroma writes. Raw encode runs before and
after each ingest and their mean is the reference, which halves the effect of load drifting
on the shared cores.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import load_average, quiet


def _raw_encode_s(model: Any, texts: list[str], batch_size: int) -> float:
    started = time.perf_counter()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - started


def _ingest_once(home: Path, corpus: Path | None, embedder: Any) -> tuple[float, int, list[str]]:
    from ingest.pipeline import Ingestor
    from rag.settings import Settings
    from rag.store import ChromaStore

    settings = Settings(home=home)
    store = ChromaStore.from_settings(settings)
    report = Ingestor(settings, store, embedder).run([corpus] if corpus else None)
    texts = [p.text for p in store.iter_passages()]
    return report.seconds, report.passages_written, texts


def measure(corpus: Path | None, label: str, repeats: int, embedder: Any) -> dict[str, Any]:
    """``repeats`` fresh ingests of ``corpus`` (None: the bundled statements)."""
    model = embedder.model
    batch = embedder._batch_size
    ingest_s: list[float] = []
    raw_s: list[float] = []
    texts: list[str] = []
    passages = 0
    load = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        # an unmeasured warm-up ingest: the passage texts, and Chroma's first-use costs
        _, passages, texts = _ingest_once(Path(tmp) / "warm", corpus, embedder)
        for i in range(repeats):
            before = _raw_encode_s(model, texts, batch)
            seconds, passages, _ = _ingest_once(Path(tmp) / f"home{i}", corpus, embedder)
            after = _raw_encode_s(model, texts, batch)
            ingest_s.append(seconds)
            raw_s.append((before + after) / 2)
        import torch

        # the same comparison in CPU seconds with one torch thread: robust to other jobs on
        # the cores (two OpenMP threads spin-wait for each other when a core is taken)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            cpu0 = time.process_time()
            raw_1t = _raw_encode_s(model, texts, batch)
            raw_cpu = time.process_time() - cpu0
            cpu0 = time.process_time()
            _ingest_once(Path(tmp) / "home-1t", corpus, embedder)
            ingest_cpu = time.process_time() - cpu0
        finally:
            torch.set_num_threads(threads)
        # the project's encode (passage + sentence vectors) alone, on the same texts
        from rag.sentences import split_sentences

        spans = [[(s, e) for s, e in split_sentences(t, 0, len(t))] for t in texts]
        started = time.perf_counter()
        embedder.embed_passages(texts, spans)
        embed_passages_s = time.perf_counter() - started
    ingest_med = statistics.median(ingest_s)
    raw_med = statistics.median(raw_s)
    return {
        "corpus": label,
        "passages": passages,
        "repeats": repeats,
        "ingest_s": round(ingest_med, 3),
        "ingest_passages_per_s": round(passages / ingest_med, 1),
        "raw_encode_s": round(raw_med, 3),
        "raw_passages_per_s": round(passages / raw_med, 1),
        "raw_passages_per_s_1_thread": round(passages / raw_1t, 1),
        "embed_passages_s": round(embed_passages_s, 3),
        "embed_passages_per_s": round(passages / embed_passages_s, 1),
        "ratio_ingest_to_raw": round(raw_med / ingest_med, 3),
        "ratio_cpu_1_thread": round(raw_cpu / ingest_cpu, 3),
        "load": load,
    }


def run(synthetic: Path | None, repeats: int = 3) -> dict[str, Any]:
    quiet()
    from rag.embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.embed_query("warm up")
    results = [measure(None, "bundled (2 statements)", repeats, embedder)]
    if synthetic is not None:
        results.append(measure(synthetic, f"synthetic {synthetic.name}", 1, embedder))
    return {"runs": results, "load_after": load_average()}
