"""HTML for the web UI, built from typed answers, citations and statements.

Every piece of statement text, metadata and user input passes through :func:`esc`
before it is placed in markup, so a statement or question containing ``<script>`` or
``<img onerror=…>`` shows as text. Markers that the page's script acts on carry only
a statement id and two integers (``data-sid``, ``data-start``, ``data-end``).

The chat messages are given to ``gr.Chatbot`` as one line of HTML inside a ``<div>``:
Markdown treats that as a raw HTML block, so statement text is never reinterpreted as
Markdown (``*``, ``_``, backticks, links) or LaTeX.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from rag.models import Answer, Citation, Statement, StatementRef
from rag.render import answer_lines

PARAGRAPH_BREAK = "\n\n"
CONTEXT_MAX_CHARS = 1200
ABSTAIN_HEADING = "The statements don't address this"
NEAREST_LABEL = "Nearest passages — not an answer"

_MARKER = re.compile(r"\[(\d+)\]")
# End of a sentence: terminal punctuation, optional closing quotes/brackets, whitespace.
_SENTENCE_END = re.compile(r"[.!?…][\"”’')\]]*\s+")


def esc(value: object) -> str:
    """Text made safe for element content and quoted attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def _one_line(markup: str) -> str:
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


def _cite_attrs(statement_id: str, start: int, end: int) -> str:
    return f'data-sid="{esc(statement_id)}" data-start="{int(start)}" data-end="{int(end)}"'


def deep_link(statement_id: str, start: int | None = None, end: int | None = None) -> str:
    """A relative link that opens the viewer on a passage when the page loads."""
    query: dict[str, object] = {"statement": statement_id}
    if start is not None and end is not None:
        query.update(start=int(start), end=int(end))
    return "?" + urlencode(query)


def _link_attrs(c: Citation) -> str:
    """A deep link plus the data attributes the page's script reads."""
    href = esc(deep_link(c.statement_id, c.start, c.end))
    return f'href="{href}" {_cite_attrs(c.statement_id, c.start, c.end)}'


def _marker(citation: Citation) -> str:
    return (
        f'<a class="rag-ref" {_link_attrs(citation)} '
        f'data-n="{citation.n}" title="{esc(citation.label)}, ¶{citation.paragraph}">'
        f"[{citation.n}]</a>"
    )


def _with_markers(escaped: str, by_n: dict[int, Citation]) -> str:
    """Replace ``[n]`` in already escaped text by citation links (known numbers only)."""

    def link(match: re.Match[str]) -> str:
        citation = by_n.get(int(match.group(1)))
        return _marker(citation) if citation else match.group(0)

    return _MARKER.sub(link, escaped)


def heading(citation: Citation | Statement) -> str:
    """The statement's title, or (none) who said it and when."""
    return citation.title or citation.label


def _meta_line(item: Citation | Statement) -> str:
    parts = [item.organization, item.author, item.date]
    return " · ".join(esc(p) for p in parts if p)


# -- chat messages ------------------------------------------------------------------


def user_message(question: str) -> str:
    return _one_line(f'<div class="rag-question">{esc(question)}</div>')


def pending_message(note: str = "Searching the statements…") -> str:
    return f'<div class="rag-answer rag-pending"><p class="rag-status">{esc(note)}</p></div>'


def _text_lines(text: str, citations: Sequence[Citation]) -> list[str]:
    """Plain answer text -> HTML blocks: verified quote lines become blockquotes."""
    by_n = {c.n: c for c in citations}
    blocks: list[str] = []
    for line, citation in answer_lines(text, citations):
        if citation is not None:
            blocks.append(
                f'<blockquote class="rag-quote" data-n="{citation.n}">'
                f'<span class="rag-quote-text">“{esc(citation.quote)}”</span> '
                f"{_marker(citation)}</blockquote>"
            )
        elif line.startswith("Not addressed by:"):
            blocks.append(f'<p class="rag-not-addressed">{_with_markers(esc(line), by_n)}</p>')
        elif line.endswith(":"):
            blocks.append(f'<p class="rag-source">{_with_markers(esc(line), by_n)}</p>')
        else:
            blocks.append(f"<p>{_with_markers(esc(line), by_n)}</p>")
    return blocks


def streaming_message(text: str, citations: Sequence[Citation]) -> str:
    """The answer while it streams in (text so far, citations so far)."""
    body = "".join(_text_lines(text, citations))
    return _one_line(f'<div class="rag-answer rag-streaming">{body}</div>')


