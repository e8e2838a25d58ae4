"""The composition root: with ``preload`` (what ``rag ask`` asks for), the ONNX question
embedder and the cross-encoder load in a background thread while the store opens, and
nothing else changes: the same answers, and a model that cannot load fails on first use
exactly as it does without the preload."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from rag.encoders.cross_encoder import OnnxCrossEncoder
from rag.encoders.embeddings import SentenceTransformerEmbedder, resolve_model_path
from rag.encoders.onnx import HybridEmbedder, OnnxQueryEmbedder, export_dir, export_onnx
from rag.service import Services, build_services
from rag.settings import Settings

QUESTIONS = [
    "What is the Quds Force?",
    "How do the statements differ on the Democratic Party?",
    "How do I bake a loaf of sourdough bread?",
]


def wait_for_preload() -> None:
    for thread in threading.enumerate():
        if thread.name == "preload-models":
            thread.join(timeout=120)
            assert not thread.is_alive()


@pytest.fixture(scope="module")
def home(
    bundled: Services,
    embedder: SentenceTransformerEmbedder,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The bundled store with the ONNX export a first ingest writes."""
    home = tmp_path_factory.mktemp("preload") / "home"
    shutil.copytree(bundled.settings.chroma_path, home / "chroma")
    name = embedder.model_name
    export_onnx(resolve_model_path(name), export_dir(home, name), name, model=embedder.model)
    return home


def test_preload_loads_both_models_in_the_background_and_answers_alike(home: Path) -> None:
    plain = build_services(Settings(home=home))
    preloaded = build_services(Settings(home=home), preload=True)
    wait_for_preload()
    hybrid = preloaded.embedder
    assert isinstance(hybrid, HybridEmbedder)
    assert hybrid.query_backend() == "onnx"
    onnx = hybrid._query_embedder()
    assert isinstance(onnx, OnnxQueryEmbedder) and onnx.loaded
    reranker = preloaded.answerer.reranker.model
    assert isinstance(reranker, OnnxCrossEncoder) and reranker.loaded
    plain_reranker = plain.answerer.reranker.model
    assert isinstance(plain_reranker, OnnxCrossEncoder) and not plain_reranker.loaded
    for question in QUESTIONS:
        want = plain.answerer.answer(question).to_json_dict()
        assert preloaded.answerer.answer(question).to_json_dict() == want, question


def test_a_model_that_cannot_load_fails_on_first_use_as_without_preload(
    home: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "reranker"
    broken.mkdir()
    (broken / "model.onnx").write_bytes(b"not an onnx model")
    (broken / "tokenizer.json").write_text("{}", encoding="utf-8")
    errors = []
    for preload in (False, True):
        services = build_services(Settings(home=home, reranker_model=str(broken)), preload=preload)
        wait_for_preload()
        with pytest.raises(Exception) as caught:
            services.answerer.answer("What is the Quds Force?")
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]
