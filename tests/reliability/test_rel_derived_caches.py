"""Derived data is rebuilt whatever its damage (issue 22 F6, F7): a file in the keyword
cache folder's place, and a damaged ONNX export, give the same answers as before and are
written again, never a raw error on every question."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.encoders.onnx import HybridEmbedder, export_dir
from rag.encoders.onnx_files import (
    MANIFEST_FILE,
    MODEL_FILE,
    VERIFIED_FILE,
    WEIGHTS_FILE,
    checked_files,
    file_record,
)
from rag.service import Services, build_services
from rag.settings import Settings
from rag.store.keyword import KeywordIndex

from .conftest import (
    assert_no_traceback,
    assert_same_answers,
    citation_keys,
    run_rag,
)

QUESTIONS = [
    "What is the Quds Force?",
    "How many US soldiers had died in Iraq according to the SEP?",
]


@pytest.fixture(scope="module")
def copied(tmp_path_factory: pytest.TempPathFactory, bundled: Services) -> Settings:
    home = tmp_path_factory.mktemp("derived-caches")
    shutil.copytree(bundled.settings.chroma_path, home / "chroma")
    return Settings(home=home)


@pytest.mark.parametrize("level", ["keyword", "keyword/statements_qa", "fingerprint"])
def test_a_file_in_the_keyword_cache_folders_place(
    level: str, copied: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    """Before: ``keyword/statements_qa`` replaced by a file raised NotADirectoryError on
    every question, the UI did not start and ingest did not repair it."""
    first = build_services(copied, embedder=embedder)
    want = {q: citation_keys(first.answerer.answer(q)) for q in QUESTIONS}
    snap = first.catalog.snapshot()
    cache = copied.keyword_dir
    target = {
        "keyword": cache,
        "keyword/statements_qa": cache / copied.collection_prefix,
        "fingerprint": cache / copied.collection_prefix / snap.fingerprint,
    }[level]
    shutil.rmtree(cache)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("not a folder")

    again = build_services(copied, embedder=embedder)  # a new process: reads the cache
    assert_same_answers(again, want)
    folder = cache / copied.collection_prefix / snap.fingerprint
    KeywordIndex.load(folder, snap.fingerprint, snap.keywords.size)  # rebuilt and saved


def test_the_cli_answers_over_a_file_in_the_cache_folders_place(copied: Settings) -> None:
    home = copied.home
    shutil.rmtree(copied.keyword_dir, ignore_errors=True)
    copied.keyword_dir.mkdir()
    (copied.keyword_dir / copied.collection_prefix).write_text("junk")
    result = run_rag(["ask", QUESTIONS[0], "--json"], home)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result.stdout, result.stderr)
    assert json.loads(result.stdout)["citations"]


# -- the ONNX export ---------------------------------------------------------------------


def truncate(model: Path) -> None:
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])


def overwrite_middle(model: Path) -> None:  # same size: InvalidProtobuf, or other numbers
    with model.open("r+b") as handle:
        handle.seek(model.stat().st_size // 2)
        handle.write(b"\xff" * 4096)


def flip_one_byte(model: Path) -> None:  # still parses: silently different vectors before
    data = bytearray(model.read_bytes())
    data[len(data) * 2 // 3] ^= 0x55
    model.write_bytes(bytes(data))


def passes_checks_but_not_onnx(model: Path) -> None:
    """Garbage whose checksum is the manifest's (written there by someone): the load
    itself must fail over, not the question."""
    model.write_bytes(b"not a protobuf" * 1000)
    manifest_path = model.parent / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest[checked_files(manifest)[model.name]] = file_record(model)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture(scope="module")
def exported(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Settings:
    """A store ingested with the app's embedder, which wrote the ONNX export."""
    home = tmp_path_factory.mktemp("onnx-home")
    settings = Settings(home=home)
    services = build_services(settings, embedder=_hybrid(settings, embedder))
    Ingestor(settings, services.store, services.embedder).run([BUNDLED_CORPUS])
    assert (export_dir(home, embedder.model_name) / VERIFIED_FILE).is_file()  # at write time
    return settings


def _hybrid(settings: Settings, embedder: SentenceTransformerEmbedder) -> HybridEmbedder:
    return HybridEmbedder(embedder, export_dir(settings.home, embedder.model_name))


@pytest.mark.parametrize("target", [MODEL_FILE, WEIGHTS_FILE])
@pytest.mark.parametrize(
    "damage", [truncate, overwrite_middle, flip_one_byte, passes_checks_but_not_onnx]
)
def test_a_damaged_onnx_export_is_not_used_and_is_written_again(
    damage: Callable[[Path], None],
    target: str,
    exported: Settings,
    embedder: SentenceTransformerEmbedder,
    tmp_path: Path,
) -> None:
    """Before: a damaged ``model.onnx`` raised a raw InvalidProtobuf on every question (or
    embedded wrong vectors), and nothing wrote it again."""
    home = tmp_path / "home"
    shutil.copytree(exported.home, home, symlinks=True)
    settings = Settings(home=home)
    healthy = build_services(settings, embedder=_hybrid(settings, embedder))
    assert healthy.embedder.query_backend() == "onnx"  # type: ignore[attr-defined]
    want = {q: citation_keys(healthy.answerer.answer(q)) for q in QUESTIONS}
    folder = export_dir(home, embedder.model_name)
    damage(folder / target)  # the graph, or the weights kept beside it

    damaged = build_services(settings, embedder=_hybrid(settings, embedder))  # a new process
    assert_same_answers(damaged, want)

    again = _hybrid(settings, embedder)  # the next process finds it written again
    assert again.query_backend() == "onnx"
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    for name, key in checked_files(manifest).items():
        assert file_record(folder / name) == manifest[key]
