"""The ONNX query embedder: sentence-transformers' vectors without importing torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.encoders.embeddings import SentenceTransformerEmbedder, resolve_model_path
from rag.encoders.onnx import (
    HybridEmbedder,
    OnnxQueryEmbedder,
    export_dir,
    export_onnx,
    read_manifest,
)
from rag.encoders.onnx_files import MANIFEST_FILE, MODEL_FILE, WEIGHTS_FILE, file_record


@pytest.fixture(scope="module")
def onnx_dir(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Path:
    out = export_dir(tmp_path_factory.mktemp("home"), embedder.model_name)
    export_onnx(
        resolve_model_path(embedder.model_name), out, embedder.model_name, model=embedder.model
    )
    return out


def test_same_vectors_as_sentence_transformers(
    onnx_dir: Path, embedder: SentenceTransformerEmbedder
) -> None:
    texts = ["What is the Quds Force?", "Who was killed?", "word " * 600, "x"]  # 600: truncated
    onnx = OnnxQueryEmbedder(onnx_dir)
    cosines = (onnx.embed_documents(texts) * embedder.embed_documents(texts)).sum(axis=1)
    assert cosines.min() > 0.9999
    assert onnx.model_name == embedder.model_name
    assert np.allclose(np.linalg.norm(onnx.embed_documents(texts), axis=1), 1.0, atol=1e-5)


def test_weights_kept_apart_give_the_same_vectors_to_the_bit(
    onnx_dir: Path, tmp_path: Path
) -> None:
    """The export keeps its weights in model.onnx.data (a quicker session load); an export
    of the earlier single-file layout (no ``weights`` in its manifest) still loads, and both
    embed exactly alike."""
    import onnx

    manifest = read_manifest(onnx_dir)
    assert manifest is not None and manifest["weights"] == WEIGHTS_FILE
    assert (onnx_dir / WEIGHTS_FILE).stat().st_size > 20 * (onnx_dir / MODEL_FILE).stat().st_size
    single = tmp_path / "single"
    shutil.copytree(onnx_dir, single)
    onnx.save_model(onnx.load(str(onnx_dir / MODEL_FILE)), str(single / MODEL_FILE))
    (single / WEIGHTS_FILE).unlink()
    del manifest["weights"], manifest["weights_file"]
    manifest["model"] = file_record(single / MODEL_FILE)  # its size and sha256, as written
    (single / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    texts = ["What is the Quds Force?", "Who was killed?", "word " * 600, "x"]
    apart = OnnxQueryEmbedder(onnx_dir).embed_documents(texts)
    assert np.array_equal(OnnxQueryEmbedder(single).embed_documents(texts), apart)


def test_an_export_missing_its_weights_is_no_export(onnx_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(onnx_dir, broken)
    (broken / WEIGHTS_FILE).unlink()
    assert read_manifest(broken) is None


def test_query_path_imports_no_torch(onnx_dir: Path) -> None:
    code = (
        "import sys; from pathlib import Path; "
        "from rag.encoders.onnx import OnnxQueryEmbedder; "
        f"OnnxQueryEmbedder(Path({str(onnx_dir)!r})).embed_query('q'); "
        "heavy = {'torch', 'transformers', 'sentence_transformers'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_hybrid_exports_once_then_queries_through_onnx(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    out = export_dir(tmp_path, embedder.model_name)
    first = HybridEmbedder(embedder, out)
    assert first.query_backend() == "sentence-transformers"
    first.embed_passages(["One sentence. Two."], [[(0, 13), (14, 18)]])  # ingest exports
    assert read_manifest(out) is not None
    second = HybridEmbedder(embedder, out)
    assert second.query_backend() == "onnx"
    vector = second.embed_query("Who was killed?")
    assert float(vector @ embedder.embed_query("Who was killed?")) > 0.9999


def test_an_export_of_another_model_is_ignored(
    onnx_dir: Path, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    other = HybridEmbedder(_Renamed(embedder, "some/other-model"), onnx_dir)
    assert other.query_backend() == "sentence-transformers"


class _Renamed:
    def __init__(self, inner: SentenceTransformerEmbedder, name: str) -> None:
        self._inner, self.model_name = inner, name

    def embed_query(self, text: str) -> np.ndarray:
        return self._inner.embed_query(text)


def test_rag_ask_after_ingest_never_imports_torch(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """The composition the CLI uses: the ingest writes the export, and a new `rag ask`
    process answers without importing torch (the cold-start win of issue 6)."""
    from ingest.pipeline import BUNDLED_CORPUS, Ingestor
    from rag.service import build_services
    from rag.settings import Settings

    settings = Settings(home=tmp_path / "home")
    hybrid = HybridEmbedder(embedder, export_dir(settings.home, embedder.model_name))
    services = build_services(settings, embedder=hybrid)
    Ingestor(settings, services.store, services.embedder).run([BUNDLED_CORPUS])
    code = (
        "import sys\n"
        "from ui.cli import app\n"
        "try:\n"
        "    app(['ask', 'What is the Quds Force?', '--json'])\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "heavy = {'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "RAG_HOME": str(settings.home)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["citations"], done.stdout
