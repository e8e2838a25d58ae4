"""Crash consistency: an ingest killed at any point leaves nothing a question could be
answered wrongly from, and the next run makes the store equal to a clean ingest."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import Ingestor
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.service import Services, build_services
from rag.settings import Settings
from rag.store.chroma import ChromaStore

from .conftest import (
    CHILD,
    assert_index_finds_passages,
    assert_quotes_verified,
    assert_same_store,
    child_env,
    dump_store,
    run_rag,
    write_corpus,
)

QUESTIONS = [
    "What is the Quds Force?",
    "What do the statements demand?",
    "How many US soldiers had died?",
    "Who was Abu Mahdi al-Muhandis?",
]


class SimulatedCrash(BaseException):
    """Stands for the process dying: nothing after it runs, nothing catches it."""


def _clean_ingest(
    corpus: Path, home: Path, embedder: SentenceTransformerEmbedder
) -> tuple[Services, Any]:
    settings = Settings(home=home)
    services = build_services(settings, embedder=embedder)
    Ingestor(settings, services.store, services.embedder).run([corpus])
    return services, dump_store(services.store)


def _edit(path: Path) -> None:
    """Change the second paragraph (so later passages move: new passage ids)."""
    head, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
    paragraphs = body.split("\n\n")
    paragraphs[1] = "We add a sentence here to change the statement. " + paragraphs[1]
    path.write_text(head + "\n---\n" + "\n\n".join(paragraphs), encoding="utf-8")


def test_interrupted_writes_never_show_a_wrong_quote(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Die between a statement's passages and its record, for an update and for a new
    statement: questions meanwhile only ever show verified quotes; the next run repairs."""
    corpus = tmp_path / "corpus"
    paths = write_corpus(corpus, 4)
    settings = Settings(home=tmp_path / "home")
    services = build_services(settings, embedder=embedder)
    ingestor = Ingestor(settings, services.store, services.embedder)
    ingestor.run(paths[:3])

    original = ChromaStore._op

    def dies_at_record(self: ChromaStore, kind: str, method: str, *a: Any, **k: Any) -> Any:
        if kind == "statements" and method == "upsert":
            raise SimulatedCrash
        return original(self, kind, method, *a, **k)

    _edit(paths[1])
    with monkeypatch.context() as patch:
        patch.setattr(ChromaStore, "_op", dies_at_record)
        with pytest.raises(SimulatedCrash):
            ingestor.run([paths[1]])  # update: new passages in, old record still there
        with pytest.raises(SimulatedCrash):
            ingestor.run([paths[3]])  # new: passages in, no record (orphans)

    services.catalog.invalidate()
    texts = {
        s.statement_id: services.store.statement(s.statement_id).text or ""
        for s in services.store.statements()
    }
    assert sorted(texts) == ["stmt_000", "stmt_001", "stmt_002"]
    for question in QUESTIONS:
        assert_quotes_verified(services.answerer.answer(question), texts)

    report = ingestor.run([corpus])
    assert report.orphans_removed > 0
    assert report.summary() == {"new": 1, "updated": 1, "unchanged": 2, "skipped": 0, "removed": 0}
    _, want = _clean_ingest(corpus, tmp_path / "clean", embedder)
    assert_same_store(dump_store(services.store), want)


@pytest.mark.slow
def test_sigkill_mid_ingest_then_rerun_equals_clean_ingest(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """SIGKILL the real ``rag ingest`` process twice: once from outside at an arbitrary
    moment, once just before the record of a statement being updated (its new passages
    already written). Then run again: the store equals a clean ingest of the same files."""
    corpus = tmp_path / "corpus"
    paths = write_corpus(corpus, 40, paragraphs=3, per_paragraph=1)
    home = tmp_path / "home"

    # 1. killed from outside in the middle of the run (a batch of 3 passages is one
    # statement here: the run writes 40 batches, like a large ingest writes many)
    process = subprocess.Popen(
        [sys.executable, str(CHILD), "ingest", str(corpus)],
        env=child_env(home, RAG_TEST_ANNOUNCE="1", RAG_INGEST_BATCH="3"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    written = []
    deadline = time.monotonic() + 240
    for line in process.stdout:
        written.append(line.split()[1])
        if len(written) == 12:
            process.send_signal(signal.SIGKILL)
            break
        assert time.monotonic() < deadline
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
    assert written == [p.stem for p in paths[:12]]

    # 2. killed just before the records of the next batch are written (the default batch
    # holds the updated statement and the 28 not written yet; their passages are stored)
    _edit(paths[5])
    result = run_rag(["ingest", str(corpus)], home, hooks=True, RAG_TEST_KILL_BEFORE_RECORD="1")
    assert result.returncode == -signal.SIGKILL, result.stderr

    # 3. run again: everything repaired
    services = build_services(Settings(home=home), embedder=embedder)
    report = Ingestor(services.settings, services.store, services.embedder).run([corpus])
    assert report.summary() == {
        "new": 28,
        "updated": 1,
        "unchanged": 11,
        "skipped": 0,
        "removed": 0,
    }
    assert [o.statement_id for o in report.outcomes if o.status == "updated"] == ["stmt_005"]

    got = dump_store(services.store)
    _, want = _clean_ingest(corpus, tmp_path / "clean", embedder)
    assert_same_store(got, want)
    assert_index_finds_passages(services.store, got)
