"""The chat-app experience in headless Chromium: saved conversations (reload, restart),
per-message actions, filter chips, Stop, the Sources tab's actions, the 400 px layout.

Screenshots go to ``test-artifacts/screens/``."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from rag.embeddings import SentenceTransformerEmbedder
from rag.models import RetrievalEvent, StatementMeta
from rag.service import Services, build_services
from rag.settings import Settings
from ui.conversations import ConversationStore
from ui.web import build_app, serve

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEP = "000_750d3f795511808f"
SWP = "004_82099dca89624f38"
ANSWERED = "#rag-chat .rag-answer:not(.rag-pending):not(.rag-streaming)"
SEP_Q = "What does the SEP demand regarding US troops in Iraq?"
FOLLOW_UP = "And what about the other statement?"
SLOW = "slowly"  # questions with this word take ~10 s to start answering


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """The app over one data directory; ``restart`` serves it anew on the same port."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.port = free_port()
        self.demo: Any = None
        self.url = ""
        self.start()

    def start(self) -> None:
        self.demo = build_app(self.services, self.services.settings)
        for _ in range(50):
            try:
                self.url = serve(self.demo, self.services.settings, port=self.port, quiet=True)
                return
            except Exception:  # the old socket may linger for a moment
                time.sleep(0.2)
        raise RuntimeError("cannot restart the app")

    def restart(self) -> None:
        self.demo.close()
        self.start()


def _slow(stream: Any) -> Any:
    def slow_stream(question: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
        if SLOW in question:
            for _ in range(50):
                time.sleep(0.2)
                yield RetrievalEvent(passages=0, statement_ids=[])
        yield from stream(question, *args, **kwargs)

    return slow_stream


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("ui-chat-home")
    extra = home / "incoming" / "bike-lanes.txt"
    extra.parent.mkdir()
    extra.write_text("The cycling club demands protected bike lanes on every avenue.\n")
    settings = Settings(home=home / "data")
    services = build_services(settings, embedder=embedder)
    ingestor = Ingestor(settings, services.store, services.embedder)
    ingestor.run([BUNDLED_CORPUS])
    ingestor.run([extra], StatementMeta(organization="Cycling Club", author="Ann Rider"))
    services.answerer.stream = _slow(services.answerer.stream)  # type: ignore[method-assign]
    app = Server(services)
    try:
        yield app
    finally:
        app.demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: run `make chromium`")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture(scope="module")
def screens(artifacts: Path) -> Path:
    folder = artifacts / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#rag-question textarea")
    page.wait_for_selector("#rag-chips .rag-chips")
    # the page's load event has given this browser its id (kept in localStorage)
    page.wait_for_function("() => !!localStorage.getItem('rag-browser-id')")


def _ask(page: Any, question: str) -> None:
    before = page.locator(ANSWERED).count()
    page.fill("#rag-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll({json.dumps(ANSWERED)}).length > {before}")


def _listed(page: Any) -> list[str]:
    return page.locator("#rag-conversations label").all_inner_texts()


def _owner(page: Any, store: ConversationStore) -> str:
    """The one browser owner with conversations (each test has a fresh browser)."""
    [label] = _listed(page)[:1] or [""]
    for path_owner in {
        row[0]
        for row in __import__("sqlite3")
        .connect(store.path)
        .execute("SELECT owner FROM conversations")
        .fetchall()
    }:
        if any(c.label == label for c in store.list(path_owner)):
            return path_owner
    raise AssertionError("no owner found")


def test_conversations_survive_reload_and_restart(
    server: Server, context: Any, page: Any, screens: Path
) -> None:
    _open(page, server.url)
    _ask(page, "What is the Quds Force?")
    _ask(page, SEP_Q)
    page.wait_for_function("document.querySelectorAll('#rag-conversations label').length === 1")
    [label] = _listed(page)
    assert label.startswith("What is the Quds Force? · 20")
    page.screenshot(path=str(screens / "conversation-list.png"))

    page.reload()
    page.wait_for_selector("#rag-conversations label")
    assert page.locator(ANSWERED).count() == 0
    server.restart()
    page.reload()
    page.wait_for_selector("#rag-conversations label")  # same browser id after a restart
    page.click("#rag-conversations label")
    page.wait_for_function(f"document.querySelectorAll({json.dumps(ANSWERED)}).length === 2")
    assert page.input_value("#rag-conv-name input") == "What is the Quds Force?"
    page.wait_for_selector("#rag-citations-panel .rag-card-cite")  # of its latest answer
    # the reopened conversation continues: its history is the typed answers
    _ask(page, FOLLOW_UP)
    assert page.locator(ANSWERED).count() == 3
    store = ConversationStore.under(server.services.settings.home)
    owner = _owner(page, store)
    [saved] = store.list(owner)
    answers = store.answers(owner, saved.id)
    assert [a.question for a in answers] == ["What is the Quds Force?", SEP_Q, FOLLOW_UP]
    expected = server.services.answerer.answer(FOLLOW_UP, history=answers[:2])
    assert answers[2].citations == expected.citations
    assert {c.statement_id for c in answers[2].citations} == {SWP}
    with page.expect_download() as download:
        page.click("text=Export as Markdown")
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert "## 1. What is the Quds Force?" in exported and f"## 3. {FOLLOW_UP}" in exported

    page.fill("#rag-conv-name input", "Quds <b>Force</b> thread")
    page.click("#rag-rename")
    page.wait_for_function(
        "document.querySelector('#rag-conversations').innerText.includes('Quds <b>Force</b>')"
    )
    assert page.locator("#rag-conversations b").count() == 0
    page.click("text=New chat")
    page.wait_for_function(f"document.querySelectorAll({json.dumps(ANSWERED)}).length === 0")
    _ask(page, "What do the statements demand?")
    page.wait_for_function("document.querySelectorAll('#rag-conversations label').length === 2")
    assert _listed(page)[0].startswith("What do the statements demand?")

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#rag-forget")
    page.wait_for_timeout(500)
    assert len(_listed(page)) == 2  # declined: nothing deleted
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#rag-forget")
    page.wait_for_function("document.querySelectorAll('#rag-conversations label').length === 1")
    page.wait_for_function(f"document.querySelectorAll({json.dumps(ANSWERED)}).length === 0")
    assert len(store.list(owner)) == 1

    other = context.browser.new_context()  # another browser sees none of them
    try:
        stranger = other.new_page()
        _open(stranger, server.url)
        stranger.wait_for_timeout(500)
        assert _listed(stranger) == []
    finally:
        other.close()
