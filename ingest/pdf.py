"""PDF statements: text extracted in a worker process, within a time and size budget.

pypdf can spend minutes on a small hostile file and expand 8 KB into megabytes of text, so
the pages are read in the worker of :mod:`ingest.isolation` (killed after ``seconds``),
which stops at ``max_pages`` pages or ``max_chars`` characters of text. Each limit reached
is one warning line; the text read up to it is kept.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from ingest.metadata import collapse
from rag.errors import IngestError
from rag.models import StatementMeta

logger = logging.getLogger(__name__)

PDF_SECONDS = 30.0  # per file
PDF_MAX_PAGES = 2000
PDF_MAX_CHARS = 2_000_000  # a book; a statement is rarely a hundredth of it
_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:/|of)\s*\d{1,4})?$", re.I
)
_BULLET = re.compile(r"^[•●▪◦‣∙·*-]\s")  # not – or —: a wrapped line may start with a dash
_PARAGRAPH_END = (".", "!", "?", ":", "”", '"', "’", "'")


def load_pdf(
    data: bytes,
    *,
    max_chars: int,
    max_pages: int = PDF_MAX_PAGES,
    seconds: float = PDF_SECONDS,
    where: str = "PDF",
) -> tuple[str, StatementMeta]:
    """Text (paragraphs joined by a blank line) and declared metadata of a PDF.

    Raises:
        IngestError: unreadable, password-protected, no text layer, or nothing read
            within ``seconds``.
    """
    from ingest import isolation

    if isolation.IN_WORKER:  # already inside the worker (an isolated upload): no worker of its own
        pages: list[str] = []
        info, stopped = extract_pages(pages.append, data, max_pages, max_chars, seconds)
    else:
        pages, info, stopped = isolation.extract_pdf(data, max_pages, max_chars, seconds)
    paragraphs = _pdf_paragraphs(pages)
    if not paragraphs:  # the skip line is the file's one line
        if stopped and "seconds" in stopped:
            raise IngestError(f"PDF: no text read within {seconds:g} seconds")
        raise IngestError("PDF has no text layer (scanned?)", hint="run OCR on it first")
    if stopped:
        logger.warning("%s: %s; the text before it is kept", where, stopped)
    title = info.get("title")
    if title and (
        title.startswith("Microsoft Word -") or title.endswith((".doc", ".docx", ".pdf"))
    ):
        title = None
    meta = StatementMeta(title=title, author=info.get("author"))
    return "\n\n".join(paragraphs), meta


def extract_pages(
    send_page: Callable[[str], object],
    data: bytes,
    max_pages: int,
    max_chars: int,
    seconds: float,
) -> tuple[dict[str, str], str | None]:
    """Hand each page's text to ``send_page`` (the worker streams them, so the pages read
    before a kill are kept); return the declared title/author and why it stopped early."""
    from pypdf import PdfReader

    started = time.monotonic()
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise IngestError("PDF is password-protected")
    total = len(reader.pages)
    chars, stopped = 0, None
    for number, page in enumerate(reader.pages, start=1):
        if number > max_pages:
            stopped = f"stopped at page {max_pages} of {total} (the page limit)"
            break
        text = page.extract_text() or ""
        if chars + len(text) > max_chars:
            send_page(text[: max_chars - chars])
            stopped = f"stopped at {max_chars:,} characters of text, on page {number} of {total}"
            break
        chars += len(text)
        send_page(text)
        if time.monotonic() - started > seconds:
            stopped = f"stopped after page {number} of {total}: over {seconds:g} seconds"
            break
    info = {field: value for field in ("title", "author") if (value := _info(reader, field))}
    return info, stopped


def _info(reader: Any, field: str) -> str | None:
    try:
        value = getattr(reader.metadata, field, None)
    except Exception:  # a damaged info dictionary is no reason to skip the text
        return None
    return (collapse(str(value))[:500] or None) if value else None


def _pdf_paragraphs(pages: list[str]) -> list[str]:
    """Rebuild paragraphs from the lines of each page (pypdf gives no paragraph breaks).

    A line closes its paragraph when a blank line or a bullet follows, or when it ends like a
    sentence and is clearly shorter than the page's longest line. A paragraph left open at the
    bottom of a page continues on the next.
    """
    paragraphs: list[str] = []
    current: list[str] = []  # the open paragraph's lines, joined once (no quadratic +=)
    for page in pages:
        lines = [collapse(line) for line in page.replace("\r", "\n").split("\n")]
        lines = [line for line in lines if not _PAGE_NUMBER.match(line)]
        longest = max(map(len, lines), default=0)
        for index, line in enumerate(lines):
            if line:
                _join_line(current, line)
            following = lines[index + 1] if index + 1 < len(lines) else None
            ends = line.endswith(_PARAGRAPH_END) and len(line) < 0.85 * longest
            if not line or ends or (following and _BULLET.match(following)):
                if current:
                    paragraphs.append(" ".join(current))
                current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _join_line(current: list[str], line: str) -> None:
    """Append ``line``; a word hyphenated across the line break is rejoined."""
    last = current[-1] if current else ""
    if len(last) > 1 and last[-1] == "-" and last[-2].isalpha() and line[0].islower():
        current[-1] = last[:-1] + line
    else:
        current.append(line)
