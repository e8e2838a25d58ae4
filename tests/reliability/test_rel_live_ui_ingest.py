"""A running UI and other processes writing the same data directory (issue 15, item 1).

Embedded Chroma keeps its vector index in memory per process: after a ``rag ingest`` from
another process, the UI used to fail every compare question ("Error finding id") until
it restarted. Here the real app answers through gradio_client while ``rag ingest``
subprocesses add and change statements and a UI upload writes in between: every question
must be answered, from the new statements within ~5 s, and the store must stay whole.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.service import Services, build_services
from rag.settings import Settings

from .conftest import (
    CHILD,
    assert_no_traceback,
    assert_quotes_verified,
    dump_store,
    free_port,
    run_rag,
    statement_texts,
)

pytestmark = pytest.mark.slow

COMPARE = "How do the statements differ on the Democratic Party?"
SEP = "000_750d3f795511808f"
SWP = "004_82099dca89624f38"
NOTICE_SECONDS = 5.0  # the catalog's ttl: how soon another process's ingest is seen
NEW = (
    "---\norganization: Riverside Workers League\ndate: 2021-05-01\n---\n"
    "The Democratic Party has betrayed working people in every election campaign. "
    "The Riverside Workers League rejects the Democratic Party and all of its candidates.\n\n"
    "Workers need a party of their own, independent of the Democratic Party and the "
    "Republicans alike.\n"
)
CHANGED = (
    "---\norganization: Riverside Workers League\ndate: 2021-06-01\n---\n"
    "The Riverside Workers League now calls the Democratic Party a party of the banks. "
    "No vote for the Democratic Party, not in this election and not in the next.\n"
)


@pytest.fixture
def live_app(
    tmp_path: Path, bundled: Services, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[Services, Any]]:
    """The real app over a copy of the bundled store, and a gradio_client session."""
    from gradio_client import Client

    from ui.web.app import build_app, prepare, serve

    home = tmp_path / "home"
    shutil.copytree(bundled.settings.chroma_path, home / "chroma")
    settings = Settings(home=home)
    services = build_services(settings, embedder=embedder)
    prepare(services, ingest_if_empty=False)
    demo = build_app(services, settings)
    url = serve(demo, settings, port=free_port(), quiet=True)
    try:
        yield services, Client(url, verbose=False, download_files=False)
    finally:
        demo.close()


def _ask(client: Any, question: str = COMPARE, compare: bool = True) -> dict[str, Any]:
    result = client.predict(question, compare=compare, api_name="/ask")
    assert isinstance(result, dict), result
    return result


def _cited(result: dict[str, Any]) -> set[str]:
    return {c["statement_id"] for c in result["citations"]}


def _ingest(folder: Path, home: Path) -> None:
    result = run_rag(["ingest", str(folder)], home)
    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 0, result.stderr


@contextmanager
def _asking_meanwhile(client: Any) -> Iterator[list[str]]:
    """Two more users asking compare and plain questions until the block ends."""
    from gradio_client import Client

    failures: list[str] = []
    answered: list[bool] = []
    done = threading.Event()

    def user(compare: bool) -> None:
        try:
            session = Client(client.src, verbose=False, download_files=False)
        except Exception as exc:
            failures.append(f"client: {type(exc).__name__}: {exc}")
            return
        while not done.is_set():
            try:
                _ask(session, compare=compare)
                answered.append(compare)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=user, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    try:
        yield failures
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=120)
    assert True in answered and False in answered, failures  # both users got answers


def _until_cited(client: Any, statement_id: str, services: Services) -> dict[str, Any]:
    """Ask the compare question until ``statement_id`` is cited: each answer must succeed
    with verified quotes, and the new statement must show up within NOTICE_SECONDS."""
    started = time.monotonic()
    while True:
        result = _ask(client)  # an AppError here is the bug: a broken store in the UI
        assert_quotes_verified(result, statement_texts(services.store))
        if statement_id in _cited(result):
            return result
        assert time.monotonic() - started < NOTICE_SECONDS + 3.0, result
        time.sleep(0.5)


def test_ui_keeps_answering_while_other_processes_ingest(
    live_app: tuple[Services, Any], tmp_path: Path
) -> None:
    services, client = live_app
    home = services.settings.home
    assert _cited(_ask(client)) == {SEP, SWP}  # the vector index is now in memory

    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "riverside.txt").write_text(NEW, encoding="utf-8")
    with _asking_meanwhile(client) as failures:
        _ingest(folder, home)  # another process adds a statement while users ask
    assert failures == []
    result = _until_cited(client, "riverside", services)
    assert {SEP, SWP} <= _cited(result)
    assert any("betrayed working people" in c["quote"] for c in result["citations"])

    (folder / "riverside.txt").write_text(CHANGED, encoding="utf-8")
    _ingest(folder, home)  # ... and changes it: its old passages are gone
    started = time.monotonic()
    while True:
        result = _ask(client)
        assert_quotes_verified(result, statement_texts(services.store))
        quotes = " ".join(
            c["quote"] for c in result["citations"] if c["statement_id"] == "riverside"
        )
        if "party of the banks" in quotes or "No vote for the Democratic Party" in quotes:
            break
        assert time.monotonic() - started < NOTICE_SECONDS + 3.0, result
        time.sleep(0.5)
    assert "betrayed working people" not in quotes

    # a UI upload after the other process's writes, then a CLI that reads it
    upload = tmp_path / "upload.txt"
    upload.write_text(
        "The Harbor Union says the Democratic Party broke its promise on the port contract.\n",
        encoding="utf-8",
    )
    from gradio_client import handle_file

    report = client.predict(
        [handle_file(str(upload))], "Harbor Union", "", "2022-02-02", "", api_name="/upload"
    )[0]
    assert "new" in report, report
    asked = run_rag(
        ["ask", "--json", "What did the Harbor Union say about the port contract?"], home
    )
    assert_no_traceback(asked.stdout, asked.stderr)
    assert asked.returncode == 0, asked.stderr
    assert "upload" in {c["statement_id"] for c in json.loads(asked.stdout)["citations"]}

    # one more ingest from outside, then every statement is answerable in the UI
    (folder / "second.txt").write_text(
        NEW.replace("Riverside Workers League", "Lakeside Socialists"), encoding="utf-8"
    )
    _ingest(folder, home)
    result = _until_cited(client, "second", services)
    plain = _ask(client, "What did the Harbor Union say about the port contract?", compare=False)
    assert "upload" in _cited(plain)

    # the store is whole: read from a fresh process, the invariants of dump_store hold
    dumped = subprocess.run(
        [sys.executable, str(CHILD), "--dump", str(home)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dumped.returncode == 0, dumped.stderr
    assert set(json.loads(dumped.stdout)["statements"]) == {
        SEP,
        SWP,
        "riverside",
        "upload",
        "second",
    }
    dump_store(services.store)


def test_only_another_writers_token_reopens_the_store(services: Services) -> None:
    """This process's own writes keep its caches (no reopen); a version token it did not
    write (what another process's ingest leaves) reopens the client once, for every store
    of this process on that folder."""
    from ingest.pipeline import BUNDLED_CORPUS, Ingestor
    from rag.store.chroma import VERSION_KEY, ChromaStore

    store = services.store
    other = ChromaStore.from_settings(services.settings)  # e.g. the UI's upload path
    Ingestor(services.settings, other, services.embedder).run([BUNDLED_CORPUS])
    services.catalog.invalidate()
    services.answerer.answer(COMPARE)
    assert store.reopened == other.reopened == 0
    name = f"{services.settings.collection_prefix}_statements"
    store.client.get_collection(name).modify(metadata={VERSION_KEY: "from-elsewhere"})
    assert store.version() == "from-elsewhere"
    assert store.reopened == other.reopened == 1
    assert other.version() == "from-elsewhere" and other.reopened == 1  # no second reopen
    assert_quotes_verified(services.answerer.answer(COMPARE), statement_texts(other))
    assert store.reopened == 1
