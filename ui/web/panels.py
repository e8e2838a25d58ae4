"""HTML of the citations panel, the statement viewer and the upload report."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rag.models import Answer, Citation, Statement
from ui.render.view import NEAREST_LABEL
from ui.web.markup import (
    Paragraph,
    cite_attrs,
    context_window,
    deep_link,
    esc,
    heading,
    meta_line,
    one_line,
    paragraph_at,
    paragraphs,
)

# -- citations panel ----------------------------------------------------------------


def _context(citations: Sequence[Citation], text: str | None) -> str:
    """The quotes <mark>ed inside their paragraph (or the sentences around them): several
    quotes of one paragraph are marked in one showing of it."""
    first = citations[0]
    if not text or any(text[c.start : c.end] != c.quote for c in citations):
        return "".join(f'<p class="rag-context"><mark>{esc(c.quote)}</mark></p>' for c in citations)
    paragraph = paragraph_at(text, first.start)
    ordered = sorted(citations, key=lambda c: c.start)
    left, _ = context_window(text, paragraph, ordered[0].start, ordered[0].end)
    _, right = context_window(text, paragraph, ordered[-1].start, ordered[-1].end)
    parts = ["… " if left > paragraph.start else ""]
    at = left
    for c in ordered:
        if c.start < at:  # overlapping quotes: the first one's mark covers it
            continue
        parts.append(esc(text[at : c.start]))
        parts.append(f'<mark class="rag-cited" data-n="{c.n}">{esc(c.quote)}</mark>')
        at = c.end
    parts.append(esc(text[at:right]) + (" …" if right < paragraph.end else ""))
    return f'<p class="rag-context">{"".join(parts)}</p>'


def _card(citations: Sequence[Citation], text: str | None, kind: str, first: bool = True) -> str:
    """The quotes of one paragraph in their context, headed by who and when; the
    statement's title and full metadata only on its first card."""
    citation = citations[0]
    numbers = "".join(f"[{c.n}]" for c in citations)
    number = f'<span class="rag-n">{numbers}</span> ' if kind == "cite" else ""
    about = ""
    if first and citation.title:
        about = (
            f'<div class="rag-meta"><span class="rag-title">{esc(citation.title)}</span>'
            f'</div><div class="rag-meta">{meta_line(citation)}</div>'
        )
    anchors = "".join(f'<span id="rag-{kind}-{c.n}"></span>' for c in citations[1:])
    return (
        f'<div class="rag-card rag-card-{kind}" id="rag-{kind}-{citation.n}" role="button" '
        f'tabindex="0" {cite_attrs(citation.statement_id, citation.start, citation.end)} '
        f'data-n="{citation.n}">{anchors}'
        f'<div class="rag-card-head">{number}'
        f'<span class="rag-label">{esc(citation.label)}</span> '
        f'<span class="rag-para">¶{citation.paragraph}</span></div>'
        + about
        + _context(citations, text)
        + '<div class="rag-open">Open in the statement →</div></div>'
    )


def _cards(citations: Sequence[Citation], texts: dict[str, str], kind: str) -> str:
    """A card per paragraph quoted, in the order of its first quote: a paragraph with two
    quotes is shown once, both marked (issue 21: the same paragraph appeared twice)."""
    by_paragraph: dict[tuple[str, int], list[Citation]] = {}
    for c in citations:
        by_paragraph.setdefault((c.statement_id, c.paragraph), []).append(c)
    seen: set[str] = set()
    cards = []
    for (sid, _), group in by_paragraph.items():
        cards.append(_card(group, texts.get(sid), kind, sid not in seen))
        seen.add(sid)
    return "".join(cards)


def citations_panel(answer: Answer | None, texts: dict[str, str]) -> str:
    """The citations of the latest answer (or the nearest passages of an abstention)."""
    if answer is None:
        return (
            '<div class="rag-citations rag-empty"><p class="rag-panel-title">Citations</p>'
            "<p>The quotes of the latest answer appear here, each inside its paragraph. "
            "Click one to read it in the whole statement.</p></div>"
        )
    if answer.abstained:
        cards = _cards(answer.nearest, texts, "nearest")
        note = "" if cards else "<p>No passage came close.</p>"
        return (
            f'<div class="rag-citations rag-abstained"><p class="rag-panel-title">'
            f"{esc(NEAREST_LABEL)}</p>{note}{cards}</div>"
        )
    cards = _cards(answer.citations, texts, "cite")
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


