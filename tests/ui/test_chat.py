"""The chat-app experience in headless Chromium: saved conversations (reload, restart),
per-message actions, filter chips, Stop, the Sources tab's actions, the 400 px layout.

Screenshots go to ``test-artifacts/screens/``."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.errors import RagError
from rag.models import RetrievalEvent, StatementMeta
from rag.service import Services, build_services
from rag.settings import Settings
from ui.web.app import build_app, serve
from ui.web.conversations import ConversationStore

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEP = "000_750d3f795511808f"
SWP = "004_82099dca89624f38"
ANSWERED = "#rag-chat .rag-answer:not(.rag-pending):not(.rag-streaming)"
SEP_Q = "What does the SEP demand regarding US troops in Iraq?"
FOLLOW_UP = "And what about the other statement?"
SLOW = "slowly"  # questions with this word take ~10 s to start answering
FAILS = "then fails"  # … and with these words, fail after ~2 s
LINGERS = "then lingers"  # the answer is complete, but its stream ends ~3 s later


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
            for _ in range(50 if FAILS not in question else 10):
                time.sleep(0.2)
                yield RetrievalEvent(passages=0, statement_ids=[])
            if FAILS in question:
                raise RagError("The statements are unavailable right now")
        yield from stream(question, *args, **kwargs)
        if LINGERS in question:  # the step that ends the answer (and saves it) is slow
            time.sleep(3)

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


def log_in(browser: Any, url: str, user: str, password: str) -> tuple[Any, Any]:
    """A new browser context logged in as ``user``: (context, page)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#rag-question textarea")
    page.wait_for_selector("#rag-chips .rag-chips")
    return context, page


def _listed(page: Any) -> list[str]:
    return page.locator("#rag-conversations label").all_inner_texts()


def _owner(page: Any, store: ConversationStore) -> str:
    """The one browser owner with conversations (each test has a fresh browser)."""
    [label] = _listed(page)[:1] or [""]
    with closing(sqlite3.connect(store.path)) as db:
        owners = {row[0] for row in db.execute("SELECT owner FROM conversations")}
    for path_owner in owners:
        if any(c.label == label for c in store.conversations(path_owner)):
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
    [saved] = store.conversations(owner)
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
    assert len(store.conversations(owner)) == 1

    other = context.browser.new_context()  # another browser sees none of them
    try:
        stranger = other.new_page()
        _open(stranger, server.url)
        stranger.wait_for_timeout(500)
        assert _listed(stranger) == []
    finally:
        other.close()


def _rating_buttons(page: Any, answer: int, which: str) -> Any:
    """The 👍 (``Like``) or 👎 (``Dislike``) button under the ``answer``-th answer."""
    return page.locator(f"#rag-chat button[aria-label='{which}']").nth(answer)


