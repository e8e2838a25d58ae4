"""The MCP tools, through the ``mcp`` SDK's own client against the running app (``/mcp`` on
the UI's port): tools listed with their schemas, ``ask`` quotes that are verbatim spans of
the stored text, one-line tool errors, the UI's login enforced, off unless asked for. A web
page added through the Sources tab's API (``/ingest_urls``) is then answerable over MCP."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client as GradioClient
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from ingest.web import domain
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.service import Services, build_services
from rag.settings import Settings
from tests.ingest.web_server import Site, default_site
from tests.ingest.web_server import serve as serve_site
from ui.web.app import build_app, prepare, serve
from ui.web.sources import SourceHandlers

pytestmark = pytest.mark.slow

SWP = "004_82099dca89624f38"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "0"},
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    home: Path, embedder: SentenceTransformerEmbedder, mcp: bool, **fields: Any
) -> tuple[Any, Services, str]:
    settings = Settings(home=home, **fields)
    services = build_services(settings, embedder=embedder)
    prepare(services, ingest_if_empty=True)
    demo = build_app(services, settings)
    url = serve(demo, settings, port=free_port(), mcp=services if mcp else None)
    return demo, services, url.rstrip("/")


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[Services, str]]:
    home = tmp_path_factory.mktemp("mcp-home")
    demo, services, url = start(home, embedder, mcp=True, fetch_allow_private=True)
    try:
        yield services, url
    finally:
        demo.close()


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site(default_site()) as running:
        yield running


def call(url: str, *steps: tuple[str, dict[str, Any]], **client: Any) -> list[Any]:
    """Connect with the SDK's client, run ``(tool, arguments)`` calls (``""``: list the
    tools), return their results."""

    async def run() -> list[Any]:
        async with Client(url, **client) as session:
            results: list[Any] = []
            for name, arguments in steps:
                if name:
                    results.append(await session.call_tool(name, arguments))
                else:
                    results.append(await session.list_tools())
            return results

    return asyncio.run(run())


def check_verbatim(services: Services, data: dict[str, Any]) -> None:
    """Each citation is the stored statement's text[start:end] (what ``rag show`` prints)."""
    for citation in data["citations"]:
        text = services.store.statement(citation["statement_id"]).text or ""
        assert text[citation["start"] : citation["end"]] == citation["quote"]


def test_the_tools_are_listed_with_their_schemas(app: tuple[Services, str]) -> None:
    (listing,) = call(app[1] + "/mcp", ("", {}))
    tools = {tool.name: tool for tool in listing.tools}
    expected = {"ask", "sources", "show", "positions", "timeline"}
    assert set(tools) == expected
    ask = tools["ask"]
    assert ask.input_schema["required"] == ["question"]
    properties = ask.input_schema["properties"]
    assert {"statement_ids", "organization", "author", "since", "until", "compare"} <= set(
        properties
    )
    assert "YYYY" in properties["since"]["description"]
    assert ask.output_schema is not None
    assert set(ask.output_schema["required"]) == {"question", "abstained", "answer", "citations"}


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # legacy: the 2025 handshake of most clients
def test_ask_returns_verbatim_quotes(app: tuple[Services, str], mode: str) -> None:
    services, url = app
    (result,) = call(url + "/mcp", ("ask", {"question": "What is the Quds Force?"}), mode=mode)
    assert not result.is_error
    data = result.structured_content
    assert data is not None and not data["abstained"] and data["citations"]
    assert data["citations"][0]["statement_id"] == SWP
    check_verbatim(services, data)
    direct = services.answerer.answer("What is the Quds Force?").to_json_dict()
    assert data == direct  # the same contract as `rag ask --json` and the web API


