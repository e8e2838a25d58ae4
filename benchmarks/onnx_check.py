"""The ONNX query embedder against sentence-transformers: same vectors, same rankings, same answers.

Over every eval question: the cosine between the two query vectors, the dense ranking
(top ``candidates`` passage ids from Chroma), and the whole eval run (history, filters,
compare) through the eval harness with each query embedder over one ingested store; every
scored field of every case must be identical (only the latency may differ).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import eval_questions, load_average, quiet


def run() -> dict[str, Any]:
    quiet()
    from evals.cases import load_cases
    from evals.harness import bundled_services, run_cases
    from rag.encoders.embeddings import SentenceTransformerEmbedder, resolve_model_path
    from rag.encoders.onnx import OnnxQueryEmbedder, export_dir, export_onnx
    from rag.pipeline import Answerer
    from rag.service import Services

    questions = eval_questions()
    with tempfile.TemporaryDirectory(prefix="bench-onnx-") as tmp:
        st = SentenceTransformerEmbedder()
        services = bundled_services(Path(tmp) / "home", embedder=st)
        settings = services.settings
        out = export_dir(settings.home, settings.embedding_model)
        export_onnx(
            resolve_model_path(settings.embedding_model),
            out,
            settings.embedding_model,
            model=st.model,
        )
        onnx = OnnxQueryEmbedder(out)
        a = np.stack([st.embed_query(q) for q in questions])
        b = np.stack([onnx.embed_query(q) for q in questions])
        cosines = (a * b).sum(axis=1)
        long_texts = ["word " * 600, "x", "Soleimani " * 40]
        long_cos = (st.embed_documents(long_texts) * onnx.embed_documents(long_texts)).sum(axis=1)
        n = settings.candidates
        same_ranking = sum(
            [pid for pid, _ in services.store.query(a[i], n)]
            == [pid for pid, _ in services.store.query(b[i], n)]
            for i in range(len(questions))
        )
        reranker = services.answerer.reranker.model  # the app's cross-encoder
        onnx_services = Services(
            settings,
            services.store,
            services.embedder,
            services.catalog,
            Answerer(settings, services.store, onnx, services.catalog, None, reranker),
        )
        cases = load_cases()
        with_st = run_cases(services, cases)
        with_onnx = run_cases(onnx_services, cases)

    def scored(result: Any) -> dict[str, Any]:
        data = dataclasses.asdict(result)
        data.pop("latency_ms", None)
        return data

    differing = [x.id for x, y in zip(with_st, with_onnx) if scored(x) != scored(y)]
    return {
        "questions": len(questions),
        "min_cosine": float(cosines.min()),
        "min_cosine_long_inputs": float(long_cos.min()),
        "identical_dense_rankings": f"{same_ranking}/{len(questions)} (top {n})",
        "eval_cases": len(cases),
        "eval_cases_identical": len(cases) - len(differing),
        "eval_cases_differing": differing,
        "load": load_average(),
    }