def test_per_message_actions(server: Server, page: Any, screens: Path) -> None:
    _open(page, server.url)
    _ask(page, "What is the Quds Force?")
    _ask(page, SEP_Q)
    expected = server.services.answerer.answer("What is the Quds Force?").citations[0]

    first = page.locator(ANSWERED).first
    first.locator(".rag-copy-answer").click()
    copied = page.evaluate("window.__ragCopied")
    assert f"> “{expected.quote}” [1]" in copied
    assert f"[1]: {expected.label}, ¶{expected.paragraph} — http" in copied
    assert f"statement={expected.statement_id}&start={expected.start}" in copied
    assert "Copy" not in copied and "<" not in copied
    page.wait_for_selector("#rag-chat .rag-copy-answer:has-text('Copied')")
    first.locator(".rag-copy-quote").first.click()
    one = page.evaluate("window.__ragCopied")
    assert one.startswith(f"“{expected.quote}”\n— [1]: {expected.label}, ¶{expected.paragraph}")

    # 👍/👎 on any answer, not only the latest; one verdict each, changeable, with a comment
    page.click("text=Was the latest answer helpful?")
    page.get_by_label("Comment (optional)").fill("exactly the passage")
    _rating_buttons(page, 0, "Like").click()
    comment, deadline = page.get_by_label("Comment (optional)"), time.time() + 10
    while comment.input_value() and time.time() < deadline:  # saved: the box is emptied
        time.sleep(0.1)
    assert comment.input_value() == ""
    _rating_buttons(page, 0, "Dislike").click()
    _rating_buttons(page, 1, "Like").click()
    store = ConversationStore.under(server.services.settings.home)
    owner, deadline = _owner(page, store), time.time() + 10
    [saved] = store.conversations(owner)
    while time.time() < deadline:
        ratings = store.ratings(owner, saved.id)
        if [r.verdict for r in ratings] == [False, True]:
            break
        time.sleep(0.2)
    assert [(r.verdict, r.comment) for r in store.ratings(owner, saved.id)] == [
        (False, "exactly the passage"),
        (True, None),
    ]
    # the accordion's buttons rate the latest answer, and its thumbs show it
    page.click("text=👎 Not helpful")
    page.wait_for_function(
        "document.querySelectorAll(\"#rag-chat button[aria-label='Disliked']\").length === 2"
    )
    deadline = time.time() + 10
    while time.time() < deadline and store.ratings(owner, saved.id)[1].verdict is not False:
        time.sleep(0.2)
    assert [r.verdict for r in store.ratings(owner, saved.id)] == [False, False]
    feedback = server.services.settings.feedback_path.read_text().splitlines()
    lines = [json.loads(line) for line in feedback]
    keyed = {r["answer_key"]: r["helpful"] for r in lines if r.get("answer_key")}  # last wins
    assert keyed == {f"{saved.id}:0": False, f"{saved.id}:1": False}
    page.locator("#rag-chat .rag-answer").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screens / "message-actions.png"))

    # edit-and-resend: the first question, changed; what followed it goes
    page.locator("#rag-chat .rag-edit").first.click()
    page.wait_for_selector("#rag-chips .rag-chip-edit:has-text('Editing question 1')")
    assert page.input_value("#rag-question textarea") == "What is the Quds Force?"
    page.fill("#rag-question textarea", "Who led the Quds Force?")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('#rag-chat .rag-question').length === 1 && "
        f"document.querySelectorAll({json.dumps(ANSWERED)}).length === 1"
    )
    assert "Who led the Quds Force?" in page.inner_text("#rag-chat .rag-question")
    page.wait_for_selector("#rag-chips .rag-chips-none")
    deadline = time.time() + 10
    while time.time() < deadline and len(store.answers(owner, saved.id)) != 1:
        time.sleep(0.2)
    assert [a.question for a in store.answers(owner, saved.id)] == ["Who led the Quds Force?"]


def test_filter_chips_stop_and_counter(server: Server, page: Any, screens: Path) -> None:
    _open(page, server.url)
    page.wait_for_selector("#rag-chips:has-text('Searching all statements')")
    page.click("text=Filters")
    page.get_by_label("Author").click()
    page.click("[role='option']:has-text('Ann Rider')")
    page.get_by_label("Since").fill("2003")
    page.get_by_label("Since").press("Tab")
    page.locator("#rag-mode").get_by_label("Compare speakers").check()
    page.wait_for_selector("#rag-chips .rag-chip:has-text('Author: Ann Rider')")
    page.wait_for_selector("#rag-chips .rag-chip:has-text('Since: 2003')")
    page.wait_for_selector("#rag-chips .rag-chip:has-text('Answer as: Compare speakers')")
    page.click("text=Filters")  # closed: the chips stay in view
    page.wait_for_timeout(300)
    assert page.locator("#rag-chips .rag-chip").count() == 3
    page.locator("#rag-chips").screenshot(path=str(screens / "filter-chips.png"))
    page.screenshot(path=str(screens / "filter-chips-page.png"))
    page.click("#rag-chips [aria-label='Remove filter: Answer as: Compare speakers']")
    page.wait_for_function("document.querySelectorAll('#rag-chips .rag-chip').length === 2")
    # Ann Rider's statement is undated: with "since 2003" nothing matches, so that chip goes too
    page.click("#rag-chips [aria-label='Remove filter: Since: 2003']")
    page.wait_for_function("document.querySelectorAll('#rag-chips .rag-chip').length === 1")
    _ask(page, "What do they demand about bike lanes?")
    answer = page.locator(ANSWERED).last
    # every answer states what it searched: here the author filter
    assert "Ann Rider" in answer.locator(".rag-scope").inner_text()
    assert "bike lanes" in answer.inner_text()
    page.click("#rag-chips [aria-label='Remove filter: Author: Ann Rider']")
    page.wait_for_selector("#rag-chips .rag-chips-none")
    page.click("text=Filters")
    assert page.get_by_role("textbox", name="Since").input_value() == ""

    # Stop: the button says the answer is running; a question typed meanwhile stays
    answers = page.locator(ANSWERED).count()
    page.fill("#rag-question textarea", f"What is the Quds Force, {SLOW}?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#rag-stop:visible")
    assert page.locator("#rag-send").is_hidden()
    page.fill("#rag-question textarea", "A question typed meanwhile")
    page.screenshot(path=str(screens / "running-stop.png"))
    page.click("#rag-stop")
    page.wait_for_selector("#rag-send:visible")
    page.wait_for_selector("#rag-chat .rag-pending", state="detached")
    assert page.input_value("#rag-question textarea") == "A question typed meanwhile"
    assert page.locator(ANSWERED).count() == answers
    # stopped with an empty box: the stopped question comes back for editing
    page.fill("#rag-question textarea", f"Who was Soleimani, {SLOW}?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#rag-stop:visible")
    page.click("#rag-stop")
    page.wait_for_function(
        "document.querySelector('#rag-question textarea').value.startsWith('Who was Soleimani')"
    )

    # the length counter, red past the limit
    page.fill("#rag-question textarea", "x" * 2001)
    page.wait_for_selector("#rag-count .rag-count-over:has-text('2,001 / 2,000')")
    page.fill("#rag-question textarea", "short")
    page.wait_for_selector("#rag-count .rag-count:not(.rag-count-over):has-text('5 / 2,000')")


