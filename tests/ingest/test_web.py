"""Web pages by URL, against a real HTTP server on 127.0.0.1 (``web_server.py``): bounded
fetching (SSRF rules on every hop, robots.txt, redirects, size and time limits), trafilatura's
main text of saved news and party pages, and the ingest of URLs into a real store."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.fetch import Fetcher, FetchError, FetchLimits, pick_address
from ingest.pipeline import Ingestor, IngestReport
from ingest.urls import ingest_urls, parse_url_lines, read_url_list
from ingest.web import WebReader, domain, is_url, split_urls, url_key, url_statement_id
from ingest.webpage import extract_page
from rag.errors import IngestError
from rag.models import StatementMeta
from rag.service import Services
from rag.settings import Settings
from tests.ingest.web_server import PAGES, Site, default_site, self_signed, serve

EXPECTED = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(default_site()) as running:
        yield running


def web_settings(home: Path, **fields: object) -> Settings:
    return Settings(home=home, fetch_allow_private=True, **fields)  # type: ignore[arg-type]


def reader(tmp_path: Path, **fields: object) -> WebReader:
    return WebReader(web_settings(tmp_path / "home", **fields))


def flat(text: str) -> str:
    return " ".join(text.split())


# -- what a URL is -------------------------------------------------------------------------


def test_urls_are_told_from_paths_and_keyed_stably() -> None:
    assert is_url("https://example.org/a") and is_url(" http://x/ ") and is_url("file:///etc")
    assert not is_url("statements/a.txt") and not is_url("C:\\docs\\a.docx")
    assert url_key("HTTPS://Example.ORG:443/a/b?x=1#top") == "https://example.org/a/b?x=1"
    assert url_key("http://example.org") == "http://example.org/"
    assert url_key("http://example.org:8080/a") == "http://example.org:8080/a"
    sid = url_statement_id("https://www.chronicle.example/politics/greens-pledge.html")
    assert sid.startswith("chronicle.example-greens-pledge-") and len(sid) <= 80
    assert sid == url_statement_id("https://WWW.chronicle.example/politics/greens-pledge.html#c")
    assert sid != url_statement_id("https://www.chronicle.example/other/greens-pledge.html")
    assert domain("https://www.chronicle.example/a") == "chronicle.example"
    assert domain("statement.txt") is None
    urls, files = split_urls(["https://a.example/x#top", "a.txt", "https://A.example/x", "b/"])
    assert urls == ["https://a.example/x#top"] and files == [Path("a.txt"), Path("b/")]


def test_url_lists_skip_comments_and_refuse_non_urls(tmp_path: Path) -> None:
    lines = [
        "# party pages",
        "",
        "https://a.example/1",
        "  https://a.example/2  ",
        "https://a.example/1",
    ]
    assert parse_url_lines(lines) == ["https://a.example/1", "https://a.example/2"]
    with pytest.raises(IngestError, match=r"line 2 is not a URL: 'statements/a.txt'"):
        parse_url_lines(["https://a.example/1", "statements/a.txt"])
    empty = tmp_path / "urls.txt"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(IngestError, match="no URLs in"):
        read_url_list(empty)
    with pytest.raises(IngestError, match="cannot read the URL list"):
        read_url_list(tmp_path / "missing.txt")


# -- SSRF: what may be fetched -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https URLs are fetched, not file:"),
        ("ftp://example.org/a", "not ftp:"),
        ("gopher://example.org/", "not gopher:"),
        ("http://user:secret@example.org/", "user name or password"),
        ("http://example.org:99999/", "not a valid URL"),
        ("http:///nohost", "no host name"),
    ],
)
def test_only_plain_http_urls_are_fetched(tmp_path: Path, url: str, reason: str) -> None:
    with pytest.raises(FetchError, match=reason):
        reader(tmp_path).read(url)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "224.0.0.1"],
)  # fmt: skip
def test_private_and_local_addresses_are_refused(address: str) -> None:
    with pytest.raises(FetchError, match=r"a private or local address.*RAG_FETCH_ALLOW_PRIVATE"):
        pick_address("host.test", 80, False, lambda host, port: [address])
    allowed = pick_address("host.test", 80, True, lambda host, port: [address])
    assert allowed == ipaddress.ip_address(address)


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    public = pick_address("site.test", 443, False, lambda host, port: ["93.184.215.14"])
    assert public == ipaddress.ip_address("93.184.215.14")
    both = lambda host, port: ["93.184.215.14", "127.0.0.1"]  # noqa: E731 (a rebinding name)
    with pytest.raises(FetchError, match=r"site.test resolves to 127.0.0.1"):
        pick_address("site.test", 443, False, both)


def test_loopback_names_and_literals_are_refused_by_default(site: Site, tmp_path: Path) -> None:
    closed = WebReader(Settings(home=tmp_path / "home"))  # RAG_FETCH_ALLOW_PRIVATE unset
    for url in (
        site.url("/news_article"),
        site.url("/news_article").replace("127.0.0.1", "localhost"),
    ):
        with pytest.raises(FetchError, match="private or local address"):
            closed.read(url)
    assert site.requests == []  # refused before any connection


def test_every_redirect_hop_is_checked(site: Site) -> None:
    """127.0.0.1 plays the public internet here; a redirect to 127.0.0.2 (another address
    of this machine) is refused before it is requested."""
    site.redirects["/to-internal"] = site.url("/news_article").replace("127.0.0.1", "127.0.0.2")
    fetcher = Fetcher(FetchLimits(), is_public=lambda address: str(address) == "127.0.0.1")
    assert fetcher.get(site.url("/news_article")).data.startswith(b"<!DOCTYPE html>")
    with pytest.raises(FetchError, match=r"127.0.0.2 is a private or local address"):
        fetcher.get(site.url("/to-internal"))


def test_the_checked_address_is_the_one_connected_to(site: Site) -> None:
    """A name is resolved once; the connection goes to that address with the name as Host."""
    port = site.base.rsplit(":", 1)[1]
    fetcher = Fetcher(FetchLimits(allow_private=True), resolve=lambda host, p: ["127.0.0.1"])
    fetched = fetcher.get(f"http://statements.test:{port}/press_release")
    assert fetched.final_url == f"http://statements.test:{port}/press_release"
    assert b"Millbrook" in fetched.data


def test_https_to_the_checked_address_still_verifies_the_name(tmp_path: Path) -> None:
    """Connecting to the pinned address keeps TLS honest: the certificate is checked for
    the name in the URL (sent as SNI), so a server with another name's certificate fails."""
    server_tls, trusted = self_signed(tmp_path, "statements.test")
    with serve(default_site(), tls=server_tls) as secure:
        port = secure.base.rsplit(":", 1)[1]
        fetcher = Fetcher(
            FetchLimits(allow_private=True),
            resolve=lambda host, p: ["127.0.0.1"],
            verify=trusted,
        )
        page = fetcher.get(f"https://statements.test:{port}/news_article")
        assert b"40,000 council homes" in page.data
        with pytest.raises(FetchError, match=r"cannot fetch from other.test: .*certificate"):
            fetcher.get(f"https://other.test:{port}/news_article")