def _nearest_block(nearest: Sequence[Citation]) -> str:
    if not nearest:
        return ""
    items = "".join(
        f'<li><span class="rag-label">{esc(heading(c))}</span>, ¶{c.paragraph}: '
        f'<span class="rag-nearest-quote">“{esc(c.quote)}”</span> '
        f'<a class="rag-ref rag-open-nearest" {_link_attrs(c)}>open</a></li>'
        for c in nearest
    )
    return (
        f'<div class="rag-nearest"><p class="rag-nearest-label">{esc(NEAREST_LABEL)}</p>'
        f"<ul>{items}</ul></div>"
    )


def _compare_columns(answer: Answer) -> str:
    groups: dict[str, list[Citation]] = {}
    for c in answer.citations:
        groups.setdefault(c.statement_id, []).append(c)
    columns = []
    for cites in groups.values():
        first = cites[0]
        quotes = "".join(
            f'<blockquote class="rag-quote" data-n="{c.n}"><span class="rag-quote-text">'
            f"“{esc(c.quote)}”</span> {_marker(c)}</blockquote>"
            for c in cites
        )
        sub = f'<p class="rag-meta">{_meta_line(first)}</p>' if first.title else ""
        columns.append(
            f'<div class="rag-col"><p class="rag-col-head">{esc(heading(first))}</p>'
            f"{sub}{quotes}</div>"
        )
    for ref in answer.not_addressed:
        columns.append(_missing_column(ref))
    return f'<div class="rag-columns">{"".join(columns)}</div>'


def _missing_column(ref: StatementRef) -> str:
    return (
        f'<div class="rag-col rag-col-missing"><p class="rag-col-head">'
        f"{esc(ref.title or ref.label)}</p>"
        + (f'<p class="rag-meta">{esc(ref.label)}</p>' if ref.title else "")
        + '<p class="rag-status">Does not address this.</p></div>'
    )


def answer_message(answer: Answer) -> str:
    """The finished answer: quotes, a comparison in columns, or a visible abstention."""
    top = ""
    if answer.resolved_question:
        top += f'<p class="rag-resolved">Understood as: {esc(answer.resolved_question)}</p>'
    bottom = ""
    if answer.notice:
        bottom += f'<p class="rag-notice">{esc(answer.notice)}</p>'
    if answer.unverified:
        bottom += (
            f'<p class="rag-notice">{len(answer.unverified)} generated quote(s) were not found '
            "verbatim in the statements and are not shown.</p>"
        )
    if answer.abstained:
        title = answer.answer.strip() or ABSTAIN_HEADING
        body = f'<p class="rag-abstain-title">{esc(title)}</p>{_nearest_block(answer.nearest)}'
        return _one_line(f'<div class="rag-answer rag-abstain">{top}{body}{bottom}</div>')
    if answer.compare and (
        len({c.statement_id for c in answer.citations}) > 1 or answer.not_addressed
    ):
        first = answer.answer.split("\n", 1)[0].strip()
        lead = f'<p class="rag-source">{esc(first)}</p>' if first.endswith(":") else ""
        body = lead + _compare_columns(answer)
        return _one_line(f'<div class="rag-answer rag-compare">{top}{body}{bottom}</div>')
    body = "".join(_text_lines(answer.answer, answer.citations))
    return _one_line(f'<div class="rag-answer">{top}{body}{bottom}</div>')


# -- citations panel ----------------------------------------------------------------


def _context(citation: Citation, text: str | None) -> str:
    """The quote <mark>ed inside its paragraph (or the sentences around it)."""
    if not text or text[citation.start : citation.end] != citation.quote:
        return f'<p class="rag-context"><mark>{esc(citation.quote)}</mark></p>'
    paragraph = paragraph_at(text, citation.start)
    left, right = context_window(text, paragraph, citation.start, citation.end)
    before = ("… " if left > paragraph.start else "") + text[left : citation.start]
    after = text[citation.end : right] + (" …" if right < paragraph.end else "")
    return (
        f'<p class="rag-context">{esc(before)}<mark class="rag-cited">{esc(citation.quote)}'
        f"</mark>{esc(after)}</p>"
    )


