"""Markup pieces shared by the chat messages and the panels: escaping, paragraphs of a
statement's clean text, deep links and citation markers.

Every piece of statement text, metadata and user input passes through :func:`esc`
before it is placed in markup. Markers that the page's script acts on carry only a
statement id and two integers (``data-sid``, ``data-start``, ``data-end``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from rag.models import Citation, Statement

PARAGRAPH_BREAK = "\n\n"
CONTEXT_MAX_CHARS = 1200

# End of a sentence: terminal punctuation, optional closing quotes/brackets, whitespace.
_SENTENCE_END = re.compile(r"[.!?…][\"”’')\]]*\s+")


def esc(value: object) -> str:
    """Text made safe for element content and quoted attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def one_line(markup: str) -> str:
    """No blank line may end the Markdown raw-HTML block early."""
    return markup.replace("\r", " ").replace("\n", " ")


# -- paragraphs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based, as in Citation.paragraph
    start: int
    end: int


def paragraphs(text: str) -> list[Paragraph]:
    """Paragraph spans of a statement's clean text (paragraphs are joined by a blank line)."""
    result: list[Paragraph] = []
    start = 0
    number = 1
    while True:
        end = text.find(PARAGRAPH_BREAK, start)
        if end == -1:
            result.append(Paragraph(number, start, len(text)))
            return result
        result.append(Paragraph(number, start, end))
        start = end + len(PARAGRAPH_BREAK)
        number += 1


def paragraph_at(text: str, position: int) -> Paragraph:
    """The paragraph holding ``position`` (clamped to the text)."""
    position = max(0, min(position, len(text)))
    found = paragraphs(text)
    for paragraph in found:
        if position <= paragraph.end:
            return paragraph
    return found[-1]


def context_window(text: str, paragraph: Paragraph, start: int, end: int) -> tuple[int, int]:
    """What to show around a quote: its whole paragraph, or for a very long paragraph
    the sentence before, the quote and the sentence after."""
    if paragraph.end - paragraph.start <= CONTEXT_MAX_CHARS:
        return paragraph.start, paragraph.end
    # Where sentences start inside the paragraph.
    starts = [paragraph.start]
    starts += [m.end() for m in _SENTENCE_END.finditer(text, paragraph.start, paragraph.end)]
    before = [p for p in starts if p <= start]
    left = before[-2] if len(before) >= 2 else paragraph.start
    after = [p for p in starts if p > end]
    right = after[1] if len(after) >= 2 else paragraph.end
    return left, min(right, paragraph.end)


# -- small pieces -------------------------------------------------------------------


def cite_attrs(statement_id: str, start: int, end: int) -> str:
    return f'data-sid="{esc(statement_id)}" data-start="{int(start)}" data-end="{int(end)}"'


def deep_link(statement_id: str, start: int | None = None, end: int | None = None) -> str:
    """A relative link that opens the viewer on a passage when the page loads."""
    query: dict[str, object] = {"statement": statement_id}
    if start is not None and end is not None:
        query.update(start=int(start), end=int(end))
    return "?" + urlencode(query)


def link_attrs(c: Citation) -> str:
    """A deep link plus the data attributes the page's script reads."""
    href = esc(deep_link(c.statement_id, c.start, c.end))
    return f'href="{href}" {cite_attrs(c.statement_id, c.start, c.end)}'


def marker(citation: Citation) -> str:
    return (
        f'<a class="rag-ref" {link_attrs(citation)} '
        f'data-n="{citation.n}" title="{esc(citation.label)}, ¶{citation.paragraph}">'
        f"[{citation.n}]</a>"
    )


def heading(citation: Citation | Statement) -> str:
    """The statement's title, or (none) who said it and when."""
    return citation.title or citation.label


def meta_line(item: Citation | Statement) -> str:
    parts = [item.organization, item.author, item.date]
    return " · ".join(esc(p) for p in parts if p)
