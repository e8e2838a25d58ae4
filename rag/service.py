"""The composition root: builds the store, embedder, catalog and answerer once."""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer import Answerer
from rag.catalog import Catalog
from rag.embeddings import SentenceTransformerEmbedder
from rag.settings import Settings
from rag.store import ChromaStore


@dataclass
class Services:
    settings: Settings
    store: ChromaStore
    embedder: SentenceTransformerEmbedder
    catalog: Catalog
    answerer: Answerer


def build_services(
    settings: Settings, embedder: SentenceTransformerEmbedder | None = None
) -> Services:
    """Wire the parts for the CLI and the UI. The model loads lazily on first use."""
    store = ChromaStore.from_settings(settings)
    embedder = embedder or SentenceTransformerEmbedder(
        settings.embedding_model, settings.embedding_device, settings.embedding_batch_size
    )
    catalog = Catalog(store, settings.keyword_dir / settings.collection_prefix)
    llm = None
    if settings.llm:  # optional: langchain is imported only when an LLM is configured
        from rag.llm import LLMAnswerer

        llm = LLMAnswerer.from_settings(settings)
    answerer = Answerer(settings, store, embedder, catalog, llm)
    return Services(settings, store, embedder, catalog, answerer)
