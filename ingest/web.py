"""Statements from web pages: a URL's identity, and reading it (fetch, then extract).

The one path for ``rag ingest URL``, the UI's Sources tab and its API: ``Ingestor.run``
hands each URL to a :class:`WebReader`, which fetches it within bounds (``ingest.fetch``,
robots.txt by ``ingest.robots``) and extracts it in the isolation worker: an HTML page's
main text by trafilatura (``ingest.webpage``), a PDF or .docx by its loader. The URL as
given (normalised) is the statement's identity, so a page ingested again is "unchanged"
or "updated"; ``source`` is the URL the text was read from (after redirects).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ingest.document import RawDocument, file_digest
from ingest.fetch import Fetched, Fetcher, FetchError, FetchLimits
from ingest.isolation import call_isolated
from ingest.metadata import safe_name
from ingest.pdf import PDF_MAX_CHARS, load_pdf
from ingest.robots import RobotsRules
from ingest.word import load_docx
from rag.models import StatementMeta
from rag.settings import Settings

logger = logging.getLogger(__name__)

WEB_SECONDS = 30.0  # extracting one page's text in the worker
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_HTML = frozenset({"text/html", "application/xhtml+xml"})
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

Report = Callable[[str], None]


def is_url(text: str) -> bool:
    """Looks like a URL (``scheme://…``) rather than a file path: it goes to the web reader,
    which refuses any scheme but http and https with a clear line."""
    return bool(_SCHEME.match(text.strip()))


def split_urls(paths: Sequence[Path | str]) -> tuple[list[str], list[Path]]:
    """The URLs (each page once, in order: ``…/a#top`` is ``…/a``) and the file paths
    among ``paths``."""
    urls: dict[str, str] = {}
    for p in paths:
        if isinstance(p, str) and is_url(p):
            urls.setdefault(url_key(p), p.strip())
    files = [Path(p) for p in paths if not (isinstance(p, str) and is_url(p))]
    return list(urls.values()), files


def url_key(url: str) -> str:
    """The statement's identity: scheme and host lowercased, default port, fragment and
    surrounding spaces dropped (``HTTPS://Example.org:443/a#top`` -> ``https://example.org/a``)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def url_statement_id(url: str) -> str:
    """A readable, stable id: the host and the page's name, and a hash of the whole URL
    (``chronicle.example-greens-pledge-3fa2b1``)."""
    key = url_key(url)
    parts = urlsplit(key)
    host = (parts.hostname or "page").removeprefix("www.")
    name = [s for s in parts.path.split("/") if s][-1:] or [""]
    stem = re.sub(r"\.(html?|php|aspx?)$", "", name[0], flags=re.I)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{host}-{stem}").strip("-.")
    digest = hashlib.sha256(key.encode()).hexdigest()[:6]
    return f"{slug[:72]}-{digest}"


def domain(source: str | None) -> str | None:
    """The host of a URL source (``www.`` dropped), or ``None`` for a file name."""
    if not source or not is_url(source):
        return None
    host = urlsplit(source).hostname
    return host.removeprefix("www.") if host else None


class WebReader:
    """Fetches and extracts pages for one ingest run (robots.txt read once per site).

    ``report`` gets one progress line per URL (fetched, or why not)."""

    def __init__(
        self,
        settings: Settings,
        report: Report | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.fetcher = fetcher or Fetcher(FetchLimits.from_settings(settings))
        self.robots = RobotsRules(self.fetcher)
        self.report = report

    def close(self) -> None:
        self.fetcher.close()

    def read(self, url: str) -> RawDocument:
        """The page's text and declared metadata, ``source`` set to where it was read.

        Raises:
            IngestError: one line: refused, unreachable, HTTP error, too slow or large,
                not a page, no main text.
        """
        shown = safe_name(url.strip())
        try:
            fetched = self.fetcher.get(url.strip(), allowed=self.robots.check)
            raw = self._extract(fetched)
        except FetchError as exc:
            self._say(f"could not fetch {shown}: {exc}")
            raise
        except Exception as exc:
            self._say(f"could not read {shown}: {exc}")
            raise
        size = f"{len(fetched.data) / 1024:,.0f} KB"
        self._say(f"fetched {shown} ({size} in {fetched.seconds:.2f} s)")
        meta = raw.meta.model_copy(update={"source": fetched.final_url})
        return RawDocument(
            text=raw.text, meta=meta, markup=raw.markup, digest=file_digest(fetched.data)
        )

    def _say(self, line: str) -> None:
        logger.info("%s", line)
        if self.report is not None:
            self.report(line)

    def _extract(self, fetched: Fetched) -> RawDocument:
        kind, data, where = fetched.content_type, fetched.data, fetched.final_url
        if not data.strip():
            raise FetchError("the page is empty")
        if kind in _HTML or (not kind and data.lstrip()[:1] == b"<"):
            return call_isolated(  # type: ignore[no-any-return]
                "web", (data, fetched.final_url, fetched.charset), WEB_SECONDS
            )
        if kind == "application/pdf":
            text, meta = load_pdf(data, max_chars=PDF_MAX_CHARS, where=where)
        elif kind == _DOCX:
            text, meta = load_docx(data, max_chars=PDF_MAX_CHARS, where=where)
        elif kind == "text/plain":
            text, meta = _decode(data, fetched.charset), StatementMeta()
        else:
            raise FetchError(f"not a web page, PDF or Word file ({kind or 'no content type'})")
        return RawDocument(text=text, meta=meta, markup="plain")


def _decode(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")