def link_span(start: object, end: object, length: int) -> tuple[tuple[int, int] | None, str | None]:
    """A deep link's ``start``/``end`` as a span of a text of ``length`` characters, or
    ``None`` and a sentence saying why nothing can be highlighted (``None`` too when the
    link names no passage at all)."""
    given = [v for v in (start, end) if v not in (None, "")]
    if not given:
        return None, None
    why = "showing the whole statement without a highlight"
    if len(given) == 1:
        return None, f"The link gives only one end of its passage; {why}."
    try:
        a, b = int(str(start)), int(str(end))
    except ValueError:
        return None, f"The link's passage offsets are not numbers; {why}."
    if a >= b:
        return None, f"The link's passage ends before it starts ({a}–{b}); {why}."
    if a < 0 or b > length:
        return None, (
            f"The link's passage ({a}–{b}) lies outside this statement "
            f"({length} characters); {why}."
        )
    return (a, b), None


def statement_viewer(statement: Statement, start: object = None, end: object = None) -> str:
    """The whole clean text with ¶ numbers; ``text[start:end]`` highlighted, or (a bad
    deep link) a note saying why nothing is."""
    text = statement.text or ""
    span, problem = link_span(start, end, len(text))
    note = f'<p class="rag-link-note" role="status">{esc(problem)}</p>' if problem else ""
    blocks = []
    for p in paragraphs(text):
        content = _highlight(text, p, span)
        cited = " rag-par-cited" if span and p.start < span[1] and span[0] < p.end else ""
        blocks.append(
            f'<p class="rag-par{cited}" id="rag-par-{p.number}">'
            f'<span class="rag-pnum">¶{p.number}</span> {content}</p>'
        )
    meta = meta_line(statement)
    link = ""
    if span:
        href = deep_link(statement.statement_id, *span)
        link = f' · <a class="rag-permalink" href="{esc(href)}">link to this passage</a>'
    return one_line(
        f'<div class="rag-viewer" data-sid="{esc(statement.statement_id)}">'
        f'<div class="rag-viewer-head"><p class="rag-panel-title">{esc(heading(statement))}</p>'
        + (f'<p class="rag-meta">{meta}</p>' if meta and statement.title else "")
        + f'<p class="rag-meta">Source: {_source(statement)} · id {esc(statement.statement_id)}'
        f" · {len(blocks)} paragraphs{link}</p>{note}</div>"
        # focusable, so its text can be scrolled with the keyboard
        f'<div class="rag-viewer-text" tabindex="0" role="region" aria-label="Statement text">'
        f"{''.join(blocks)}</div></div>"
    )


def _highlight(text: str, paragraph: Paragraph, span: tuple[int, int] | None) -> str:
    segment = text[paragraph.start : paragraph.end]
    if not span or span[1] <= paragraph.start or span[0] >= paragraph.end:
        return esc(segment)
    a = max(span[0], paragraph.start) - paragraph.start
    b = min(span[1], paragraph.end) - paragraph.start
    return f'{esc(segment[:a])}<mark class="rag-cited">{esc(segment[a:b])}</mark>{esc(segment[b:])}'


# -- sources ------------------------------------------------------------------------


def statement_cards(rows: Sequence[Sequence[object]]) -> str:
    """The Sources table's rows as cards, for narrow screens: title (or source), who and
    when, the id; a card opens its statement (``static/cards.js``)."""
    cards = []
    for row in rows:
        sid, org, author, date, title, source, passages = (str(v or "") for v in row[:7])
        who = ", ".join(v for v in (author, org, date) if v)
        cards.append(
            f'<li class="rag-source-card" role="button" tabindex="0" '
            f'data-statement="{esc(sid)}"><span class="rag-source-title">{esc(title or source)}'
            f'</span><span class="rag-meta">{esc(who or "no author, organization or date")}'
            f'</span><span class="rag-meta">{esc(sid)} · {esc(passages)} passages</span></li>'
        )
    if not cards:
        return '<p class="rag-empty">No statements match.</p>'
    return f'<ul class="rag-source-cards" aria-label="Ingested statements">{"".join(cards)}</ul>'


def ingest_report(lines: Iterable[tuple[str, str]]) -> str:
    """``(status, message)`` pairs after an upload, as a short list."""
    items = "".join(
        f'<li class="rag-ingest-{esc(status)}"><b>{esc(status)}</b> {esc(message)}</li>'
        for status, message in lines
    )
    return f'<div class="rag-ingest"><ul>{items}</ul></div>'
