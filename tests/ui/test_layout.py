"""The Sources tab (upload with per-file metadata, filter, open, delete), the viewer's
scrolling (citations and deep links keep the page header) and the 400 px layout, in
headless Chromium. Fixtures and helpers are shared with ``tests/ui/test_chat.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file

from tests.ui import test_chat as chat
from tests.ui.test_chat import SWP, Server, _ask, _open, free_port, log_in
from ui.web.app import build_app, serve

# the same fixtures as the chat tests (this module gets its own app and browser)
server, browser, context, page, screens = (
    chat.server,
    chat.browser,
    chat.context,
    chat.page,
    chat.screens,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_sources_tab_upload_open_filter_delete(
    server: Server, page: Any, tmp_path: Path, screens: Path
) -> None:
    services = server.services
    _open(page, server.url)
    page.click("button[role='tab']:has-text('Sources')")
    # several files at once, each with its own metadata from a statements.json
    (tmp_path / "parks.txt").write_text("The park friends demand more benches in every park.\n")
    (tmp_path / "trees.md").write_text("The tree society demands a street tree on every block.\n")
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / "statements.json").write_text(
        json.dumps(
            {
                "parks.txt": {"organization": "Park Friends", "date": "2022-05-01"},
                "trees.md": {"organization": "Tree Society", "author": "T. Oak"},
            }
        )
    )
    (tmp_path / "minutes.odt").write_bytes(b"PK not supported")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    upload = "input[type='file'][multiple]"
    names = ["parks.txt", "trees.md", "statements.json", "notes.json", "pyproject.toml"]
    page.set_input_files(upload, [str(tmp_path / n) for n in [*names, "minutes.odt"]])
    page.click("text=Ingest files")
    page.wait_for_selector("#rag-report .rag-ingest-new")
    report = page.inner_text("#rag-report")
    assert "metadata for 2 file(s)" in report
    # files of other types are reported in the summary, not refused with a red error
    assert "notes.json: only" in report and "pyproject.toml: only" in report
    assert "minutes.odt: only" in report
    assert page.get_by_text("Invalid file type").count() == 0
    page.wait_for_selector("text=2 new, 3 skipped: ask about them now.")
    meta = {s.source: s for s in services.store.statements()}
    assert (
        meta["parks.txt"].organization == "Park Friends" and meta["parks.txt"].date == "2022-05-01"
    )
    assert meta["trees.md"].author == "T. Oak"

    # filter the table by organization, author or date
    page.wait_for_function(
        "() => document.querySelector('#rag-sources').innerText.includes('Tree Society')"
    )
    page.click("#rag-src-author input")
    page.click("[role='option']:has-text('T. Oak')")
    page.wait_for_function(
        "() => !document.querySelector('#rag-sources').innerText.includes('Park Friends')"
    )
    assert "Tree Society" in page.inner_text("#rag-sources")
    page.click("#rag-src-author input")
    page.click("[role='option']:has-text('Any author')")
    page.locator("#rag-src-date textarea").fill("2022")
    page.locator("#rag-src-date textarea").press("Enter")
    page.wait_for_function(
        "() => !document.querySelector('#rag-sources').innerText.includes('Tree Society')"
    )
    assert "Park Friends" in page.inner_text("#rag-sources")
    page.screenshot(path=str(screens / "sources-filtered.png"))

    # a row opens its statement in the viewer (on the Ask tab)
    page.locator("#rag-sources").get_by_text("Park Friends", exact=True).locator(
        "visible=true"
    ).first.click()
    page.wait_for_selector("#rag-viewer .rag-viewer:has-text('more benches')")
    park_id = meta["parks.txt"].statement_id
    assert page.get_attribute("#rag-viewer .rag-viewer", "data-sid") == park_id

    # delete several at once, after one confirmation: gone from the store, the table and
    # the choices; declining the confirmation changes nothing and shows no error
    page.click("button[role='tab']:has-text('Sources')")
    trees_id = meta["trees.md"].statement_id
    for sid in (park_id, trees_id):
        page.get_by_label("Delete statements").click()
        page.click(f"[role='option']:has-text('{sid}')")
    page.keyboard.press("Escape")
    dialogs: list[str] = []

    def decline(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.click("#rag-delete")
    page.wait_for_timeout(1000)
    assert dialogs == ["Delete 2 statement(s) from the store? Answers will no longer quote them."]
    assert {park_id, trees_id} <= {s.statement_id for s in services.store.statements()}
    assert page.get_by_text("not in the list of choices").count() == 0
    assert page.get_by_text("Error", exact=True).count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#rag-delete")
    page.wait_for_selector("#rag-report .rag-ingest-deleted")
    assert page.locator("#rag-report .rag-ingest-deleted").count() == 2
    left = {s.statement_id for s in services.store.statements()}
    assert park_id not in left and trees_id not in left
    assert not (services.settings.uploads_dir / "parks.txt").exists()
    page.locator("#rag-src-date textarea").fill("")
    page.locator("#rag-src-date textarea").press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#rag-sources').innerText.includes('Cycling Club')"
    )
    assert "Park Friends" not in page.inner_text("#rag-sources")
    assert "Tree Society" not in page.inner_text("#rag-sources")
    page.click("button[role='tab']:has-text('Ask')")
    page.click("text=Filters")
    page.locator("#rag-ask").get_by_label("Organization").click()
    page.wait_for_selector("[role='option']:has-text('Cycling Club')")
    assert page.locator("[role='option']:has-text('Park Friends')").count() == 0
    assert page.locator("[role='option']:has-text('Tree Society')").count() == 0
    page.keyboard.press("Escape")
    cited = services.answerer.answer("Which park friends demand more benches?").citations
    assert all(c.statement_id != park_id for c in cited)  # no longer answerable


def test_citation_scrolls_the_viewer_not_the_page(server: Server, page: Any) -> None:
    _open(page, server.url)
    _ask(page, "What is the Quds Force?")
    page.evaluate("window.scrollTo(0, 0)")
    page.click("#rag-citations-panel .rag-card-cite")
    page.wait_for_selector("#rag-viewer mark.rag-cited")
    page.wait_for_timeout(300)
    box = page.evaluate(
        """() => { const box = document.querySelector('#rag-viewer .rag-viewer-text');
                   const head = document.querySelector('#rag-viewer .rag-viewer-head');
                   const mark = document.querySelector('#rag-viewer mark.rag-cited');
                   const b = box.getBoundingClientRect(), m = mark.getBoundingClientRect();
                   return {scrolled: box.scrollTop, headTop: head.getBoundingClientRect().top,
                           markTop: m.top - b.top, markBottom: b.bottom - m.bottom,
                           inWindow: m.top >= 0 && m.bottom <= innerHeight}; }"""
    )
    assert box["scrolled"] > 0  # the viewer's own text scrolled to the quote
    assert box["headTop"] >= 0  # the viewer's header is not scrolled away
    assert box["markTop"] > 20 and box["markBottom"] > 0  # clear of the top edge
    assert box["inWindow"]


def test_usable_at_400_px(server: Server, browser: Any, screens: Path) -> None:
    narrow = browser.new_context(viewport={"width": 400, "height": 800}, is_mobile=True)
    try:
        page = narrow.new_page()
        page.set_default_timeout(30_000)
        _open(page, server.url)
        page.wait_for_selector("#rag-sidebar:not(.open)")  # closed: it would cover the page
        _ask(page, "What is the Quds Force?")
        page.wait_for_selector("#rag-citations-panel .rag-card-cite")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        send = page.locator("#rag-send").bounding_box()
        question = page.locator("#rag-question textarea").bounding_box()
        assert send and question and send["x"] + send["width"] <= 400
        assert question["width"] >= 200  # the box is not squeezed by the button
        page.screenshot(path=str(screens / "layout-400px.png"), full_page=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screens / "layout-400px-top.png"))
        page.click("#rag-sidebar .toggle-button")
        page.wait_for_selector("#rag-conversations label:visible")
        page.screenshot(path=str(screens / "layout-400px-conversations.png"))
    finally:
        narrow.close()


def test_deep_link_keeps_the_page_header(server: Server, page: Any) -> None:
    text = server.services.store.statement(SWP).text or ""
    start = text.index("He became the leader")
    _open(page, f"{server.url}?statement={SWP}&start={start}&end={start + 40}")
    page.wait_for_selector("#rag-viewer mark.rag-cited")
    page.wait_for_timeout(300)
    state = page.evaluate(
        """() => { const h = [...document.querySelectorAll('h1')]
                     .find((e) => e.innerText.includes('Statements Q&A'));
                   const box = document.querySelector('#rag-viewer .rag-viewer-text');
                   const m = document.querySelector('#rag-viewer mark.rag-cited');
                   const b = box.getBoundingClientRect(), r = m.getBoundingClientRect();
                   return {header: h.getBoundingClientRect().top, scrolled: box.scrollTop,
                           inBox: r.top >= b.top && r.bottom <= b.bottom,
                           inWindow: r.top >= 0 && r.bottom <= innerHeight}; }"""
    )
    assert state["header"] >= 0  # the page's header is still on screen
    assert state["scrolled"] > 0 and state["inBox"] and state["inWindow"]


def test_only_admins_add_or_delete_statements(server: Server, browser: Any, tmp_path: Path) -> None:
    """With RAG_UI_ADMINS, other users see no delete or upload controls, and their
    requests are refused by the server (any user could delete any statement)."""
    logins = tmp_path / "logins"
    logins.write_text("alice:alice-secret-1\nbob:bob-secret-22\n")
    settings = server.services.settings.model_copy(
        update={"ui_auth": str(logins), "ui_admins": "alice"}
    )
    demo = build_app(server.services, settings)
    url = serve(demo, settings, port=free_port(), quiet=True)

    def sources_tab(user: str, password: str) -> tuple[Any, Any]:
        context, page = log_in(browser, url, user, password)
        page.click("button[role='tab']:has-text('Sources')")
        page.wait_for_function(
            "() => document.querySelector('#rag-sources').innerText.includes('Cycling Club')"
        )
        return context, page

    try:
        context, page = sources_tab("alice", "alice-secret-1")
        page.wait_for_selector("#rag-delete:visible")
        page.wait_for_selector("text=Ingest files")
        context.close()
        context, page = sources_tab("bob", "bob-secret-22")
        page.wait_for_timeout(1000)  # the load event has run
        assert page.locator("#rag-delete:visible").count() == 0
        assert page.get_by_text("Ingest files").count() == 0
        context.close()
        before = {s.statement_id for s in server.services.store.statements()}
        note = tmp_path / "note.txt"
        note.write_text("The chess club demands longer opening hours.\n")
        bob = Client(url, auth=("bob", "bob-secret-22"), verbose=False, download_files=False)
        report, *_ = bob.predict([handle_file(str(note))], "", "", "", "", api_name="/upload")
        assert "Only the administrators" in report
        assert {s.statement_id for s in server.services.store.statements()} == before
    finally:
        demo.close()


def test_sources_fit_400_px(server: Server, browser: Any, screens: Path) -> None:
    """On a phone the Sources tab shows the statements as cards, one per row, readable,
    and a card opens its statement (7 squeezed columns broke headers one letter per
    line, with about one row in view)."""
    narrow = browser.new_context(viewport={"width": 400, "height": 800}, is_mobile=True)
    try:
        page = narrow.new_page()
        page.set_default_timeout(30_000)
        _open(page, server.url)
        page.click("button[role='tab']:has-text('Sources')")
        page.wait_for_selector("#rag-source-cards .rag-source-card:has-text('Cycling Club')")
        page.screenshot(path=str(screens / "sources-400px.png"))
        assert page.locator("#rag-sources").is_hidden()
        cards = page.evaluate(
            """() => [...document.querySelectorAll('#rag-source-cards .rag-source-card')]
                 .map((c) => { const r = c.getBoundingClientRect();
                               return {width: r.width, height: r.height}; })"""
        )
        assert len(cards) >= 3
        assert all(c["width"] >= 300 and c["height"] < 200 for c in cards), cards
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        page.locator("#rag-source-cards .rag-source-card:has-text('Cycling Club')").click()
        page.wait_for_selector("#rag-viewer .rag-viewer:has-text('protected bike lanes')")
        assert page.locator("#rag-question textarea").is_visible()  # back on the Ask tab
    finally:
        narrow.close()
