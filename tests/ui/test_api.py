"""The web UI's API through gradio_client, against the app on a free loopback port."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.service import Services, build_services
from rag.settings import Settings
from ui.web.app import build_app, prepare, serve

pytestmark = pytest.mark.slow

SEP = "000_750d3f795511808f"
SWP = "004_82099dca89624f38"


PREPARE_LOGS: list[logging.LogRecord] = []
PREPARE_SAID: list[str] = []


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[Services, str]]:
    """The UI over its own copy of the bundled statements (the upload test writes to it)."""
    settings = Settings(home=tmp_path_factory.mktemp("ui-api-home"))
    services = build_services(settings, embedder=embedder)
    logs, logger = _Records(), logging.getLogger("ui.web.app")
    level = logger.level
    logger.addHandler(logs)
    logger.setLevel(logging.DEBUG)
    try:
        # what `rag ui` does: the bundled statements
        prepare(services, ingest_if_empty=True, say=PREPARE_SAID.append)
    finally:
        logger.removeHandler(logs)
        logger.setLevel(level)
    PREPARE_LOGS.extend(logs.records)
    assert {s.statement_id for s in services.store.statements()} == {SEP, SWP}
    demo = build_app(services, settings)
    url = serve(demo, settings, port=free_port(), quiet=True)
    try:
        yield services, url
    finally:
        demo.close()


@pytest.fixture
def client(app: tuple[Services, str]) -> Client:
    """A fresh client: a new session, so an empty conversation."""
    return Client(app[1], verbose=False, download_files=False)


def _check_quotes(services: Services, result: dict) -> None:
    for c in result["citations"]:
        text = services.store.statement(c["statement_id"]).text or ""
        assert text[c["start"] : c["end"]] == c["quote"]


def test_ask_returns_the_cli_json(app: tuple[Services, str], client: Client) -> None:
    services, _ = app
    result = client.predict("What is the Quds Force?", api_name="/ask")
    assert set(result) == {"question", "abstained", "answer", "mode", "citations"}
    assert result["mode"] == "answer"
    assert result == services.answerer.answer("What is the Quds Force?").to_json_dict()
    assert not result["abstained"] and result["citations"]
    first = result["citations"][0]
    assert set(first) == {
        "n",
        "statement_id",
        "source",
        "title",
        "speaker",
        "author",
        "organization",
        "date",
        "paragraph",
        "start",
        "end",
        "quote",
    }
    assert first["statement_id"] == SWP and "Quds Force" in first["quote"]
    assert f"[{first['n']}]" in result["answer"]
    _check_quotes(services, result)


def test_abstains_without_citations(client: Client) -> None:
    result = client.predict("What is the capital of France?", api_name="/ask")
    assert result["abstained"] is True
    assert result["citations"] == []
    assert "don't address" in result["answer"]


def test_filters_limit_the_statements(app: tuple[Services, str], client: Client) -> None:
    question = "What do the statements say about the Democrats?"
    both = client.predict(question, api_name="/ask")
    assert {c["statement_id"] for c in both["citations"]} == {SEP, SWP}
    sep = client.predict(question, organization="Socialist Equality Party", api_name="/ask")
    assert sep["citations"] and {c["statement_id"] for c in sep["citations"]} == {SEP}
    swp = client.predict(question, statement_ids=[SWP], api_name="/ask")
    assert swp["citations"] and {c["statement_id"] for c in swp["citations"]} == {SWP}
    recent = client.predict(question, since="2010", api_name="/ask")
    assert {c["statement_id"] for c in recent["citations"]} == {SWP}
    _check_quotes(app[0], sep)
    with pytest.raises(AppError, match="Unknown organization"):
        client.predict(question, organization="Nobody Party", api_name="/ask")


def test_compare_groups_quotes_per_statement(client: Client) -> None:
    result = client.predict(
        "How do the statements differ on the Democratic Party?", compare=True, api_name="/ask"
    )
    ids = [c["statement_id"] for c in result["citations"]]
    assert set(ids) == {SEP, SWP}
    assert ids == sorted(ids, key=ids.index)  # grouped: one statement's quotes, then the other's


def test_chat_follow_up_uses_the_session_history(app: tuple[Services, str], client: Client) -> None:
    services, url = app
    first_q, follow_q = "What does the SWP say about the protests in Iraq?", "How many were killed?"
    first = client.predict(first_q, api_name="/chat")
    assert first["citations"] and {c["statement_id"] for c in first["citations"]} == {SWP}
    follow = client.predict(follow_q, api_name="/chat")
    # exactly what the answerer gives with the first answer as history
    expected = services.answerer.answer(follow_q, history=[services.answerer.answer(first_q)])
    assert follow == {**expected.to_json_dict(), "resolved_question": expected.resolved_question}
    assert follow["citations"] and {c["statement_id"] for c in follow["citations"]} == {SWP}
    assert any("450 demonstrators" in c["quote"] for c in follow["citations"])
    _check_quotes(services, follow)
    # a new session has no history: the same words are read on their own
    alone = Client(url, verbose=False, download_files=False).predict(follow_q, api_name="/chat")
    own = services.answerer.answer(follow_q)
    assert alone == {**own.to_json_dict(), "resolved_question": own.resolved_question}
    # and a follow-up that only makes sense with history differs with and without it
    other = "And what about the other statement?"
    session = Client(url, verbose=False, download_files=False)
    session.predict("What does the SEP demand regarding US troops in Iraq?", api_name="/chat")
    with_history = session.predict(other, api_name="/chat")
    assert {c["statement_id"] for c in with_history["citations"]} == {SWP}
    without = Client(url, verbose=False, download_files=False).predict(other, api_name="/chat")
    assert without["citations"] != with_history["citations"]


def test_question_errors_are_one_line(client: Client) -> None:
    with pytest.raises(AppError, match="The question is empty"):
        client.predict("   ", api_name="/chat")
    with pytest.raises(AppError, match="too long"):
        client.predict("why " * 1000, api_name="/ask")


def test_inputs_of_the_wrong_type_are_one_clear_error(client: Client) -> None:
    """A date given as a number, or one id instead of a list, is a one-line error naming
    the field (it was an AttributeError)."""
    with pytest.raises(AppError, match=r"Invalid since: expected text, got int"):
        client.predict("What is the Quds Force?", since=2019, api_name="/ask")
    with pytest.raises(AppError, match=r"Invalid statement_ids: expected a list"):
        client.predict("What is the Quds Force?", statement_ids=SEP, api_name="/ask")
    with pytest.raises(AppError, match=r"Invalid until"):
        client.predict("What is the Quds Force?", until=["2020"], api_name="/ask")
    assert client.predict("What is the Quds Force?", since="2019", api_name="/ask")["citations"]


def test_upload_then_ask(app: tuple[Services, str], client: Client, tmp_path: Path) -> None:
    services, _ = app
    upload = tmp_path / "Compost statement (draft).txt"
    upload.write_text(
        "The Riverside Green League calls on the city to start municipal composting in 2026.\n\n"
        "Every household should get a brown bin for food scraps, collected weekly, and the "
        "compost should go back to community gardens free of charge.\n",
        encoding="utf-8",
    )
    report, _, _, _, _ = client.predict(
        [handle_file(str(upload))],
        "Riverside Green League",
        "",
        "2025-03-01",
        "",
        api_name="/upload",
    )
    assert "new" in report and "Compost-statement-draft" in report
    saved = services.settings.uploads_dir / "Compost-statement-draft.txt"
    assert saved.is_file()
    result = client.predict("What does the league say about municipal composting?", api_name="/ask")
    assert not result["abstained"]
    top = result["citations"][0]
    assert top["statement_id"] == "Compost-statement-draft"
    assert top["organization"] == "Riverside Green League" and top["date"] == "2025-03-01"
    assert "composting" in top["quote"] or "compost" in top["quote"]
    _check_quotes(services, result)
    # filter choices now offer the new statement
    only = client.predict(
        "brown bin for food scraps", statement_ids=["Compost-statement-draft"], api_name="/ask"
    )
    assert only["citations"]


def test_upload_reports_other_types_and_big_files_as_skipped(
    app: tuple[Services, str], client: Client, tmp_path: Path
) -> None:
    """One file of another type, or over RAG_MAX_UPLOAD_MB, is a skipped line in the
    report; the rest of the upload is ingested (it used to fail the whole call)."""
    uploads = app[0].settings.uploads_dir
    bad = tmp_path / "data.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    docx = tmp_path / "minutes.docx"
    docx.write_bytes(b"PK not a statement")
    big = tmp_path / "huge.txt"
    big.write_text("word " * int(app[0].settings.max_upload_mb * 1024 * 1024 / 5 + 100))
    kept = tmp_path / "kept.txt"
    kept.write_text("The harbour board demands a ferry to the lighthouse.\n", encoding="utf-8")
    report, *_ = client.predict(
        [handle_file(str(p)) for p in (bad, docx, big, kept)], "", "", "", "", api_name="/upload"
    )
    assert "data.csv: only" in report and "rag-ingest-skipped" in report
    assert "huge.txt: larger than" in report
    assert "rag-ingest-new" in report and "kept" in report
    assert not (uploads / "data.csv").exists() and not (uploads / "huge.txt").exists()
    assert (uploads / "kept.txt").is_file()
    good = tmp_path / "fine.txt"
    good.write_text("A fine statement about bicycle lanes.\n", encoding="utf-8")
    report, *_ = client.predict([handle_file(str(good))], "", "", "someday", "", api_name="/upload")
    assert "Not a date" in report and "rag-ingest-error" in report
    assert not (uploads / "fine.txt").exists()


def test_first_run_ingest_is_logged_as_info(app: tuple[Services, str]) -> None:
    """Ingesting the bundled statements into an empty store is expected, not a warning."""
    messages = [(r.levelno, r.getMessage()) for r in PREPARE_LOGS]
    assert any("ingesting the bundled statements" in m for _, m in messages), messages
    assert all(level < logging.WARNING for level, _ in messages), messages
    # what `rag ui` prints meanwhile (it printed nothing during the first run's ingest)
    assert PREPARE_SAID[0] == "Loading the 2 bundled statements…"
    assert PREPARE_SAID[1].startswith("Loaded them in ")
