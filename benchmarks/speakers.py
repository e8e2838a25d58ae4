"""Warm latency of the answers whose unit is a speaker (issue 20), on the whole ``sotu``
folder: 228 State of the Union addresses by 42 presidents (~25k passages).

- positions over every president: the topics of the sotu positions cases, asked as
  "Where do the presidents stand on <topic>?" over all 42 (no date or party filter);
- two-speaker comparisons: the sotu compare cases;
- timelines: the sotu timeline cases.

The folder is ingested once (``BENCH_SOTU_HOME`` keeps it between runs), every question is
answered once unmeasured, then ``rounds`` times measured; p50/p95 per kind and the stage
timings the answers report (retrieve, score, rerank) at p50.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.common import load_average, quiet


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def questions() -> dict[str, list[str]]:
    """The questions per kind, from the sotu cases."""
    from evals.devsets import SETS
    from rag.stages.intent import read_intent

    cases = SETS["sotu"].cases()
    topics = dict.fromkeys(
        read_intent(c.question, []).topic for c in cases if c.kind == "positions"
    )
    return {
        "positions": [f"Where do the presidents stand on {t}?" for t in topics],
        "compare": [c.question for c in cases if c.kind == "compare"],
        "timeline": [c.question for c in cases if c.kind == "timeline"],
    }


def run(rounds: int = 3) -> dict[str, Any]:
    from evals.devsets import SETS
    from evals.harness import ingested_services
    from rag.encoders.embeddings import SentenceTransformerEmbedder
    from rag.encoders.onnx import HybridEmbedder, export_dir

    result: dict[str, Any] = {"load_before": load_average(), "rounds": rounds}
    keep = os.environ.get("BENCH_SOTU_HOME")
    with tempfile.TemporaryDirectory(prefix="bench-sotu-") as tmp:
        home = Path(keep) if keep else Path(tmp)
        st = SentenceTransformerEmbedder()
        hybrid = HybridEmbedder(st, export_dir(home, st.model_name))
        quiet()
        started = time.perf_counter()
        services = ingested_services(home, SETS["sotu"].all_files, hybrid)
        result["ingest_s"] = round(time.perf_counter() - started, 1)
        statements = services.store.statements()
        result["statements"] = len(statements)
        result["speakers"] = len({s.speaker for s in statements})
        result["passages"] = services.store.count_passages()
        answerer = services.answerer
        asked = questions()
        for items in asked.values():  # warm-up: caches, the keyword index, models
            for q in items:
                answerer.answer(q)
        walls: dict[str, list[float]] = defaultdict(list)
        stages: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        modes: dict[str, set[str]] = defaultdict(set)
        for _ in range(rounds):
            for kind, items in asked.items():
                for q in items:
                    t0 = time.perf_counter()
                    answer = answerer.answer(q)
                    walls[kind].append((time.perf_counter() - t0) * 1000.0)
                    modes[kind].add(answer.mode)
                    for stage, ms in answer.timings_ms.items():
                        stages[kind][stage].append(ms)
    result["kinds"] = {
        kind: {
            "questions": len(asked[kind]),
            "answers": len(values),
            "modes": sorted(modes[kind]),
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(_p(values, 0.95), 1),
            "stages_p50_ms": {
                stage: round(statistics.median(ms), 1) for stage, ms in stages[kind].items()
            },
        }
        for kind, values in walls.items()
    }
    result["load_after"] = load_average()
    return result
