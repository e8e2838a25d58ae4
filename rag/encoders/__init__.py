"""The models that turn text into numbers: the sentence embedder (sentence-transformers,
or its ONNX export for questions) and the cross-encoder that rereads the best sentences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.lazy import lazy_exports

_EXPORTS = {
    "Embedder": "embeddings",
    "PassageEmbedder": "embeddings",
    "SentenceTransformerEmbedder": "embeddings",
    "HybridEmbedder": "onnx",
    "export_dir": "onnx",
    "Reranker": "cross_encoder",
    "load_reranker": "cross_encoder",
}
__all__ = [
    "Embedder",
    "HybridEmbedder",
    "PassageEmbedder",
    "Reranker",
    "SentenceTransformerEmbedder",
    "export_dir",
    "load_reranker",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from rag.encoders.cross_encoder import Reranker, load_reranker
    from rag.encoders.embeddings import Embedder, PassageEmbedder, SentenceTransformerEmbedder
    from rag.encoders.onnx import HybridEmbedder, export_dir