# -- bounded fetching ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing", "HTTP 404 Not Found"),
        ("/private/memo", "robots.txt of 127.0.0.1:\\d+ does not allow fetching /private/memo"),
        ("/to-private", "robots.txt .* does not allow fetching /private/memo"),
        ("/loop", "more than 5 redirects"),
        ("/to-file", "only http and https URLs are fetched, not file:"),
        ("/image", r"not a web page, PDF or Word file \(image/png\)"),
        ("/huge", "the page is over the 1 MB limit"),
        ("/slow", "the page did not arrive within the time limit"),
    ],
)
def test_a_failed_url_is_one_line_saying_why(
    site: Site, tmp_path: Path, path: str, reason: str
) -> None:
    lines: list[str] = []
    web = WebReader(web_settings(tmp_path, fetch_max_mb=1, fetch_timeout=2), report=lines.append)
    with pytest.raises(IngestError, match=reason) as caught:
        web.read(site.url(path))
    assert "\n" not in str(caught.value)
    assert lines == [f"could not fetch {site.url(path)}: {caught.value}"]


def test_a_redirect_is_followed_and_the_source_is_where_the_text_was(
    site: Site, tmp_path: Path
) -> None:
    lines: list[str] = []
    raw = WebReader(web_settings(tmp_path), report=lines.append).read(site.url("/old-news"))
    assert raw.meta.source == site.url("/news_article")
    assert "40,000 council homes" in raw.text
    assert lines[0].startswith(f"fetched {site.url('/old-news')} (10 KB in ")