def test_filters_abstentions_and_errors(app: tuple[Services, str]) -> None:
    services, url = app
    filtered, off_topic, unknown, missing = call(
        url + "/mcp",
        ("ask", {"question": "What do they demand?", "organization": "Socialist Workers Party"}),
        ("ask", {"question": "What is the recipe for sourdough bread?"}),
        ("ask", {"question": "Quds Force", "statement_ids": ["no-such-statement"]}),
        ("show", {"statement_id": "no-such-statement"}),
    )
    assert {c["organization"] for c in filtered.structured_content["citations"]} == {
        "Socialist Workers Party"
    }
    check_verbatim(services, filtered.structured_content)
    assert off_topic.structured_content["abstained"] is True
    assert off_topic.structured_content["citations"] == []
    for failed in (unknown, missing):
        assert failed.is_error
        (content,) = failed.content
        assert "no-such-statement" in content.text and "\n" not in content.text


def test_sources_lists_searches_and_show_gives_the_text(app: tuple[Services, str]) -> None:
    services, url = app
    everything, searched, shown, initials = call(
        url + "/mcp",
        ("sources", {}),
        ("sources", {"query": "craine workers", "since": "2019"}),
        ("show", {"statement_id": SWP}),
        ("sources", {"organization": "SWP", "author": "craine", "since": "2020-01"}),
    )
    assert everything.structured_content["total"] == len(services.store.statements())
    (only,) = searched.structured_content["statements"]
    assert only["statement_id"] == SWP and only["author"] == "Naomi Craine"
    assert "path" not in only and "content_hash" not in only  # no local file paths
    assert shown.structured_content["text"] == services.store.statement(SWP).text
    # the filters match as ask's do: initials, a surname, a month within the statement's date
    assert [s["statement_id"] for s in initials.structured_content["statements"]] == [SWP]


def test_positions_and_timeline(app: tuple[Services, str]) -> None:
    services, url = app
    positions, timeline = call(
        url + "/mcp",
        ("positions", {"question": "the war in Iraq"}),
        ("timeline", {"question": "the war in Iraq", "speaker": "Socialist Equality Party"}),
    )
    for result in (positions, timeline):
        assert not result.is_error
        check_verbatim(services, result.structured_content)
    rows = positions.structured_content["positions"]
    assert rows and all(q["speaker"] == r["speaker"] for r in rows for q in r["quotes"])
    entries = timeline.structured_content["timeline"]
    assert [e["date"] for e in entries] == ["2004"]


def test_a_web_page_added_through_the_api_is_answered_over_mcp(
    app: tuple[Services, str], site: Site
) -> None:
    services, url = app
    client = GradioClient(url, verbose=False, download_files=False)
    pages = f"{site.url('/press_release')}\n{site.url('/missing')}"
    report, *_ = client.predict(pages, "", "", "", "", api_name="/ingest_urls")
    assert "press_release" in report and "HTTP 404 Not Found" in report
    rows = SourceHandlers(services, services.settings).sources_rows()
    page = next(row for row in rows if row[0].startswith("127.0.0.1-press_release-"))
    assert page[5] == domain(site.url("/press_release")) == "127.0.0.1"  # the site, not the URL
    (result,) = call(
        url + "/mcp", ("ask", {"question": "What happens to the £48 million of public money?"})
    )
    data = result.structured_content
    assert not data["abstained"]
    assert data["citations"][0]["source"] == site.url("/press_release")
    check_verbatim(services, data)


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_the_ui_login_guards_mcp(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    demo, _, url = start(tmp_path / "home", embedder, mcp=True, ui_auth="alice:long-secret")
    try:
        headers = {"Accept": "application/json, text/event-stream"}
        for extra in ({}, _basic("alice", "wrong"), {"Authorization": "Bearer alice:long-secret"}):
            refused = httpx.post(url + "/mcp", json=INITIALIZE, headers={**headers, **extra})
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Basic")
        transport = streamable_http_client(
            url + "/mcp", http_client=create_mcp_http_client(headers=_basic("alice", "long-secret"))
        )
        (listing,) = call(transport, ("", {}))  # type: ignore[arg-type]
        assert "ask" in {tool.name for tool in listing.tools}
    finally:
        demo.close()


def test_mcp_is_off_unless_asked_for(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    demo, _, url = start(tmp_path / "home", embedder, mcp=False)
    try:
        response = httpx.post(
            url + "/mcp",
            json=INITIALIZE,
            headers={"Accept": "application/json, text/event-stream"},
        )
        assert response.status_code in (404, 405)
    finally:
        demo.close()
