"""The web UI in headless Chromium (Debian's package; `make chromium` installs it)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.models import StatementMeta
from rag.service import Services, build_services
from rag.settings import Settings
from ui.web.app import build_app, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEP = "000_750d3f795511808f"
SWP = "004_82099dca89624f38"
SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1">'
XSS_TEXT = (
    f"The committee demands brighter paint at every zebra crossing {SCRIPT} before winter.\n\n"
    f"Faded zebra crossings {IMG} endanger pedestrians, the committee warns.\n"
)
XSS_ORG = 'Crossings Committee <img src=x onerror="window.__xss=2">'
ANSWERED = "#rag-chat .rag-answer:not(.rag-pending):not(.rag-streaming)"
TIMINGS: dict[str, Any] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[Services, str]]:
    """The UI over the bundled statements plus one hostile statement."""
    home = tmp_path_factory.mktemp("ui-browser-home")
    hostile = home / "incoming" / "zebra-crossings.txt"
    hostile.parent.mkdir()
    hostile.write_text(XSS_TEXT, encoding="utf-8")
    settings = Settings(home=home / "data")
    services = build_services(settings, embedder=embedder)
    ingestor = Ingestor(settings, services.store, services.embedder)
    ingestor.run([BUNDLED_CORPUS])
    ingestor.run([hostile], StatementMeta(organization=XSS_ORG, date="2021-06-01"))
    demo = build_app(services, settings)
    url = serve(demo, settings, port=free_port(), quiet=True)
    try:
        yield services, url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: run `make chromium` (Debian's chromium package)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture(scope="module", autouse=True)
def _report_timings(artifacts: Path) -> Iterator[None]:
    yield
    if TIMINGS:
        (artifacts / "ui-timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


def _open(page: Any, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("#rag-question textarea")
    return time.perf_counter() - started


def _ask(page: Any, question: str) -> tuple[float, float]:
    """Type a question, press Enter; seconds to the first streamed text and to the end."""
    before = page.locator(ANSWERED).count()
    page.fill("#rag-question textarea", question)
    started = time.perf_counter()
    page.keyboard.press("Enter")
    page.wait_for_selector("#rag-chat .rag-streaming, " + ANSWERED)
    first = time.perf_counter() - started
    page.wait_for_function(f"document.querySelectorAll({json.dumps(ANSWERED)}).length > {before}")
    return first, time.perf_counter() - started


def _in_view(page: Any, selector: str) -> bool:
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight; }""",
        selector,
    )


def test_ask_then_open_a_citation(app: tuple[Services, str], page: Any, artifacts: Path) -> None:
    services, url = app
    TIMINGS["page_load_s"] = round(_open(page, url), 3)
    TIMINGS["dom_content_loaded_ms"] = page.evaluate(
        "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
    )
    page.evaluate(
        """() => { window.__seen = new Set();
          new MutationObserver(() => document.querySelectorAll('#rag-chat .rag-answer')
            .forEach((el) => el.classList.forEach((c) => window.__seen.add(c))))
          .observe(document.querySelector('#rag-chat'), {subtree: true, childList: true}); }"""
    )
    first, total = _ask(page, "What is the Quds Force?")
    seen = page.evaluate("[...window.__seen]")
    assert "rag-pending" in seen  # the question is echoed before the answer streams in
    TIMINGS["streamed_states_seen"] = sorted(seen)
    TIMINGS["first_streamed_text_s"] = round(first, 3)
    TIMINGS["answer_complete_s"] = round(total, 3)
    expected = services.answerer.answer("What is the Quds Force?").citations[0]
    quote = page.inner_text("#rag-chat blockquote.rag-quote .rag-quote-text")
    assert quote == f"“{expected.quote}”"
    mark = page.locator("#rag-citations-panel .rag-card-cite mark").first
    assert mark.inner_text() == expected.quote
    card = page.inner_text("#rag-citations-panel .rag-card-cite")
    assert "¶7" in card and "Soleimani rose through the ranks" in card  # the sentence before
    page.screenshot(path=str(artifacts / "ui-answer.png"), full_page=True)

    page.click("#rag-citations-panel .rag-card-cite")
    page.wait_for_selector("#rag-viewer mark.rag-cited")
    viewer = page.locator("#rag-viewer .rag-viewer")
    assert viewer.get_attribute("data-sid") == SWP
    assert page.inner_text("#rag-viewer mark.rag-cited") == expected.quote
    assert page.locator("#rag-viewer .rag-par").count() == 21
    assert "¶7" in page.inner_text("#rag-viewer .rag-par-cited")
    page.wait_for_function(
        """() => { const r = document.querySelector('#rag-viewer mark.rag-cited')
                   .getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"""
    )
    page.screenshot(path=str(artifacts / "ui-viewer.png"))

    # a follow-up turn; its [n] marker in the chat opens the viewer too
    _ask(page, "How many US soldiers had died?")
    assert page.locator("#rag-chat .rag-answer").count() == 2
    marker = page.locator("#rag-chat a.rag-ref").last
    query = parse_qs(urlparse(marker.get_attribute("href")).query)
    sid, start, end = query["statement"][0], int(query["start"][0]), int(query["end"][0])
    marker.click()
    text = services.store.statement(sid).text or ""
    page.wait_for_function(
        "(q) => document.querySelector('#rag-viewer mark.rag-cited')?.innerText === q",
        arg=text[start:end],
    )
    assert len(page.context.pages) == 1  # opened in place, not in a new tab
    assert _in_view(page, "#rag-viewer mark.rag-cited")

    with page.expect_download() as download:
        page.click("text=Export as Markdown")
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert "## 1. What is the Quds Force?" in exported and "## 2. How many" in exported
    assert "[^1]:" in exported and "¶7" in exported and "Socialist Workers Party" in exported

    page.click("text=Was the latest answer helpful?")
    page.get_by_label("Comment (optional)").fill("useful quotes")
    page.click("text=👍 Helpful")
    path, deadline = services.settings.feedback_path, time.time() + 10
    while not (path.exists() and path.read_text().endswith("\n")) and time.time() < deadline:
        time.sleep(0.1)  # the file is created by the append, then the line is written
    record = json.loads(path.read_text().splitlines()[-1])
    assert record["helpful"] is True and record["comment"] == "useful quotes"
    assert record["question"] == "How many US soldiers had died?"

    page.click("text=New chat")
    page.wait_for_selector("#rag-citations-panel .rag-empty")
    assert page.locator("#rag-chat .rag-answer").count() == 0


