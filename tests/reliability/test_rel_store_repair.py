"""A damaged store is found before it crashes anything, and ``rag repair`` rebuilds it
(issue 22 F2, F16): an overwritten ``data_level0.bin`` (same size) segfaulted every
command; lost embedding rows made questions abstain silently while ``rag ingest`` said
"unchanged"; garbled passage metadata was a raw ``ValueError``."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.errors import StoreUnavailableError
from rag.service import Services, build_services
from rag.settings import Settings
from rag.store.check import _HEADER, STAMP, index_problems
from rag.store.chroma import ChromaStore

from .conftest import CHILD, assert_no_traceback, bundled_sentences, run_rag

STATEMENTS, PARAGRAPHS = 40, 30  # 1,200 passages: Chroma writes its HNSW files (over 1,000)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """A real ingested store big enough to have a vector index on disk, and its corpus."""
    root = tmp_path_factory.mktemp("repair-source")
    folder = root / "corpus"
    folder.mkdir()
    rng = random.Random(5)
    sentences = bundled_sentences()
    for i in range(STATEMENTS):
        body = "\n\n".join(rng.choice(sentences) for _ in range(PARAGRAPHS))
        head = f"---\norganization: Group {i % 5}\ndate: {2010 + i % 10}\n---\n"
        (folder / f"s{i:02d}.txt").write_text(head + body + "\n", encoding="utf-8")
    settings = Settings(home=root / "home")
    services = build_services(settings, embedder=embedder)
    Ingestor(settings, services.store, services.embedder).run([folder])
    return root


@pytest.fixture
def home(source: Path, tmp_path: Path) -> Path:
    """A private copy of the store (its statements' paths still name the corpus)."""
    copy = tmp_path / "home"
    shutil.copytree(source / "home", copy)
    return copy


def _dump(home: Path) -> dict[str, dict]:
    """Statements and passages, read in a fresh process (invariants checked there)."""
    done = subprocess.run(
        [sys.executable, str(CHILD), "--dump", str(home)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _vector_segment(chroma: Path) -> Path:
    (folder,) = [p.parent for p in chroma.glob("*/index_metadata.pickle")]
    return folder


def _question(source: Path, sid: str) -> str:
    """A sentence of the statement (its first paragraph, after the front matter)."""
    return (source / "corpus" / f"{sid}.txt").read_text(encoding="utf-8").split("\n")[4][:80]


@pytest.mark.slow
def test_an_overwritten_vector_index_is_found_and_repaired(source: Path, home: Path) -> None:
    want = _dump(home)
    assert run_rag(["ask", "Who was killed?"], home).returncode == 0  # checked: stamped
    assert (home / "chroma" / STAMP).is_file()
    data = _vector_segment(home / "chroma") / "data_level0.bin"
    with open(data, "r+b") as f:  # overwritten in place, same size
        f.write(np.random.default_rng(1).bytes(data.stat().st_size))

    for args in (["ask", "Who was killed?"], ["sources"], ["ingest", str(source / "corpus")]):
        result = run_rag(args, home, timeout=120)
        assert result.returncode == 1, (args, result.returncode, result.stderr)  # not -11
        assert_no_traceback(result.stdout, result.stderr)
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"error: The Chroma store at {home / 'chroma'} is damaged"), line
        assert "data_level0.bin" in line and "rag repair" in line, line

    check = run_rag(["repair", "--check"], home)
    assert check.returncode == 1, check.stderr
    assert check.stdout.startswith("damaged: vector index "), check.stdout
    dry = run_rag(["repair", "--dry-run"], home)
    assert dry.returncode == 0, dry.stderr
    assert "would rebuild 40 statement(s), 1200 passages" in dry.stdout
    assert run_rag(["sources"], home).returncode == 1  # the dry run changed nothing

    repaired = run_rag(["repair"], home, timeout=600)
    assert repaired.returncode == 0, repaired.stderr
    assert "rebuilt 40 statement(s), 1200 passages" in repaired.stdout
    kept = [p.name for p in home.iterdir() if p.name.startswith("chroma.damaged-")]
    assert len(kept) == 1  # nothing deleted

    assert _dump(home) == want  # same ids, metadata, content hashes, passages
    again = run_rag(["ingest", str(source / "corpus")], home)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1].startswith("0 new, 0 updated, 40 unchanged")
    answer = run_rag(["ask", _question(source, "s07"), "--json"], home)
    assert answer.returncode == 0 and json.loads(answer.stdout)["citations"], answer.stdout
    assert run_rag(["repair", "--check"], home).returncode == 0


SEP, SWP = "000_750d3f795511808f", "004_82099dca89624f38"
SEP_QUESTION = "These attacks against civilian population centers constitute war crimes."


@pytest.fixture
def small_home(bundled: Services, tmp_path: Path) -> Path:
    """A private copy of the bundled store (its paths name the bundled statements)."""
    copy = tmp_path / "small"
    shutil.copytree(bundled.settings.chroma_path, copy / "chroma")
    return copy


def _passage_rows(home: Path, sid: str, count: int) -> tuple[sqlite3.Connection, list[int]]:
    db = sqlite3.connect(home / "chroma" / "chroma.sqlite3")
    rows = [
        r[0]
        for r in db.execute("SELECT id FROM embeddings WHERE embedding_id LIKE ?", (f"{sid}:%",))
    ]
    assert len(rows) == count
    return db, rows


def test_lost_passage_rows_are_found_and_written_again(small_home: Path) -> None:
    """Before: questions about the statement abstained and ``rag ingest`` said
    "unchanged" for all; now ingest rewrites it, and ``rag repair --check`` names it."""
    db, _ = _passage_rows(small_home, SEP, 13)
    db.execute("DELETE FROM embeddings WHERE embedding_id LIKE ?", (f"{SEP}:%",))
    db.commit()
    db.close()
    check = run_rag(["repair", "--check"], small_home)
    assert check.returncode == 1
    assert f"damaged: 1 statement(s) miss passages (rows lost from the database): {SEP}" in (
        check.stdout
    )

    result = run_rag(["ingest", str(BUNDLED_CORPUS)], small_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"updated   {SEP} (13 passages)"
    assert result.stdout.splitlines()[-1].startswith("0 new, 1 updated, 1 unchanged")
    assert "`rag repair` rebuilds them all" in result.stderr
    answer = run_rag(["ask", SEP_QUESTION, "--statement", SEP, "--json"], small_home)
    assert not json.loads(answer.stdout)["abstained"], answer.stdout
    assert run_rag(["repair", "--check"], small_home).returncode == 0


def test_garbled_passage_metadata_is_left_out_and_repaired(small_home: Path) -> None:
    """Before: a raw ``ValueError`` traceback on every question that met the passage."""
    db, rows = _passage_rows(small_home, SWP, 21)
    marks = ",".join("?" * len(rows))
    db.execute(
        f"UPDATE embedding_metadata SET string_value = 'x7', int_value = NULL "
        f"WHERE key = 'start' AND id IN ({marks})",
        rows,
    )
    db.commit()
    db.close()
    question = "What is the Quds Force?"
    answer = run_rag(["ask", question, "--json"], small_home)
    assert answer.returncode == 0, answer.stderr
    assert_no_traceback(answer.stdout, answer.stderr)
    warnings = [line for line in answer.stderr.splitlines() if "damaged metadata" in line]
    assert len(warnings) == 1 and "rag repair" in warnings[0], answer.stderr
    check = run_rag(["repair", "--check"], small_home)
    assert f"1 statement(s) have passages whose metadata cannot be read: {SWP}" in check.stdout
    repaired = run_rag(["repair"], small_home, timeout=600)
    assert "rebuilt 2 statement(s), 34 passages" in repaired.stdout, repaired.stderr
    assert run_rag(["repair", "--check"], small_home).returncode == 0
    fixed = run_rag(["ask", question, "--json"], small_home)
    assert "damaged" not in fixed.stderr
    assert json.loads(fixed.stdout)["citations"][0]["statement_id"] == SWP


def test_the_link_check_runs_once_per_state_of_the_files(home: Path) -> None:
    """The level-0 links are read once after each change of the files (then only their
    sizes and times): a damage after a sound check is still found."""
    chroma = home / "chroma"
    (chroma / STAMP).unlink(missing_ok=True)
    assert index_problems(chroma) == []
    stamp = json.loads((chroma / STAMP).read_text(encoding="utf-8"))
    assert len(stamp) == 2  # both collections' vector segments
    segment = _vector_segment(chroma)
    per_element = _HEADER.unpack_from((segment / "header.bin").read_bytes())[4]
    with open(segment / "data_level0.bin", "r+b") as f:
        f.seek(4 * per_element)  # the fifth element's link count
        f.write((40_000).to_bytes(2, "little"))
    assert index_problems(chroma) == [
        (segment.name, "data_level0.bin: element 4 has 40000 links, more than 32")
    ]
    with pytest.raises(StoreUnavailableError, match="rag repair"):
        ChromaStore.embedded_at(chroma, "statements_qa")
    assert index_problems(chroma)  # a damaged index is never stamped sound
