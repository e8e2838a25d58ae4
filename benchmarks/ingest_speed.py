"""Ingest throughput of the real Ingestor against raw ``model.encode`` of the same passages.

The model is loaded before any clock starts (for both), so the comparison is the pipeline's
own overhead: loading and cleaning files, sentence splitting, chunking, hashing, the
per-sentence vectors (token outputs + offsets), Chroma writes. Per repeat, raw encode runs
before and after the ingests and their mean is the reference, which halves the effect of
load drifting on the shared cores. The Ingestor runs with its writer thread (the default:
store writes of one window while the next is embedded) and without it, back to back.

The same comparison is repeated in CPU seconds (process time, all threads) with torch on one
thread: what other jobs on the two cores move least.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from inspect import signature
from pathlib import Path
from typing import Any

from benchmarks.common import load_average, quiet, torch_threads

REAL_CORPORA = ("debates2019", "squad2-cct")


def _raw_encode(model: Any, texts: list[str], batch_size: int) -> tuple[float, float]:
    """(wall s, CPU s) of a plain ``model.encode`` of ``texts``."""
    wall, cpu = time.perf_counter(), time.process_time()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - wall, time.process_time() - cpu


def ingest_once(
    home: Path, corpora: Sequence[Path] | None, embedder: Any, overlap: bool = True
) -> tuple[float, float, int, list[str]]:
    """A fresh ingest: (wall s, CPU s, passages written, the stored passage texts)."""
    from ingest.pipeline import Ingestor
    from rag.settings import Settings
    from rag.store.chroma import ChromaStore

    settings = Settings(home=home)
    store = ChromaStore.from_settings(settings)
    # (an Ingestor without the writer thread, as before issue 14, has no such parameter)
    has_writer = "overlap_writes" in signature(Ingestor).parameters
    extra = {"overlap_writes": overlap} if has_writer else {}
    ingestor = Ingestor(settings, store, embedder, **extra)
    wall, cpu = time.perf_counter(), time.process_time()
    report = ingestor.run(list(corpora) if corpora else None)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if report.skipped:
        raise RuntimeError(f"ingest skipped files: {report.summary()}")
    texts = [p.text for p in store.iter_passages()]
    return wall, cpu, report.passages_written, texts


def measure(
    corpora: Sequence[Path] | None, label: str, repeats: int, embedder: Any, cpu_repeats: int = 1
) -> dict[str, Any]:
    """``repeats`` fresh ingests of ``corpora`` (None: the bundled statements), each mode."""
    model = embedder.model
    batch = embedder._batch_size
    walls: dict[str, list[float]] = {"overlap": [], "serial": [], "raw": []}
    cpus: dict[str, list[float]] = {"overlap": [], "serial": [], "raw": []}
    load = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        n = 0

        def home() -> Path:
            nonlocal n
            n += 1
            return Path(tmp) / f"home{n}"

        # an unmeasured warm-up ingest: the passage texts, and Chroma's first-use costs
        _, _, passages, texts = ingest_once(home(), corpora, embedder)

        def one_round(w: dict[str, list[float]], c: dict[str, list[float]], r: int) -> None:
            before = _raw_encode(model, texts, batch)
            modes = ("overlap", "serial") if r % 2 == 0 else ("serial", "overlap")
            for mode in modes:
                wall, cpu, _, _ = ingest_once(home(), corpora, embedder, mode == "overlap")
                w[mode].append(wall)
                c[mode].append(cpu)
            after = _raw_encode(model, texts, batch)
            w["raw"].append((before[0] + after[0]) / 2)
            c["raw"].append((before[1] + after[1]) / 2)

        for r in range(repeats):
            one_round(walls, cpus, r)
        load_1t = load_average()
        walls_1t: dict[str, list[float]] = {"overlap": [], "serial": [], "raw": []}
        cpus_1t: dict[str, list[float]] = {"overlap": [], "serial": [], "raw": []}
        with torch_threads(1):
            for r in range(cpu_repeats):
                one_round(walls_1t, cpus_1t, r)
        # the project's encode (passage + sentence vectors) alone, on the same texts
        from rag.sentences import split_sentences

        spans = [[(s, e) for s, e in split_sentences(t, 0, len(t))] for t in texts]
        started = time.perf_counter()
        embedder.embed_passages(texts, spans)
        embed_passages_s = time.perf_counter() - started

    med: Callable[[list[float]], float] = statistics.median
    raw, raw_cpu_1t = med(walls["raw"]), med(cpus_1t["raw"])
    return {
        "corpus": label,
        "passages": passages,
        "repeats": repeats,
        "ingest_s": round(med(walls["overlap"]), 3),
        "ingest_serial_s": round(med(walls["serial"]), 3),
        "ingest_passages_per_s": round(passages / med(walls["overlap"]), 1),
        "raw_encode_s": round(raw, 3),
        "raw_passages_per_s": round(passages / raw, 1),
        "ratio_ingest_to_raw": round(raw / med(walls["overlap"]), 3),
        "ratio_serial_to_raw": round(raw / med(walls["serial"]), 3),
        "cpu_s": {k: round(med(v), 2) for k, v in cpus.items()},
        "cpu_1_thread_s": {k: round(med(v), 2) for k, v in cpus_1t.items()},
        "wall_1_thread_s": {k: round(med(v), 2) for k, v in walls_1t.items()},
        "raw_passages_per_s_1_thread": round(passages / med(walls_1t["raw"]), 1),
        "ratio_cpu_1_thread": round(raw_cpu_1t / med(cpus_1t["serial"]), 3),
        "ratio_cpu_1_thread_overlap": round(raw_cpu_1t / med(cpus_1t["overlap"]), 3),
        "embed_passages_s": round(embed_passages_s, 3),
        "embed_passages_per_s": round(passages / embed_passages_s, 1),
        "load": load,
        "load_1_thread": load_1t,
        "load_after": load_average(),
    }


def run(
    synthetic: Path | None, repeats: int = 3, profile: bool = True, devsets: Path | None = None
) -> dict[str, Any]:
    quiet()
    from benchmarks.common import ROOT
    from rag.encoders.embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.embed_query("warm up")
    folder = devsets or ROOT / "evals" / "devsets"
    # the statement files (a folder also holds the sets' questions, which are not statements)
    real = [f for name in REAL_CORPORA for f in sorted((folder / name).glob("*.txt"))]
    results = [
        measure(real, "real: debates2019 + squad2-cct", repeats, embedder),
        measure(None, "bundled (2 statements)", repeats, embedder),
    ]
    if synthetic is not None:
        results.append(measure([synthetic], f"synthetic {synthetic.name}", 1, embedder))
    data: dict[str, Any] = {"runs": results}
    if profile:
        from benchmarks.ingest_profile import profile as run_profile

        data["profile"] = [run_profile(real, "real: debates2019 + squad2-cct", embedder)]
    data["load_after"] = load_average()
    return data