def test_example_question_and_abstention(page: Any, app: tuple[Services, str]) -> None:
    _open(page, app[1])
    # Open the filters now: Gradio mounts a closed accordion's fields when it opens and
    # then syncs their values, which can wipe text typed in the same instant.
    page.click("text=Filters")
    page.get_by_label("Since").wait_for()
    # the first example is about the user's own statement (the zebra crossings), by name;
    # the bundled statements' examples fill the rest
    page.wait_for_selector("button:has-text('What does Crossings Committee')")
    assert page.locator("button:has-text('What does Crossings Committee') img").count() == 0
    page.click("button:has-text('What is the Quds Force?')")
    page.wait_for_selector(ANSWERED)
    assert page.locator("#rag-citations-panel .rag-card-cite").count() >= 1
    _ask(page, "What is the capital of France?")
    abstention = page.locator("#rag-chat .rag-abstain")
    assert "don't address this" in abstention.inner_text()
    assert "nearest passages — not an answer" in abstention.inner_text().lower()
    panel = page.inner_text("#rag-citations-panel")
    assert "Nearest passages — not an answer" in panel
    assert page.locator("#rag-citations-panel .rag-card-cite").count() == 0
    # a bad filter: a one-line warning, the question kept for editing, no answer added
    answers = page.locator("#rag-chat .rag-answer").count()
    page.get_by_label("Since").fill("last spring")
    page.fill("#rag-question textarea", "What is the Quds Force?")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Not a date")
    page.wait_for_function(
        "() => document.querySelector('#rag-question textarea').value === 'What is the Quds Force?'"
    )
    assert page.locator("#rag-chat .rag-answer").count() == answers
    assert "Traceback" not in page.inner_text("body")


def test_deep_link_opens_the_viewer(page: Any, app: tuple[Services, str], artifacts: Path) -> None:
    services, url = app
    text = services.store.statement(SEP).text or ""
    sentence = "The claim that this violence is justified retaliation"
    start = text.index(sentence)
    end = text.index(".", start) + 1
    _open(page, f"{url}?statement={SEP}&start={start}&end={end}")
    page.wait_for_selector("#rag-viewer mark.rag-cited")
    assert page.inner_text("#rag-viewer mark.rag-cited") == text[start:end]
    assert page.locator("#rag-viewer .rag-viewer").get_attribute("data-sid") == SEP
    page.wait_for_function(
        """() => { const r = document.querySelector('#rag-viewer mark.rag-cited')
                   .getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"""
    )
    page.screenshot(path=str(artifacts / "ui-deep-link.png"))
    _open(page, f"{url}?statement=no-such-statement&start=1&end=5")
    page.wait_for_selector("#rag-viewer .rag-viewer.rag-empty:has-text('no-such-statement')")


