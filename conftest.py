"""Fixtures shared by ``tests/`` and ``evals/``: offline libraries, a private data
directory for every test, and one real model for the whole session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from rag.encoders.embeddings import SentenceTransformerEmbedder


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Nothing touches the user's real data directory, a configured server or an LLM."""
    monkeypatch.setenv("RAG_HOME", str(tmp_path_factory.mktemp("rag-home")))
    monkeypatch.delenv("RAG_CHROMA_URL", raising=False)
    monkeypatch.delenv("RAG_LLM", raising=False)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    emb = SentenceTransformerEmbedder()
    emb.embed_query("warm up")
    return emb
