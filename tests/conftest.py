"""Shared fixtures: one real model per session, real Chroma in temp dirs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.service import Services, build_services
from rag.settings import Settings

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh, empty data directory."""
    return Settings(home=tmp_path / "home")


@pytest.fixture
def services(settings: Settings, embedder: SentenceTransformerEmbedder) -> Services:
    """Services over an empty store in a temp dir."""
    return build_services(settings, embedder=embedder)


@pytest.fixture(scope="session")
def bundled(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Services]:
    """Services over the bundled statements, ingested once per session. Read-only: tests
    that write must use ``services`` instead."""
    home = tmp_path_factory.mktemp("bundled-home")
    settings = Settings(home=home)
    svc = build_services(settings, embedder=embedder)
    Ingestor(settings, svc.store, svc.embedder).run([BUNDLED_CORPUS])
    yield svc


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
