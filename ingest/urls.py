"""URLs handed in by a user: lists of them (a file, a text box: one per line), and their
ingest for the app's Sources tab and API. The CLI runs ``Ingestor`` itself; both reach the
same ``Ingestor.run`` -> ``WebReader`` path, so a page reads the same from every face."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from ingest.pipeline import Ingestor
from ingest.web import WebReader, is_url
from rag.dates import is_valid_date
from rag.encoders.embeddings import PassageEmbedder
from rag.errors import IngestError, RagError
from rag.models import StatementMeta
from rag.settings import Settings
from rag.store.chroma import ChromaStore

logger = logging.getLogger(__name__)

MAX_URLS = 500  # in one list: more is a crawl, not a list of statements


def parse_url_lines(lines: Iterable[str]) -> list[str]:
    """The URLs of a list: one per line, blank lines and ``#`` comments skipped, each once.

    Raises:
        IngestError: a line that is not a URL, or more than ``MAX_URLS`` of them.
    """
    urls: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not is_url(text):
            shown = text if len(text) <= 60 else text[:60] + "…"
            raise IngestError(
                f"line {number} is not a URL: {shown!r}", hint="write one https://… per line"
            )
        urls.append(text)
    urls = list(dict.fromkeys(urls))
    if len(urls) > MAX_URLS:
        raise IngestError(f"{len(urls)} URLs in one list, over {MAX_URLS}")
    return urls


def read_url_list(source: Path | TextIO) -> list[str]:
    """The URLs of a file (or of stdin).

    Raises:
        IngestError: unreadable, empty, or a line that is not a URL.
    """
    name = str(source) if isinstance(source, Path) else "stdin"
    try:
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"cannot read the URL list {name}: {exc}") from None
    try:
        urls = parse_url_lines(text.splitlines())
    except IngestError as exc:
        raise IngestError(f"{name}: {exc.message}", hint=exc.hint) from None
    if not urls:
        raise IngestError(f"no URLs in {name}", hint="write one https://… per line")
    return urls


def ingest_urls(
    settings: Settings,
    store: ChromaStore,
    embedder: PassageEmbedder,
    text: str,
    meta: StatementMeta,
    report: Callable[[str], None] | None = None,
    wait: float = 30.0,
) -> list[tuple[str, str]]:
    """Fetch and ingest the URLs in ``text`` (one per line); ``(status, message)`` per URL.

    ``report`` gets a progress line per URL as it is fetched.

    Raises:
        RagError: no URLs, a line that is not one, or an invalid date.
    """
    urls = parse_url_lines(text.splitlines())
    if not urls:
        raise RagError("Enter one or more URLs first (one per line)")
    if meta.date and not is_valid_date(meta.date):
        raise RagError(f"Not a date: {meta.date!r}", hint="use YYYY, YYYY-MM or YYYY-MM-DD")
    web = WebReader(settings, report=report)
    try:
        ingestor = Ingestor(settings, store, embedder, isolate=True, web=web)
        targets: list[Path | str] = list(urls)
        result = ingestor.run(targets, meta, wait=wait)
    finally:
        web.close()
    logger.info("web pages: %s", result.summary())
    lines: list[tuple[str, str]] = []
    for o in result.outcomes:
        if o.status == "skipped":
            lines.append(("skipped", f"{o.path}: {o.reason}"))
        else:
            lines.append((o.status, f"{o.path} → {o.statement_id} ({o.passages} passages)"))
    return lines
