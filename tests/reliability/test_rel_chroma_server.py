"""Chroma server mode: a real ``chroma run``, the same answers as embedded, clear errors
when it is down, and recovery when it comes back without rebuilding the services."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.errors import StoreUnavailableError
from rag.service import Services, build_services
from rag.settings import Settings

from .conftest import (
    ChromaServer,
    assert_no_traceback,
    assert_quotes_verified,
    assert_same_store,
    citation_keys,
    dump_store,
    free_port,
    run_rag,
    statement_texts,
    write_corpus,
)

pytestmark = pytest.mark.server

QUESTIONS = [
    "What is the Quds Force?",
    "Where and when was Soleimani killed?",
    "How many US soldiers had died in Iraq according to the SEP?",
    "What office was Naomi Craine running for?",
    "How do the statements differ on the Democratic Party?",
    "Compare what the statements report about people killed.",
    "What is the capital of France?",
    "Who was Abu Mahdi al-Muhandis?",
]


@pytest.fixture(scope="module")
def on_server(
    chroma_server: ChromaServer,
    embedder: SentenceTransformerEmbedder,
    tmp_path_factory: pytest.TempPathFactory,
) -> Services:
    """The bundled statements ingested through the server."""
    settings = Settings(home=tmp_path_factory.mktemp("server-home"), chroma_url=chroma_server.url)
    services = build_services(settings, embedder=embedder)
    report = Ingestor(settings, services.store, services.embedder).run([BUNDLED_CORPUS])
    assert report.summary()["new"] == 2 and not report.skipped
    services.catalog.invalidate()
    return services


def test_server_mode_gives_the_same_store_and_answers_as_embedded(
    on_server: Services, bundled: Services
) -> None:
    assert_same_store(dump_store(on_server.store), dump_store(bundled.store))
    texts = statement_texts(on_server.store)
    for question in QUESTIONS:
        got = on_server.answerer.answer(question)
        want = bundled.answerer.answer(question)
        assert got.abstained == want.abstained, question
        assert citation_keys(got) == citation_keys(want), question
        assert got.answer == want.answer, question
        assert_quotes_verified(got, texts)


def test_a_second_instance_shares_the_store_without_ingesting(
    on_server: Services,
    chroma_server: ChromaServer,
    embedder: SentenceTransformerEmbedder,
    tmp_path: Path,
) -> None:
    """What server mode buys: another app instance (own home) answers from the same store,
    and sees statements another instance ingests."""
    second = build_services(
        Settings(home=tmp_path / "second", chroma_url=chroma_server.url), embedder=embedder
    )
    question = QUESTIONS[0]
    assert citation_keys(second.answerer.answer(question)) == citation_keys(
        on_server.answerer.answer(question)
    )
    extra = write_corpus(tmp_path / "extra", 1)
    Ingestor(on_server.settings, on_server.store, on_server.embedder).run(extra)
    second.catalog.invalidate()  # what the catalog's TTL does by itself within seconds
    assert "stmt_000" in {s.statement_id for s in second.store.statements()}
    assert "stmt_000" in second.catalog.snapshot().statements
    on_server.store.delete_statement("stmt_000")
    on_server.catalog.invalidate()


def test_server_restarted_mid_session(on_server: Services, chroma_server: ChromaServer) -> None:
    """The same Services keep working across restarts of the server; while it is down a
    question fails with one clear error naming the server."""
    answerer = on_server.answerer
    want = {q: citation_keys(answerer.answer(q)) for q in QUESTIONS[:3]}

    chroma_server.kill()  # restart between two questions: the next one just works
    chroma_server.start()
    assert citation_keys(answerer.answer(QUESTIONS[1])) == want[QUESTIONS[1]]

    chroma_server.kill()  # down: a clear error, not a hang or a traceback
    with pytest.raises(StoreUnavailableError) as info:
        on_server.catalog.invalidate()
        answerer.answer(QUESTIONS[2])
    message = str(info.value)
    assert chroma_server.url in message and "\n" not in message

    chroma_server.start()  # back: the next question works, nothing rebuilt
    for question, keys in want.items():
        assert citation_keys(answerer.answer(question)) == keys


def test_a_hung_server_times_out_clearly(
    on_server: Services, chroma_server: ChromaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that stops answering (not dead: SIGSTOP) fails the question after the read
    timeout instead of holding a UI worker forever."""
    import rag.store.chroma as store_module
    import rag.store.connection as connection

    monkeypatch.setattr(store_module, "SERVER_READ_TIMEOUT", 1.0)
    monkeypatch.setattr(connection, "RETRY_PAUSE", 0.0)
    store = store_module.ChromaStore.from_settings(on_server.settings)  # applies the timeouts
    assert chroma_server.process is not None
    chroma_server.process.send_signal(signal.SIGSTOP)
    started = time.monotonic()
    try:
        with pytest.raises(StoreUnavailableError) as info:
            store.count_passages()
    finally:
        chroma_server.process.send_signal(signal.SIGCONT)
        monkeypatch.undo()
        store_module.make_client(on_server.settings)  # the shared HTTP session: defaults back
    assert time.monotonic() - started < 10
    assert chroma_server.url in str(info.value)
    assert store.count_passages() == on_server.store.count_passages()


def test_server_not_running_is_one_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailableError) as info:
        build_services(Settings(home=tmp_path / "home", chroma_url=url))
    assert url in str(info.value) and "\n" not in str(info.value)

    for args in (["ask", "What is the Quds Force?"], ["ingest"], ["sources"]):
        result = run_rag(args, tmp_path / "home", RAG_CHROMA_URL=url, timeout=120)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            f"error: Cannot reach the Chroma server at {url} "
            "(start it with `chroma run --path DIR --port PORT` or unset RAG_CHROMA_URL)"
        ]
        assert_no_traceback(result.stderr)