def test_hostile_text_is_shown_not_run(
    page: Any, app: tuple[Services, str], artifacts: Path
) -> None:
    _open(page, app[1])
    _ask(page, "What does the committee say about zebra crossings?")
    chat = page.inner_text("#rag-chat")
    assert SCRIPT in chat or IMG in chat
    panel = page.inner_text("#rag-citations-panel")
    assert XSS_ORG in panel
    page.click("#rag-citations-panel .rag-card-cite")
    page.wait_for_selector("#rag-viewer mark.rag-cited")
    viewer = page.inner_text("#rag-viewer")
    assert SCRIPT in viewer and IMG in viewer
    question = f"Is {IMG} about zebra crossings?"
    _ask(page, question)
    assert question in page.inner_text("#rag-chat")
    page.click("button[role='tab']:has-text('Sources')")
    page.wait_for_function(
        "() => document.querySelector('#rag-sources').innerText.includes('zebra-crossings')"
    )
    assert XSS_ORG in page.inner_text("#rag-sources")
    page.click("button[role='tab']:has-text('Ask')")
    page.screenshot(path=str(artifacts / "ui-xss.png"), full_page=True)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert (
        page.locator("#rag-chat img[src='x'], #rag-viewer img, #rag-citations-panel img").count()
        == 0
    )


def test_bad_deep_links_say_why(page: Any, app: tuple[Services, str]) -> None:
    """Reversed, out-of-range and non-numeric offsets open the statement and say why
    nothing is highlighted; an unknown id and a crafted id show as text, in web words."""
    services, url = app
    length = len(services.store.statement(SEP).text or "")
    for query, why in (
        ("start=90&end=10", "ends before it starts"),
        (f"start=10&end={length + 50}", "lies outside this statement"),
        ("start=ten&end=twenty", "not numbers"),
    ):
        _open(page, f"{url}?statement={SEP}&{query}")
        page.wait_for_selector(f"#rag-viewer .rag-link-note:has-text('{why}')")
        assert page.locator("#rag-viewer mark.rag-cited").count() == 0
        assert page.locator("#rag-viewer .rag-par").count() == 13
    _open(page, f"{url}?statement=no-such-statement")
    page.wait_for_selector("#rag-viewer .rag-empty:has-text('Sources tab')")
    assert "rag sources" not in page.inner_text("#rag-viewer")
    form = '<form id="phish"><input type="password" name="p"><button>Log in</button></form>'
    _open(page, f"{url}?{urlencode({'statement': form})}")
    page.wait_for_selector("#rag-viewer .rag-empty:has-text('phish')")
    page.wait_for_timeout(500)  # the toast is up by now
    assert page.locator("form#phish, input[type='password']").count() == 0
    assert "<form" in page.inner_text("body")


def test_filters_are_filled_on_load_and_messages_are_labelled_as_text(
    page: Any, app: tuple[Services, str]
) -> None:
    _open(page, app[1])
    page.click("text=Filters")
    page.get_by_label("Organization").click()
    page.wait_for_selector("[role='option']:has-text('Socialist Workers Party')")
    page.keyboard.press("Escape")
    _ask(page, "What is the Quds Force?")
    page.wait_for_function(
        """() => [...document.querySelectorAll('#rag-chat [aria-label]')]
                 .some((el) => el.getAttribute('aria-label').includes('Quds Force'))"""
    )
    labels = page.evaluate(
        "[...document.querySelectorAll('#rag-chat [aria-label]')]"
        ".map((e) => e.getAttribute('aria-label'))"
    )
    assert labels and not [label for label in labels if "<" in label and "class=" in label]


def _axe_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    problems = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            for node in violation["nodes"]:
                problems.append(
                    f"{violation['id']}: {node['target']} {node['html'][:120]} "
                    f"{node['failureSummary']}"
                )
    return problems


def test_accessibility(page: Any, app: tuple[Services, str], artifacts: Path) -> None:
    """axe-core finds no serious or critical violation on the Ask tab (with an answer and
    its citations) or the Sources tab; the page has one <h1>; Tab reaches the question box
    before the saved conversations."""
    pytest.importorskip("axe_playwright_python")
    _open(page, app[1])
    _ask(page, "What is the capital of France?")  # an abstention, with nearest passages
    _ask(page, "What is the Quds Force?")
    page.click("#rag-citations-panel .rag-card-cite")
    page.wait_for_selector("#rag-viewer mark.rag-cited")
    problems = _axe_problems(page)
    page.click("button[role='tab']:has-text('Sources')")
    page.wait_for_function(
        "() => document.querySelector('#rag-sources').innerText.includes('zebra-crossings')"
    )
    problems += _axe_problems(page)
    (artifacts / "axe.txt").write_text("\n".join(problems) + "\n", encoding="utf-8")
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems[:40])
    assert page.locator("h1").count() == 1
    page.click("button[role='tab']:has-text('Ask')")
    assert page.get_by_role("textbox", name="Question").count() == 1
    # Tab follows the document's order (no positive tabindex on the page)
    order = page.evaluate(
        """() => { const all = [...document.querySelectorAll(
                     'a[href], button, input, textarea, select, [tabindex]')]
                   .filter((e) => e.tabIndex >= 0 && !e.disabled);
                   return {positive: all.filter((e) => e.tabIndex > 0).length,
                           question: all.findIndex((e) => e.closest('#rag-question')),
                           conversations: all.findIndex((e) => e.closest('#rag-conversations'))};
                 }"""
    )
    assert order["positive"] == 0 and order["question"] >= 0, order
    assert order["conversations"] > order["question"], order