def test_conversations_are_per_user_with_auth(server: Server, browser: Any, tmp_path: Path) -> None:
    logins = tmp_path / "logins"
    logins.write_text("alice:alice-secret-1\nbob:bob-secret-22\n")
    settings = server.services.settings.model_copy(update={"ui_auth": str(logins)})
    demo = build_app(server.services, settings)
    url = serve(demo, settings, port=free_port(), quiet=True)

    def login(user: str, password: str) -> tuple[Any, Any]:
        return log_in(browser, url, user, password)

    try:
        context, page = login("alice", "alice-secret-1")
        _ask(page, "What is the Quds Force?")
        page.wait_for_selector("#rag-conversations label")
        context.close()
        # alice on another browser sees her conversation; bob sees none of hers
        context, page = login("alice", "alice-secret-1")
        page.wait_for_selector("#rag-conversations label:has-text('What is the Quds Force?')")
        context.close()
        context, page = login("bob", "bob-secret-22")
        page.wait_for_timeout(1000)
        assert _listed(page) == []
        context.close()
        store = ConversationStore.under(settings.home)
        assert [c.title for c in store.conversations("user:alice")] == ["What is the Quds Force?"]
    finally:
        demo.close()


def test_a_failed_question_never_overwrites_a_new_one(server: Server, page: Any) -> None:
    _open(page, server.url)
    page.fill("#rag-question textarea", f"Quds Force, {SLOW}, {FAILS}?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#rag-stop:visible")
    page.fill("#rag-question textarea", "My next question")
    page.wait_for_selector("text=The statements are unavailable right now")
    page.wait_for_selector("#rag-send:visible")
    page.wait_for_timeout(300)
    assert page.input_value("#rag-question textarea") == "My next question"
    assert page.locator("#rag-chat .rag-pending").count() == 0
    # with the box left empty, the failed question comes back for another try
    page.fill("#rag-question textarea", f"Soleimani, {SLOW}, {FAILS}?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#rag-stop:visible")
    page.wait_for_function(
        "document.querySelector('#rag-question textarea').value.startsWith('Soleimani')"
    )


def _saved(server: Server, question: str) -> int:
    """How many saved turns (in any conversation) hold ``question``."""
    store = ConversationStore.under(server.services.settings.home)
    with closing(sqlite3.connect(store.path)) as db:
        rows = db.execute(
            "SELECT COUNT(*) FROM turns WHERE json_extract(answer, '$.question') = ?", (question,)
        ).fetchone()
    return int(rows[0])


