"""Where ingest time goes: one real Ingestor run with timers around its parts.

Torch runs on one thread and the writer thread is off, so every part runs on the calling
thread and its CPU seconds (``time.thread_time``) add up to the run's. Timed in the run:
reading files (load, clean, chunk, hash), the encode (``embed_passages``) and within it the
sentence pooling, the Chroma writes. Timed after it, on the same passages: tokenizing with
offsets (inside the encode, counted there), building and saving the keyword index (the first
question after an ingest does it), and the ONNX export of the query model (the first ingest
of a data directory writes it).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from inspect import signature
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.common import load_average, torch_threads

F = TypeVar("F", bound=Callable[..., Any])


class _Clock:
    """Wall and thread-CPU seconds per part."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def add(self, part: str, wall: float, cpu: float) -> None:
        self.wall[part] = self.wall.get(part, 0.0) + wall
        self.cpu[part] = self.cpu.get(part, 0.0) + cpu

    def wrap(self, part: str, fn: F) -> F:
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(part, time.perf_counter() - wall, time.thread_time() - cpu)

        return timed  # type: ignore[return-value]

    def time(self, part: str, fn: Callable[[], Any]) -> Any:
        return self.wrap(part, fn)()


def profile(corpora: Sequence[Path], label: str, embedder: Any) -> dict[str, Any]:
    import rag.encoders.embeddings as embeddings
    from ingest.pipeline import Ingestor
    from rag.encoders.onnx import export_onnx
    from rag.settings import Settings
    from rag.store.chroma import ChromaStore
    from rag.store.keyword import KeywordIndex

    clock = _Clock()
    load = load_average()
    pool = embeddings._pool_sentences
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp, torch_threads(1):
        warm = Settings(home=Path(tmp) / "warm")  # Chroma's first-use costs, unmeasured
        Ingestor(warm, ChromaStore.from_settings(warm), embedder).run(list(corpora))
        settings = Settings(home=Path(tmp) / "home")
        store = ChromaStore.from_settings(settings)
        has_writer = "overlap_writes" in signature(Ingestor).parameters
        serial = {"overlap_writes": False} if has_writer else {}
        ingestor = Ingestor(settings, store, embedder, **serial)
        ingestor._prepare = clock.wrap("files", ingestor._prepare)  # type: ignore[method-assign]
        store.write_statements = clock.wrap("chroma_writes", store.write_statements)  # type: ignore[method-assign]
        embedder.embed_passages = clock.wrap("encode", embedder.embed_passages)
        embeddings._pool_sentences = clock.wrap("sentence_pooling", pool)
        try:
            wall, cpu = time.perf_counter(), time.thread_time()
            report = ingestor.run(list(corpora))
            total_wall, total_cpu = time.perf_counter() - wall, time.thread_time() - cpu
        finally:
            del embedder.embed_passages
            embeddings._pool_sentences = pool
        passages = list(store.iter_passages())
        texts = [p.text for p in passages]
        model = embedder.model
        clock.time(
            "tokenize_offsets",
            lambda: model.tokenizer(
                texts, return_offsets_mapping=True, truncation=True, max_length=model.max_seq_length
            ),
        )
        index = clock.time("keyword_index_build", lambda: KeywordIndex.build(passages))
        clock.time("keyword_index_save", lambda: index.save(Path(tmp) / "kw", "bench"))
        model_path = embeddings.resolve_model_path(embedder.model_name)
        clock.time(
            "onnx_export",
            lambda: export_onnx(model_path, Path(tmp) / "onnx", embedder.model_name, model=model),
        )
    in_run = ("files", "encode", "chroma_writes")
    other_wall = total_wall - sum(clock.wall.get(k, 0.0) for k in in_run)
    other_cpu = total_cpu - sum(clock.cpu.get(k, 0.0) for k in in_run)
    parts = {
        "files": "read, clean, chunk, hash files",
        "encode": "encode (embed_passages: tokenize, model forward, pooling)",
        "model_forward": "  of which model forward + tokenize",
        "sentence_pooling": "  of which sentence vectors (token pooling)",
        "chroma_writes": "Chroma writes (passages, statement records)",
        "other": "listing, orphan sweep, version token",
        "tokenize_offsets": "tokenize with offsets (inside encode), alone",
        "keyword_index_build": "keyword index build (first question after ingest)",
        "keyword_index_save": "keyword index save",
        "onnx_export": "ONNX export of the query model (first ingest only)",
    }
    clock.wall["model_forward"] = clock.wall["encode"] - clock.wall.get("sentence_pooling", 0.0)
    clock.cpu["model_forward"] = clock.cpu["encode"] - clock.cpu.get("sentence_pooling", 0.0)
    clock.wall["other"], clock.cpu["other"] = other_wall, other_cpu
    return {
        "corpus": label,
        "passages": report.passages_written,
        "ingest_wall_s": round(total_wall, 2),
        "ingest_cpu_s": round(total_cpu, 2),
        "parts": [
            {
                "part": key,
                "label": text,
                "wall_s": round(clock.wall.get(key, 0.0), 3),
                "cpu_s": round(clock.cpu.get(key, 0.0), 3),
                "share_of_ingest_cpu": (
                    round(clock.cpu.get(key, 0.0) / total_cpu, 3)
                    if key not in ("tokenize_offsets",) and not key.startswith(("keyword", "onnx"))
                    else None
                ),
            }
            for key, text in parts.items()
        ],
        "load": load,
        "load_after": load_average(),
    }
