"""The main text of a fetched web page, and what it declares about itself (trafilatura).

Runs in the isolation worker (``ingest.isolation``): a hostile page cannot stall the app.
trafilatura drops menus, headers, footers, share bars, related links and comments; each of
its blocks (paragraph, heading, list item, quote, table cell) becomes one paragraph.
Metadata is only what the page states (title, author, date, site name); a date is kept
only when the page declares one, never guessed from its text.
"""

from __future__ import annotations

import logging
from typing import Any

from ingest.document import RawDocument
from ingest.metadata import collapse
from rag.errors import IngestError
from rag.models import StatementMeta

logger = logging.getLogger(__name__)

# trafilatura's blocks: each is a paragraph unless it holds other blocks
_BLOCKS = frozenset({"p", "head", "item", "cell", "quote", "list", "table", "row", "div", "code"})
_SKIPPED = frozenset({"graphic", "note", "fw"})
# A statement can be one short paragraph: below trafilatura's default of 250 characters it
# would fall back to a rougher extraction that keeps menu items.
_MIN_EXTRACTED = "25"


def _config() -> Any:
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", _MIN_EXTRACTED)
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # the worker's budget bounds it
    config.set("DEFAULT", "EXTENSIVE_DATE_SEARCH", "off")  # declared dates only
    return config


def extract_page(data: bytes, url: str, charset: str | None) -> RawDocument:
    """Paragraphs (joined by a blank line) and declared metadata of an HTML page.

    Raises:
        IngestError: no main text found.
    """
    import trafilatura

    html: str | bytes = data
    if charset:
        try:
            html = data.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name: trafilatura guesses from the bytes
            html = data
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        deduplicate=False,
        config=_config(),
    )
    body = getattr(document, "body", None)
    paragraphs = _paragraphs(body) if body is not None else []
    if not paragraphs or _only_links(html, paragraphs):
        raise IngestError("no main text found on the page")
    meta = StatementMeta(
        organization=_declared(document, "sitename", url),
        author=_declared(document, "author", url),
        date=getattr(document, "date", None) or None,
        title=_declared(document, "title", url),
    )
    return RawDocument(text="\n\n".join(paragraphs), meta=meta, markup="plain")


def _only_links(html: str | bytes, paragraphs: list[str]) -> bool:
    """All that was found is the text of the page's links: a menu (trafilatura falls back
    to the whole page when it finds no article, e.g. on a page built by JavaScript)."""
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return False
    links = " ".join(collapse(a.text_content()) for a in tree.iter("a"))
    return all(paragraph in links for paragraph in paragraphs)


def _declared(document: Any, field: str, url: str) -> str | None:
    value = collapse(str(getattr(document, field, None) or ""))
    if not value:
        return None
    if field == "sitename" and value.lower() in url.lower():
        return None  # trafilatura's fallback is the host name: not a declared site name
    return value


def _paragraphs(body: Any) -> list[str]:
    """Each run of text between block boundaries is one paragraph; inline pieces (links,
    emphasis) are joined as they are, a line break is a space."""
    from lxml import etree

    paragraphs: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if text := collapse("".join(run)):
            paragraphs.append(text)
        run.clear()

    walk = etree.iterwalk(body, events=("start", "end"))
    for event, element in walk:  # iterative: no recursion on deeply nested pages
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _BLOCKS:
                flush()
            if tag in _SKIPPED:
                walk.skip_subtree()
            elif tag == "lb":
                run.append(" ")
            elif tag:
                run.append(element.text or "")
        else:
            if tag in _BLOCKS:
                flush()
            run.append(element.tail or "")
    flush()
    return paragraphs
