"""The ``rag`` command as it runs with the proposed wiring: query vectors from the ONNX export.

    python -m benchmarks.onnx_cli ask "What is the Quds Force?" --json

Same CLI, same answerer; only ``build_services`` hands it an ``OnnxQueryEmbedder`` over
``<RAG_HOME>/onnx/<hash>`` (made by ``python -m benchmarks.onnx_cli --export``) instead of the
sentence-transformers embedder, so nothing on the query path imports torch. On exit it
writes ``BENCH_MODULES {...}`` on stderr: which heavy packages the process imported.
"""

from __future__ import annotations

import json
import sys
from typing import Any

HEAVY = (
    "torch",
    "sentence_transformers",
    "transformers",
    "onnxruntime",
    "tokenizers",
    "chromadb",
    "bm25s",
    "scipy",
    "sklearn",
    "pandas",
    "langchain_core",
    "gradio",
    "numpy",
)


def export(home: str) -> None:
    """Write the ONNX export for the configured model into ``home`` (imports torch)."""
    from pathlib import Path

    from rag.embeddings import SentenceTransformerEmbedder, resolve_model_path
    from rag.onnx_embedder import export_dir, export_onnx
    from rag.settings import Settings

    settings = Settings(home=Path(home))
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    export_onnx(
        resolve_model_path(settings.embedding_model),
        export_dir(settings.home, settings.embedding_model),
        settings.embedding_model,
        model=embedder.model,
    )


def main() -> None:
    if sys.argv[1:2] == ["--export"]:
        export(sys.argv[2])
        return
    import rag.service as service
    from rag.onnx_embedder import OnnxQueryEmbedder, export_dir

    original = service.build_services

    def build_services(settings: Any, embedder: Any = None) -> Any:
        if embedder is None:
            embedder = OnnxQueryEmbedder(export_dir(settings.home, settings.embedding_model))
        return original(settings, embedder=embedder)

    service.build_services = build_services  # type: ignore[assignment]
    from ui.cli import main as cli

    sys.argv = ["rag", *sys.argv[1:]]
    try:
        cli()
    finally:
        loaded = sorted(m for m in HEAVY if m in sys.modules)
        print("BENCH_MODULES " + json.dumps(loaded), file=sys.stderr)


if __name__ == "__main__":
    main()
