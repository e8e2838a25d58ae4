"""Warm answer latency against the floor (one bare query embedding) and plain LangChain.

Everything runs in this process over the bundled statements: the project's answerer (with
its cross-encoder, ``RAG_RERANKER_MODEL``, as the app builds it; with the sentence-transformers
query embedder, and with the ONNX one), a bare ``embed_query`` of the same question with each,
and the pipeline a user would otherwise write (RecursiveCharacterTextSplitter +
langchain_chroma.Chroma + HuggingFaceEmbeddings, ``similarity_search(k=4)``). The
candidates are interleaved question by question, in a rotating order, so that load from
other processes on the shared cores hits them alike.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import Stats, eval_questions, load_average, quiet

LANGCHAIN_CHUNK_SIZE = 1000
LANGCHAIN_CHUNK_OVERLAP = 200


class CountingEmbedder:
    """Delegates to an embedder and counts query embeddings (per answer)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.queries = 0

    @property
    def model_name(self) -> str:
        return str(self.inner.model_name)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.inner.embed_documents(texts))

    def embed_query(self, text: str) -> np.ndarray:
        self.queries += 1
        return np.asarray(self.inner.embed_query(text))


def langchain_store(folder: Path, model_path: str) -> Any:
    """The plain LangChain pipeline over the bundled statement files."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.pipeline import BUNDLED_CORPUS

    docs = [
        Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name})
        for p in sorted(BUNDLED_CORPUS.glob("*.txt"))
    ]
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=LANGCHAIN_CHUNK_SIZE, chunk_overlap=LANGCHAIN_CHUNK_OVERLAP
    )
    splits = splitter.split_documents(docs)
    embeddings = HuggingFaceEmbeddings(model_name=model_path)
    db = Chroma(
        collection_name="langchain_bench",
        embedding_function=embeddings,
        persist_directory=str(folder),
    )
    db.add_documents(splits)
    return db


def one_torch_thread(fn: Callable[[str], Any]) -> Callable[[str], Any]:
    """``fn`` run with torch limited to one intra-op thread (restored afterwards)."""
    import torch

    def wrapped(q: str) -> Any:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(q)
        finally:
            torch.set_num_threads(threads)

    return wrapped


def _measure(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = fn()
    return (
        (time.perf_counter() - wall0) * 1000.0,
        (time.process_time() - cpu0) * 1000.0,
        result,
    )


def run(rounds: int = 3, limit: int | None = None) -> dict[str, Any]:
    """Latency of each candidate over the eval questions, ``rounds`` times each."""
    quiet()
    from ingest.pipeline import Ingestor
    from rag.encoders.embeddings import SentenceTransformerEmbedder, resolve_model_path
    from rag.encoders.onnx import OnnxQueryEmbedder, export_dir, export_onnx
    from rag.pipeline import Answerer
    from rag.service import build_services
    from rag.settings import Settings

    questions = eval_questions()[:limit]
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        settings = Settings(home=Path(tmp) / "home")
        st = SentenceTransformerEmbedder(settings.embedding_model)
        services = build_services(settings, embedder=st)
        Ingestor(settings, services.store, st).run()
        services.catalog.invalidate()
        model_path = resolve_model_path(settings.embedding_model)
        out = export_dir(settings.home, settings.embedding_model)
        export_onnx(model_path, out, settings.embedding_model, model=st.model)
        onnx = OnnxQueryEmbedder(out)
        counting = CountingEmbedder(st)
        # the app's cross-encoder (RAG_RERANKER_MODEL), one instance: loaded once, lazily
        reranker = services.answerer.reranker.model
        answer_st = Answerer(settings, services.store, counting, services.catalog, None, reranker)
        answer_onnx = Answerer(settings, services.store, onnx, services.catalog, None, reranker)
        lc = langchain_store(Path(tmp) / "langchain", model_path)

        candidates: dict[str, Callable[[str], Any]] = {
            "floor_st": st.embed_query,
            "answer_st": answer_st.answer,
            "floor_st_1t": one_torch_thread(st.embed_query),
            "answer_st_1t": one_torch_thread(answer_st.answer),
            "floor_onnx": onnx.embed_query,
            "answer_onnx": answer_onnx.answer,
            "langchain": lambda q: lc.similarity_search(q, k=4),
        }
        for q in questions:  # warm every path (caches, keyword index, lazy loads)
            for fn in candidates.values():
                fn(q)
        wall: dict[str, list[float]] = {name: [] for name in candidates}
        cpu: dict[str, list[float]] = {name: [] for name in candidates}
        parts: dict[str, list[float]] = {
            "embed": [],
            "retrieve": [],
            "score": [],
            "rerank": [],
            "total": [],
        }
        embeds_per_answer: list[int] = []
        names = list(candidates)
        for r in range(rounds):
            for i, q in enumerate(questions):
                shift = (i + r) % len(names)
                for name in names[shift:] + names[:shift]:
                    before = counting.queries
                    w, c, result = _measure(lambda fn=candidates[name], q=q: fn(q))
                    wall[name].append(w)
                    cpu[name].append(c)
                    if name == "answer_st":
                        embeds_per_answer.append(counting.queries - before)
                        for key in parts:
                            parts[key].append(float(result.timings_ms.get(key, 0.0)))

    stats = {name: Stats(v) for name, v in wall.items()}
    cpu_stats = {name: Stats(v) for name, v in cpu.items()}
    return {
        "questions": len(questions),
        "rounds": rounds,
        "wall": {name: s.as_dict() for name, s in stats.items()},
        "cpu_p50_ms": {name: round(s.p50, 2) for name, s in cpu_stats.items()},
        "answer_st_breakdown_p50_ms": {k: round(Stats(v).p50, 2) for k, v in parts.items()},
        "answer_st_breakdown_p95_ms": {k: round(Stats(v).p95, 2) for k, v in parts.items()},
        "embeds_per_answer": {
            "mean": round(sum(embeds_per_answer) / len(embeds_per_answer), 2),
            "max": max(embeds_per_answer),
        },
        "ratios": {
            "answer_st/floor_st p50": round(stats["answer_st"].p50 / stats["floor_st"].p50, 2),
            "answer_onnx/floor_onnx p50": round(
                stats["answer_onnx"].p50 / stats["floor_onnx"].p50, 2
            ),
            "answer_onnx/floor_st p50": round(stats["answer_onnx"].p50 / stats["floor_st"].p50, 2),
            "answer_st_1t/floor_st_1t p50": round(
                stats["answer_st_1t"].p50 / stats["floor_st_1t"].p50, 2
            ),
            "answer_st/langchain p50": round(stats["answer_st"].p50 / stats["langchain"].p50, 2),
            "answer_onnx/langchain p50": round(
                stats["answer_onnx"].p50 / stats["langchain"].p50, 2
            ),
        },
        "langchain": {
            "chunk_size": LANGCHAIN_CHUNK_SIZE,
            "chunk_overlap": LANGCHAIN_CHUNK_OVERLAP,
            "k": 4,
        },
        "load_before": load_before,
        "load_after": load_average(),
    }
