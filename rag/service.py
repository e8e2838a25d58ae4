"""The composition root: builds the store, embedder, catalog and answerer once."""

from __future__ import annotations

from dataclasses import dataclass

from rag.encoders.cross_encoder import load_reranker
from rag.encoders.embeddings import PassageEmbedder, SentenceTransformerEmbedder
from rag.encoders.onnx import HybridEmbedder, export_dir
from rag.pipeline import Answerer
from rag.settings import Settings
from rag.store.catalog import Catalog
from rag.store.chroma import ChromaStore


@dataclass
class Services:
    settings: Settings
    store: ChromaStore
    embedder: PassageEmbedder
    catalog: Catalog
    answerer: Answerer


def build_services(settings: Settings, embedder: PassageEmbedder | None = None) -> Services:
    """Wire the parts for the CLI and the UI. The model loads lazily on first use.

    Questions are embedded through the ONNX export of the model when there is one
    (``<home>/onnx/<hash>``, written by the first ingest): the same vectors, and
    ``rag ask`` then never imports torch. Ingest always uses sentence-transformers.
    """
    store = ChromaStore.from_settings(settings)
    if embedder is None:
        embedder = SentenceTransformerEmbedder(
            settings.embedding_model, settings.embedding_device, settings.embedding_batch_size
        )
        if settings.onnx_queries:
            embedder = HybridEmbedder(embedder, export_dir(settings.home, settings.embedding_model))
    catalog = Catalog(store, settings.keyword_dir / settings.collection_prefix)
    llm = None
    if settings.llm:  # optional: langchain is imported only when an LLM is configured
        from rag.llm.answerer import LLMAnswerer

        llm = LLMAnswerer.from_settings(settings)
    answerer = Answerer(
        settings, store, embedder, catalog, llm, load_reranker(settings.reranker_model)
    )
    return Services(settings, store, embedder, catalog, answerer)