def test_robots_txt_is_read_once_per_site(site: Site, tmp_path: Path) -> None:
    web = reader(tmp_path)
    web.read(site.url("/news_article"))
    web.read(site.url("/press_release"))
    assert site.requests.count("/robots.txt") == 1


def test_robots_txt_missing_allows_all_and_a_server_error_fetches_nothing(
    site: Site, tmp_path: Path
) -> None:
    site.pages.pop("/robots.txt")  # 404: no rules
    assert "40,000" in reader(tmp_path).read(site.url("/news_article")).text
    site.statuses["/robots.txt"] = 503
    with pytest.raises(FetchError, match=r"robots.txt of .* answered HTTP 503.*try again later"):
        reader(tmp_path).read(site.url("/news_article"))
    assert site.requests.count("/news_article") == 1


# -- the main text ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_pages_keep_the_main_text_and_drop_the_chrome(name: str) -> None:
    expected = EXPECTED[name]
    raw = extract_page((PAGES / name).read_bytes(), "https://site.example/page", None)
    text = flat(raw.text)
    missing = [s for s in expected["main"] if flat(s) not in text]
    leaked = [b for b in expected["boilerplate"] if b in text]
    assert missing == [] and leaked == []
    assert (raw.meta.title, raw.meta.author, raw.meta.date) == (
        expected["title"],
        expected["author"],
        expected["date"],
    )
    assert "\n\n" in raw.text and all(p == flat(p) for p in raw.text.split("\n\n"))


def test_a_short_statement_page_keeps_its_text_without_the_menu() -> None:
    html = (
        b"<html><head><title>On the library</title></head><body><nav><a href='/'>Home</a> "
        b"<a href='/about'>About</a></nav><article><p>We oppose the closure of the library."
        b"</p></article><footer>(c) 2020 Party</footer></body></html>"
    )
    raw = extract_page(html, "https://party.example/library", None)
    assert raw.text == "We oppose the closure of the library."
    assert raw.meta.organization is None  # no declared site name: not the host name


def test_a_page_without_text_is_one_line() -> None:
    with pytest.raises(IngestError, match="no main text found on the page"):
        extract_page(
            b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "https://x.example/", None
        )


# -- ingest: one path for every face ---------------------------------------------------------


def ingest(services: Services, *targets: Path | str, **kwargs: object) -> IngestReport:
    report = Ingestor(services.settings, services.store, services.embedder).run(
        list(targets),
        **kwargs,  # type: ignore[arg-type]
    )
    services.catalog.invalidate()
    return report


@pytest.fixture
def web_services(services: Services) -> Services:
    services.settings.fetch_allow_private = True
    services.settings.fetch_timeout = 3
    return services


