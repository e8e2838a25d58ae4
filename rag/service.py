"""The composition root: builds the store, embedder, catalog and answerer once."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from rag.encoders.cross_encoder import load_reranker
from rag.encoders.embeddings import PassageEmbedder, SentenceTransformerEmbedder
from rag.encoders.onnx import HybridEmbedder, export_dir
from rag.pipeline import Answerer
from rag.settings import Settings
from rag.store.catalog import Catalog
from rag.store.chroma import ChromaStore

logger = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    store: ChromaStore
    embedder: PassageEmbedder
    catalog: Catalog
    answerer: Answerer


def build_services(
    settings: Settings, embedder: PassageEmbedder | None = None, *, preload: bool = False
) -> Services:
    """Wire the parts for the CLI and the UI. The models load lazily on first use.

    Questions are embedded through the ONNX export of the model when there is one
    (``<home>/onnx/<hash>``, written by the first ingest): the same vectors, and
    ``rag ask`` then never imports torch. Ingest always uses sentence-transformers.

    With ``preload`` (a one-question process: ``rag ask``), the ONNX question embedder and
    the cross-encoder load in a background thread while this one opens the store:
    onnxruntime builds its sessions without the GIL, so on a machine with a free core they
    load in the shadow of importing chromadb.
    """
    if embedder is None:
        embedder = SentenceTransformerEmbedder(
            settings.embedding_model, settings.embedding_device, settings.embedding_batch_size
        )
        if settings.onnx_queries:
            embedder = HybridEmbedder(embedder, export_dir(settings.home, settings.embedding_model))
    reranker = load_reranker(settings.reranker_model)
    if preload:
        _preload_in_background(embedder, reranker)
    store = ChromaStore.from_settings(settings)
    catalog = Catalog(store, settings.keyword_dir / settings.collection_prefix)
    llm = None
    if settings.llm:  # optional: langchain is imported only when an LLM is configured
        from rag.llm.answerer import LLMAnswerer

        llm = LLMAnswerer.from_settings(settings)
    answerer = Answerer(settings, store, embedder, catalog, llm, reranker)
    return Services(settings, store, embedder, catalog, answerer)


def _preload_in_background(*parts: object) -> None:
    """Call ``preload()`` on each part that has one, in a daemon thread. A part that fails
    to load here loads (and fails) again on first use, where its error is reported."""

    def run() -> None:
        for part in parts:
            preload = getattr(part, "preload", None)
            if preload is None:
                continue
            try:
                preload()
            except Exception as exc:  # reported on first use
                logger.debug("preloading %s failed: %s", type(part).__name__, exc)

    threading.Thread(target=run, name="preload-models", daemon=True).start()
