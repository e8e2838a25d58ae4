"""Damaged derived data (issue 15, item 2): the keyword index is a cache and is rebuilt
from the store, giving the same answers; a damaged vector index, which only a re-ingest
can rebuild, is one clear error that says how to repair it."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.errors import StoreUnavailableError
from rag.models import Passage, Statement
from rag.service import Services, build_services
from rag.settings import Settings
from rag.store.chroma import ChromaStore, StatementWrite
from rag.store.keyword import MANIFEST, KeywordIndex

from .conftest import assert_same_answers, citation_keys

QUESTIONS = [
    "What is the Quds Force?",
    "How do the statements differ on the Democratic Party?",
    "How many US soldiers had died in Iraq according to the SEP?",
]


def _meta(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def _write_meta(folder: Path, meta: dict) -> None:
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def truncate_ids(folder: Path) -> None:
    meta = _meta(folder)
    meta["ids"] = meta["ids"][:-3]  # still valid JSON
    _write_meta(folder, meta)


def reorder_ids(folder: Path) -> None:
    meta = _meta(folder)
    meta["ids"] = meta["ids"][1:] + meta["ids"][:1]
    _write_meta(folder, meta)


def truncate_file(folder: Path) -> None:
    path = folder / "meta.json"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def delete_folder(folder: Path) -> None:
    shutil.rmtree(folder)


def delete_bm25(folder: Path) -> None:
    shutil.rmtree(folder / "bm25")


def garbage_bytes(folder: Path) -> None:
    for path in (folder / "bm25").glob("*.npy"):
        path.write_bytes(b"\x93NUMPY garbage" + bytes(range(200)))


def no_manifest(folder: Path) -> None:
    (folder / MANIFEST).unlink()


@pytest.fixture(scope="module")
def copied(tmp_path_factory: pytest.TempPathFactory, bundled: Services) -> Settings:
    """A private copy of the bundled store (its keyword index gets damaged here)."""
    home = tmp_path_factory.mktemp("cache-repair")
    shutil.copytree(bundled.settings.chroma_path, home / "chroma")
    return Settings(home=home)


@pytest.mark.parametrize(
    "damage",
    [
        truncate_ids,
        reorder_ids,
        truncate_file,
        delete_folder,
        delete_bm25,
        garbage_bytes,
        no_manifest,
    ],
)
def test_damaged_keyword_index_is_rebuilt_with_the_same_answers(
    damage: Callable[[Path], None],
    copied: Settings,
    embedder: SentenceTransformerEmbedder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = build_services(copied, embedder=embedder)
    want = {q: citation_keys(first.answerer.answer(q)) for q in QUESTIONS}
    snap = first.catalog.snapshot()
    folder = copied.keyword_dir / copied.collection_prefix / snap.fingerprint
    passages = snap.keywords.size
    KeywordIndex.load(folder, snap.fingerprint, passages)  # saved whole

    damage(folder)
    caplog.set_level(logging.INFO, logger="rag.store.catalog")
    again = build_services(copied, embedder=embedder)  # a new process: reads the cache
    assert_same_answers(again, want)
    assert again.catalog.snapshot().keywords.size == passages
    if damage is not delete_folder:
        assert "is damaged" in caplog.text
    KeywordIndex.load(folder, snap.fingerprint, passages)  # rebuilt, saved whole again


def test_index_of_another_store_is_not_loaded(copied: Settings, tmp_path: Path) -> None:
    """A folder whose manifest names another fingerprint (copied over, say) is refused."""
    index = KeywordIndex.build(
        [Passage(passage_id="p", statement_id="s", paragraph=1, start=0, end=5, text="hello")]
    )
    index.save(tmp_path / "kw", "fingerprint-a")
    assert KeywordIndex.load(tmp_path / "kw", "fingerprint-a", 1).passage_ids == ["p"]
    with pytest.raises(ValueError, match="built for"):
        KeywordIndex.load(tmp_path / "kw", "fingerprint-b", 1)


# -- the vector index -----------------------------------------------------------------------


def _store_with_a_saved_vector_index(home: Path) -> tuple[ChromaStore, np.ndarray]:
    """1,800 passages with random vectors: enough for Chroma to write its HNSW files
    (a small store lives in its log only). Returns the store and a query vector."""
    store = ChromaStore.from_settings(Settings(home=home))
    rng = np.random.default_rng(0)
    items = []
    for i in range(60):
        text = " ".join(f"Sentence number {j} here." for j in range(30))
        passages = [
            Passage(
                passage_id=f"s{i}-p{k}",
                statement_id=f"s{i}",
                paragraph=k + 1,
                start=0,
                end=8,
                text=text[:8],
                sentences=((0, 8),),
            )
            for k in range(30)
        ]
        vectors = rng.normal(size=(30, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        statement = Statement(
            statement_id=f"s{i}", source=f"s{i}.txt", content_hash=str(i), passages=30, text=text
        )
        items.append(StatementWrite(statement, passages, vectors, [v[None, :] for v in vectors]))
    store.write_statements(items)
    return store, items[0].passage_vectors[0]


def _vector_segment(chroma: Path) -> Path:
    """The folder of the passages' HNSW index: the one that holds a saved graph."""
    folders = [p.parent for p in chroma.glob("*/index_metadata.pickle")]
    assert len(folders) == 1, list(chroma.iterdir())
    return folders[0]


@pytest.mark.parametrize(
    "damage", ["truncate", "truncate-links", "header-count", "garbage", "delete", "metadata"]
)
def test_damaged_vector_index_is_one_clear_error(
    damage: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = tmp_path_factory.getbasetemp() / "vector-index-source"
    if not source.exists():
        _store_with_a_saved_vector_index(source / "home")
    home = tmp_path / "home"
    shutil.copytree(source / "home", home)
    segment = _vector_segment(home / "chroma")
    if damage == "truncate":
        with open(segment / "data_level0.bin", "r+b") as f:
            f.truncate(50_000)
    elif damage == "truncate-links":
        with open(segment / "link_lists.bin", "r+b") as f:
            f.truncate(100)
    elif damage == "header-count":  # a header that claims more elements than were written
        header = bytearray((segment / "header.bin").read_bytes())
        header[20:28] = (10**6).to_bytes(8, "little")  # cur_element_count
        (segment / "header.bin").write_bytes(bytes(header))
    elif damage == "garbage":
        (segment / "header.bin").write_bytes(bytes(range(100)))
    elif damage == "delete":
        shutil.rmtree(segment)
    else:
        (segment / "index_metadata.pickle").write_bytes(b"\x80\x04garbage" * 20)

    with pytest.raises(StoreUnavailableError) as info:  # never a crash of the process
        store = ChromaStore.from_settings(Settings(home=home))
        assert len(store.statements()) == 60  # the records are fine
        store.query(np.ones(384, dtype=np.float32) / np.sqrt(384), 5)
        store.passage_vectors([f"s{i}-p3" for i in range(60)])
    message = str(info.value)
    # one line, bounded: the folder, at most 200 characters of Chroma's words, the repair
    assert "\n" not in message and len(message) < len(str(home / "chroma")) + 350
    assert f"The Chroma store at {home / 'chroma'} is damaged" in message
    assert "rag ingest" in message
    assert "disk space" not in message