def _card(citation: Citation, text: str | None, kind: str) -> str:
    number = f'<span class="rag-n">[{citation.n}]</span> ' if kind == "cite" else ""
    meta = _meta_line(citation) if citation.title else ""
    return (
        f'<div class="rag-card rag-card-{kind}" id="rag-{kind}-{citation.n}" role="button" '
        f'tabindex="0" {_cite_attrs(citation.statement_id, citation.start, citation.end)} '
        f'data-n="{citation.n}">'
        f'<div class="rag-card-head">{number}'
        f'<span class="rag-label">{esc(heading(citation))}</span> '
        f'<span class="rag-para">¶{citation.paragraph}</span></div>'
        + (f'<div class="rag-meta">{meta}</div>' if meta else "")
        + _context(citation, text)
        + '<div class="rag-open">Open in the statement →</div></div>'
    )


def citations_panel(answer: Answer | None, texts: dict[str, str]) -> str:
    """The citations of the latest answer (or the nearest passages of an abstention)."""
    if answer is None:
        return (
            '<div class="rag-citations rag-empty"><p class="rag-panel-title">Citations</p>'
            "<p>The quotes of the latest answer appear here, each inside its paragraph. "
            "Click one to read it in the whole statement.</p></div>"
        )
    if answer.abstained:
        cards = "".join(_card(c, texts.get(c.statement_id), "nearest") for c in answer.nearest)
        note = "" if cards else "<p>No passage came close.</p>"
        return (
            f'<div class="rag-citations rag-abstained"><p class="rag-panel-title">'
            f"{esc(NEAREST_LABEL)}</p>{note}{cards}</div>"
        )
    cards = "".join(_card(c, texts.get(c.statement_id), "cite") for c in answer.citations)
    return (
        f'<div class="rag-citations"><p class="rag-panel-title">Citations '
        f'<span class="rag-count">({len(answer.citations)})</span></p>{cards}</div>'
    )


# -- statement viewer ---------------------------------------------------------------


def viewer_placeholder(message: str | None = None) -> str:
    text = message or "Click a citation to read the whole statement with the quote highlighted."
    return f'<div class="rag-viewer rag-empty"><p>{esc(text)}</p></div>'


def _source(statement: Statement) -> str:
    source = statement.source or ""
    if re.match(r"https?://", source):
        return (
            f'<a href="{esc(source)}" target="_blank" rel="noopener noreferrer">{esc(source)}</a>'
        )
    return esc(source)


def statement_viewer(statement: Statement, start: int | None = None, end: int | None = None) -> str:
    """The whole clean text with ¶ numbers; ``text[start:end]`` highlighted."""
    text = statement.text or ""
    span = None
    if start is not None and end is not None and 0 <= start < end <= len(text):
        span = (start, end)
    blocks = []
    for p in paragraphs(text):
        content = _highlight(text, p, span)
        cited = " rag-par-cited" if span and p.start < span[1] and span[0] < p.end else ""
        blocks.append(
            f'<p class="rag-par{cited}" id="rag-par-{p.number}">'
            f'<span class="rag-pnum">¶{p.number}</span> {content}</p>'
        )
    meta = _meta_line(statement)
    link = ""
    if span:
        href = deep_link(statement.statement_id, *span)
        link = f' · <a class="rag-permalink" href="{esc(href)}">link to this passage</a>'
    return _one_line(
        f'<div class="rag-viewer" data-sid="{esc(statement.statement_id)}">'
        f'<div class="rag-viewer-head"><p class="rag-panel-title">{esc(heading(statement))}</p>'
        + (f'<p class="rag-meta">{meta}</p>' if meta and statement.title else "")
        + f'<p class="rag-meta">Source: {_source(statement)} · id {esc(statement.statement_id)}'
        f" · {len(blocks)} paragraphs{link}</p></div>"
        f'<div class="rag-viewer-text">{"".join(blocks)}</div></div>'
    )


def _highlight(text: str, paragraph: Paragraph, span: tuple[int, int] | None) -> str:
    segment = text[paragraph.start : paragraph.end]
    if not span or span[1] <= paragraph.start or span[0] >= paragraph.end:
        return esc(segment)
    a = max(span[0], paragraph.start) - paragraph.start
    b = min(span[1], paragraph.end) - paragraph.start
    return f'{esc(segment[:a])}<mark class="rag-cited">{esc(segment[a:b])}</mark>{esc(segment[b:])}'


# -- sources ------------------------------------------------------------------------


def ingest_report(lines: Iterable[tuple[str, str]]) -> str:
    """``(status, message)`` pairs after an upload, as a short list."""
    items = "".join(
        f'<li class="rag-ingest-{esc(status)}"><b>{esc(status)}</b> {esc(message)}</li>'
        for status, message in lines
    )
    return f'<div class="rag-ingest"><ul>{items}</ul></div>'