def test_stop_at_any_moment_saves_nothing_it_does_not_show(server: Server, page: Any) -> None:
    """Stop before the answer starts, while it streams, and while it is being completed:
    no error badge anywhere, nothing saved that the page does not show, and a stopped
    question back in the box (it used to be saved anyway, or to vanish)."""
    _open(page, server.url)
    cases = [  # questions no other test asks: each is counted in the store
        ("Tell me what the Quds Force is.", "at once"),
        ("Tell me what the SEP demands.", "at once"),
        (f"What did the SEP demand, {SLOW}?", "streaming"),
        (f"Tell me what the Quds Force is, {LINGERS}.", "completing"),
        (f"Who was Qassem Soleimani, {SLOW}?", "at once"),
    ]
    for question, moment in cases:
        page.fill("#rag-question textarea", "(cleared by New chat)")
        page.click("text=New chat")  # it empties the box: wait for that before typing
        page.wait_for_function("document.querySelector('#rag-question textarea').value === ''")
        page.wait_for_function(f"document.querySelectorAll({json.dumps(ANSWERED)}).length === 0")
        page.fill("#rag-question textarea", question)
        if moment == "at once":  # Stop the moment it shows (the answer may be done already)
            page.keyboard.press("Enter")
            page.wait_for_selector("#rag-stop:visible")
            page.evaluate("document.querySelector('#rag-stop').click()")
        else:
            page.keyboard.press("Enter")
            if moment == "streaming":
                page.wait_for_selector("#rag-chat .rag-pending:has-text('Reading')")
            else:  # the answer's text is shown, its last step has not finished
                page.wait_for_selector("#rag-chat .rag-streaming")
            page.click("#rag-stop")
        page.wait_for_selector("#rag-send:visible")
        page.wait_for_selector("#rag-chat .rag-pending, #rag-chat .rag-streaming", state="detached")
        page.wait_for_timeout(3500 if moment == "completing" else 800)  # late updates land
        shown = page.locator(ANSWERED).count()
        assert page.get_by_text("Error", exact=True).count() == 0, moment
        assert page.locator("#rag-chat .rag-pending, #rag-chat .rag-streaming").count() == 0
        assert _saved(server, question) == shown, (question, moment, shown)
        if not shown:  # stopped: its question is back in the box
            assert page.input_value("#rag-question textarea") == question, moment
    # the stopped runs left nothing behind: the next question is answered and saved
    page.fill("#rag-question textarea", "")
    _ask(page, SEP_Q)
    assert _saved(server, SEP_Q) >= 1


def test_two_tabs_on_one_conversation_lose_nothing(server: Server, context: Any) -> None:
    """Tab A adds a turn; tab B, which opened the conversation before, edits its first
    question: B is told, its chat is saved as a new conversation, and A's turn stays (it
    used to be deleted silently)."""
    first, edited = "What is the Quds Force, in two tabs?", "Who led the Quds Force, in two tabs?"
    tab_a = context.new_page()
    _open(tab_a, server.url)
    _ask(tab_a, first)
    tab_a.wait_for_selector("#rag-conversations label")
    tab_b = context.new_page()  # the same browser: the same owner
    _open(tab_b, server.url)
    tab_b.click("#rag-conversations label")
    tab_b.wait_for_function(f"document.querySelectorAll({json.dumps(ANSWERED)}).length === 1")
    _ask(tab_a, SEP_Q)
    tab_b.locator("#rag-chat .rag-edit").first.click()
    tab_b.wait_for_selector("#rag-chips .rag-chip-edit")
    tab_b.fill("#rag-question textarea", edited)
    tab_b.keyboard.press("Enter")
    tab_b.wait_for_selector("text=changed in another tab")
    store = ConversationStore.under(server.services.settings.home)
    owner = _owner(tab_a, store)
    deadline = time.time() + 10
    while time.time() < deadline and len(store.conversations(owner)) < 2:
        time.sleep(0.2)
    saved = {c.title: store.answers(owner, c.id) for c in store.conversations(owner)}
    assert [a.question for a in saved[first]] == [first, SEP_Q]
    assert [a.question for a in saved[edited]] == [edited]
    tab_b.wait_for_function("document.querySelectorAll('#rag-conversations label').length === 2")


def test_answer_modes_are_page_controls(server: Server, page: Any, screens: Path) -> None:
    """Issue 20: compare, positions and timeline without special phrasing: the "Answer as"
    control; positions come as a table with clickable citations, a timeline as a list."""
    _open(page, server.url)
    page.locator("#rag-mode").get_by_label("Positions of all speakers").check()
    page.wait_for_selector("#rag-chips .rag-chip:has-text('Answer as: Positions')")
    _ask(page, "the Democratic Party")
    answer = page.locator(ANSWERED).last
    table = answer.locator("table.rag-positions")
    table.wait_for()
    assert table.locator("tbody tr").count() >= 1
    assert "Positions on the Democratic Party" in answer.inner_text()
    answer.locator("table.rag-positions a.rag-ref").first.click()  # opens the statement
    page.wait_for_selector("#rag-viewer mark.rag-cited")
    with page.expect_download() as download:
        page.click("#rag-csv")
    rows = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("speaker,author,organization,date") and len(rows) >= 2
    answer.screenshot(path=str(screens / "positions-table.png"))

    page.locator("#rag-mode").get_by_label("One speaker's timeline").check()
    _ask(page, "What has Naomi Craine said about Iran?")
    timeline = page.locator(ANSWERED).last.locator("ol.rag-timeline")
    timeline.wait_for()
    assert "2020-01-03" in timeline.inner_text()