def test_urls_are_ingested_and_a_failed_one_does_not_stop_the_rest(
    web_services: Services, site: Site, tmp_path: Path
) -> None:
    statement_file = tmp_path / "local.txt"
    statement_file.write_text("A local statement on buses. Fares must fall.", encoding="utf-8")
    urls = [site.url(p) for p in ("/news_article", "/missing", "/press_release", "/private/memo")]
    report = ingest(web_services, statement_file, *urls)
    status = {o.path: (o.status, o.reason) for o in report.outcomes}
    assert status[urls[0]][0] == status[urls[2]][0] == status[str(statement_file)][0] == "new"
    assert status[urls[1]] == ("skipped", "HTTP 404 Not Found")
    assert status[urls[3]][0] == "skipped" and "robots.txt" in str(status[urls[3]][1])
    statements = {s.source: s for s in web_services.store.statements()}
    news = web_services.store.statement(statements[urls[0]].statement_id)
    assert (news.title, news.author, news.date, news.organization) == (
        "Greens pledge 40,000 council homes in housing statement",
        "Priya Natarajan",
        "2023-03-14",
        "The Riverside Chronicle",
    )
    assert news.path == url_key(urls[0])
    assert "Accept all cookies" not in (news.text or "")
    for passage in web_services.store.statement_passages(news.statement_id):
        assert (news.text or "")[passage.start : passage.end] == passage.text
        for start, end in passage.sentences:
            assert passage.start <= start < end <= passage.end


def test_the_url_is_the_identity_unchanged_then_updated(web_services: Services, site: Site) -> None:
    url = site.url("/changing")
    first = ingest(web_services, url).outcomes[0]
    assert first.status == "new"
    assert ingest(web_services, url).outcomes[0].status == "unchanged"
    site.pages["/changing"] = (
        "text/html",
        b"<html><body><article><p>We will build twenty thousand homes by 2030.</p>"
        b"</article></body></html>",
    )
    again = ingest(web_services, url, prune=True).outcomes
    assert [(o.status, o.statement_id) for o in again] == [("updated", first.statement_id)]
    text = web_services.store.statement(first.statement_id).text
    assert text == "We will build twenty thousand homes by 2030."


def test_the_ui_and_api_path_gives_lines_per_url(web_services: Services, site: Site) -> None:
    progress: list[str] = []
    text = f"# two pages\n{site.url('/press_release')}\n\n{site.url('/missing')}\n"
    lines = ingest_urls(
        web_services.settings,
        web_services.store,
        web_services.embedder,
        text,
        StatementMeta(organization="Northern Workers Alliance (override)"),
        report=progress.append,
    )
    assert [status for status, _ in lines] == ["new", "skipped"]
    assert lines[1][1] == f"{site.url('/missing')}: HTTP 404 Not Found"
    assert len(progress) == 2 and progress[0].startswith("fetched ")
    (statement,) = web_services.store.statements()
    assert statement.organization == "Northern Workers Alliance (override)"
    assert statement.author == "Daniel Reyes"


def test_rag_ingest_takes_urls_and_a_url_list(site: Site, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ui.cli import app

    listing = tmp_path / "urls.txt"
    listing.write_text(f"# statements\n{site.url('/missing')}\n", encoding="utf-8")
    env = {"RAG_HOME": str(tmp_path / "home"), "RAG_FETCH_ALLOW_PRIVATE": "true"}
    result = CliRunner().invoke(
        app, ["ingest", site.url("/press_release"), "--urls", str(listing)], env=env
    )
    assert result.exit_code == 3, result.output  # one URL was skipped
    err = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith("Loading weights")  # the model's own bar
    ]
    assert err[0].startswith(f"fetched {site.url('/press_release')} (")
    assert err[1] == f"could not fetch {site.url('/missing')}: HTTP 404 Not Found"
    assert err[2] == f"skipped {site.url('/missing')}: HTTP 404 Not Found"
    assert result.stdout.splitlines()[0].startswith("new       127.0.0.1-press_release-")
    again = CliRunner().invoke(app, ["ingest", site.url("/press_release")], env=env)
    assert again.exit_code == 0 and again.stdout.startswith("unchanged ")
    empty = CliRunner().invoke(app, ["ingest", "--urls", str(tmp_path / "none.txt")], env=env)
    assert empty.exit_code == 1 and "cannot read the URL list" in empty.stderr
