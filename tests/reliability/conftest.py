"""Helpers for the reliability tests: child processes, synthetic corpora, store dumps,
a real Chroma server."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ingest.loaders import load_document
from ingest.normalize import normalize
from ingest.pipeline import BUNDLED_CORPUS
from rag.models import Answer, Passage, Statement
from rag.sentences import split_sentences
from rag.stages.verify import verify
from rag.store.chroma import ChromaStore

BIN = Path(sys.executable).parent
RAG = BIN / "rag"
CHROMA = BIN / "chroma"
CHILD = Path(__file__).with_name("child.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a child ``rag`` process: a private home, no server, no LLM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_HOME=str(home), PYTHONUNBUFFERED="1", COLUMNS="200")
    env.update(extra)
    return env


def run_rag(
    args: Sequence[str],
    home: Path,
    *,
    hooks: bool = False,
    input: str | None = None,
    timeout: float = 300,
    **extra: str,
) -> subprocess.CompletedProcess[str]:
    """Run ``rag ARGS`` (the installed console script, or ``child.py`` when hooks are
    wanted) and return what it printed."""
    command = [sys.executable, str(CHILD), *args] if hooks else [str(RAG), *args]
    return subprocess.run(
        command,
        env=child_env(home, **extra),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_no_traceback(*outputs: str) -> None:
    for output in outputs:
        assert "Traceback" not in output, output
        assert 'File "' not in output, output


# -- synthetic statements ---------------------------------------------------------------


def bundled_sentences() -> list[str]:
    """Real sentences of the bundled statements (6+ words each)."""
    sentences: list[str] = []
    for path in sorted(BUNDLED_CORPUS.glob("*.txt")):
        clean = normalize(load_document(path))
        for start, end in clean.paragraphs:
            for s, e in split_sentences(clean.text, start, end):
                sentence = clean.text[s:e]
                if len(sentence.split()) >= 6:
                    sentences.append(sentence)
    return sentences


def write_corpus(
    folder: Path, count: int, *, paragraphs: int = 4, per_paragraph: int = 3, seed: int = 7
) -> list[Path]:
    """``count`` statements made of real sentences, with front matter, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    sentences = bundled_sentences()
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        body = "\n\n".join(
            " ".join(rng.sample(sentences, per_paragraph)) for _ in range(paragraphs)
        )
        head = (
            f"---\norganization: Committee {i % 7}\n"
            f"date: {2001 + i % 20}-{1 + i % 12:02d}-{1 + i % 28:02d}\n---\n"
        )
        path = folder / f"stmt_{i:03d}.txt"
        path.write_text(head + body + "\n", encoding="utf-8")
        paths.append(path)
    return paths


# -- store contents -------------------------------------------------------------------------


@dataclass
class StoreDump:
    statements: dict[str, Statement]  # with text
    passages: dict[str, Passage]
    embeddings: dict[str, np.ndarray]

    def comparable(self) -> tuple[dict[str, Any], dict[str, Any]]:
        statements = {sid: s.model_dump() for sid, s in self.statements.items()}
        passages = {pid: p.model_dump() for pid, p in self.passages.items()}
        return statements, passages


def dump_store(store: ChromaStore) -> StoreDump:
    """Everything in the store, after checking the invariants a crash must not break."""
    records = store.statements()
    statements = {s.statement_id: store.statement(s.statement_id) for s in records}
    got = store.passages_collection.get(include=["metadatas", "documents", "embeddings"])
    ids = list(got["ids"])
    assert len(ids) == len(set(ids)), "duplicate passage ids"
    assert store.count_passages() == len(ids)
    passages: dict[str, Passage] = {}
    embeddings: dict[str, np.ndarray] = {}
    for pid, vector in zip(ids, got["embeddings"]):
        embeddings[pid] = np.asarray(vector, dtype=np.float32)
    for passage in store.iter_passages():
        passages[passage.passage_id] = passage
    assert set(passages) == set(ids)
    per_statement: dict[str, int] = {}
    for passage in passages.values():
        statement = statements.get(passage.statement_id)
        assert statement is not None, f"orphan passage {passage.passage_id}"
        assert statement.text is not None
        assert statement.text[passage.start : passage.end] == passage.text, passage.passage_id
        per_statement[passage.statement_id] = per_statement.get(passage.statement_id, 0) + 1
    for sid, statement in statements.items():
        assert per_statement.get(sid, 0) == statement.passages, f"{sid}: passage count"
    return StoreDump(statements, passages, embeddings)


def assert_same_store(got: StoreDump, want: StoreDump) -> None:
    got_statements, got_passages = got.comparable()
    want_statements, want_passages = want.comparable()
    assert sorted(got_statements) == sorted(want_statements)
    assert got_statements == want_statements
    assert sorted(got_passages) == sorted(want_passages)
    assert got_passages == want_passages
    for pid, vector in want.embeddings.items():
        np.testing.assert_allclose(got.embeddings[pid], vector, atol=2e-3)


def assert_index_finds_passages(store: ChromaStore, dump: StoreDump, sample: int = 25) -> None:
    """The vector index (not only the metadata) holds every sampled passage: querying with
    its vector finds it (or a passage with the very same vector: a repeated sentence)."""
    rng = random.Random(3)
    for pid in rng.sample(sorted(dump.embeddings), min(sample, len(dump.embeddings))):
        hits = store.query(dump.embeddings[pid], 10)
        assert pid in [hit for hit, score in hits if score > 0.9999], (pid, hits[:3])


def assert_quotes_verified(answer: Answer | dict[str, Any], texts: dict[str, str]) -> None:
    """Every quote shown (citations and nearest passages) is exactly the statement text."""
    data = answer.to_json_dict() if isinstance(answer, Answer) else answer
    for key in ("citations", "nearest"):
        for c in data.get(key) or []:
            text = texts[c["statement_id"]]
            assert verify(text, c["start"], c["end"], c["quote"]), c
            assert text[c["start"] : c["end"]] == c["quote"]


def statement_texts(store: ChromaStore) -> dict[str, str]:
    return {s.statement_id: store.statement(s.statement_id).text or "" for s in store.statements()}


def assert_same_answers(services: Any, want: dict[str, list[tuple[Any, ...]]]) -> None:
    """``services`` answers each question of ``want`` with the same citations, verified."""
    texts = statement_texts(services.store)
    for question, citations in want.items():
        answer = services.answerer.answer(question)
        assert citation_keys(answer) == citations, question
        assert_quotes_verified(answer, texts)


def citation_keys(answer: Answer | dict[str, Any]) -> list[tuple[Any, ...]]:
    data = answer.to_json_dict() if isinstance(answer, Answer) else answer
    return [
        (c["statement_id"], c["paragraph"], c["start"], c["end"], c["quote"])
        for c in data["citations"]
    ]


# -- a real Chroma server ------------------------------------------------------------------


class ChromaServer:
    """``chroma run`` on a free loopback port, which can be killed and started again."""

    def __init__(self, path: Path, port: int, log: Path) -> None:
        self.path, self.port, self.log = path, port, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def _address(self) -> list[str]:
        return ["--host", "127.0.0.1", "--port", str(self.port)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        import httpx

        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(CHROMA), "run", "--path", str(self.path), *self._address],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("chroma run did not answer its heartbeat")

    def kill(self) -> None:
        """SIGKILL, like a crash (the data on disk stays)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    if not CHROMA.exists():
        pytest.fail(f"{CHROMA} is missing: chromadb is installed without its CLI")
    folder = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(folder / "data", free_port(), folder / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled statements (tests may add files next to them)."""
    folder = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, folder)
    return folder
