"""Warm answer latency per question kind on the real corpora (evals/devsets, read in place).

Each set is ingested into its own data directory the way the app does it (questions through
the ONNX export the ingest writes), every case is answered once unmeasured (caches, the
keyword index, any lazily loaded model), then ``rounds`` times measured. Each answer is
bracketed by the floor, one bare query embedding of the same question (ONNX, the app's
default, and sentence-transformers), in alternating order, so that load from other jobs on
the shared cores hits answer and floor alike. A follow-up's earlier turns are answered
before its clock starts (as ``evals.devsets.run`` does); filters and compare lists are the
case's own.
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.common import Stats, load_average, quiet

SET_NAMES = ("debates2019", "squad2")


def _clocked(fn: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return (time.perf_counter() - wall) * 1000.0, (time.process_time() - cpu) * 1000.0, result


def run_set(name: str, home: Path, st: Any, rounds: int) -> dict[str, Any]:
    from evals.devsets import SETS
    from evals.devsets.run import devset_services
    from rag.encoders.onnx import HybridEmbedder, export_dir
    from rag.models import Filters

    devset = SETS[name]
    hybrid = HybridEmbedder(st, export_dir(home, st.model_name))
    started = time.perf_counter()
    services = devset_services(home, devset, embedder=hybrid)
    ingest_s = time.perf_counter() - started
    backend = hybrid.query_backend()
    answerer = services.answerer
    cases = devset.cases()
    plain = _without_reranker(services, hybrid)

    def prepared(case: Any) -> tuple[Any, Filters, list[Any]]:
        filters = Filters(**case.filters)
        history: list[Any] = []
        for previous in case.history:
            history.append(answerer.answer(previous, filters, history=history))
        return case, filters, history

    started = time.perf_counter()
    turns = [prepared(c) for c in cases]  # also the unmeasured warm-up of every question
    for case, filters, history in turns:
        answerer.answer(case.question, filters, history=history, compare=case.compare)
    warm_s = time.perf_counter() - started
    wall: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    floor_onnx: dict[str, list[float]] = defaultdict(list)
    floor_st: dict[str, list[float]] = defaultdict(list)
    plain_wall: dict[str, list[float]] = defaultdict(list)
    rerank_ms: dict[str, list[float]] = defaultdict(list)
    if plain is not None:  # its unmeasured first pass too
        for case, filters, history in turns:
            plain.answer(case.question, filters, history=history, compare=case.compare)
    for r in range(rounds):
        for i, (case, filters, history) in enumerate(turns):

            def answer(c: Any = case, f: Filters = filters, h: list[Any] = history) -> Any:
                return answerer.answer(c.question, f, history=h, compare=c.compare)

            steps = [
                ("answer", answer),
                ("onnx", lambda q=case.question: hybrid.embed_query(q)),
                ("st", lambda q=case.question: st.embed_query(q)),
            ]
            if plain is not None:

                def answer_plain(c: Any = case, f: Filters = filters, h: Any = history) -> Any:
                    return plain.answer(c.question, f, history=h, compare=c.compare)

                steps.append(("plain", answer_plain))
            shift = (i + r) % len(steps)
            for label, fn in steps[shift:] + steps[:shift]:
                w, c, result = _clocked(fn)
                for kind in (case.kind, "all"):
                    if label == "answer":
                        wall[kind].append(w)
                        cpu[kind].append(c)
                        rerank_ms[kind].append(float(result.timings_ms.get("rerank", 0.0)))
                    elif label == "onnx":
                        floor_onnx[kind].append(w)
                    elif label == "plain":
                        plain_wall[kind].append(w)
                    else:
                        floor_st[kind].append(w)
    kinds: dict[str, Any] = {}
    for kind in sorted(wall, key=lambda k: (k == "all", k)):
        a, fo, fs = Stats(wall[kind]), Stats(floor_onnx[kind]), Stats(floor_st[kind])
        kinds[kind] = {
            "n": len(wall[kind]) // rounds,
            "p50_ms": round(a.p50, 2),
            "p95_ms": round(a.p95, 2),
            "cpu_p50_ms": round(Stats(cpu[kind]).p50, 2),
            "floor_onnx_p50_ms": round(fo.p50, 2),
            "floor_st_p50_ms": round(fs.p50, 2),
            "ratio_p50_to_floor_onnx": round(a.p50 / fo.p50, 2),
            "ratio_p50_to_floor_st": round(a.p50 / fs.p50, 2),
            "rerank_p50_ms": round(Stats(rerank_ms[kind]).p50, 2),
            "rerank_p95_ms": round(Stats(rerank_ms[kind]).p95, 2),
        }
        if plain_wall[kind]:
            p = Stats(plain_wall[kind])
            kinds[kind]["no_reranker_p50_ms"] = round(p.p50, 2)
            kinds[kind]["no_reranker_p95_ms"] = round(p.p95, 2)
    return {
        "set": name,
        "statements": len(services.store.statements()),
        "cases": len(cases),
        "query_backend": backend,
        "ingest_s": round(ingest_s, 2),
        "warm_up_s": round(warm_s, 2),
        "kinds": kinds,
    }


def _without_reranker(services: Any, embedder: Any) -> Any:
    """The same answerer without its cross-encoder (None when the answerer has none)."""
    from inspect import signature

    from rag.pipeline import Answerer

    if "reranker" not in signature(Answerer).parameters:
        return None
    return Answerer(services.settings, services.store, embedder, services.catalog, None, None)


def run(rounds: int = 2) -> dict[str, Any]:
    quiet()
    from rag.encoders.embeddings import SentenceTransformerEmbedder

    st = SentenceTransformerEmbedder()
    st.embed_query("warm up")
    load_before = load_average()
    sets = []
    with tempfile.TemporaryDirectory(prefix="bench-devsets-") as tmp:
        for name in SET_NAMES:
            sets.append(run_set(name, Path(tmp) / name, st, rounds))
    return {
        "rounds": rounds,
        "sets": sets,
        "load_before": load_before,
        "load_after": load_average(),
    }
