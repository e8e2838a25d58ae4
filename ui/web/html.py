"""HTML for the web UI's chat, built from typed answers only (never from answer text).

Every piece of statement text, metadata and user input passes through :func:`esc`
before it is placed in markup, so a statement or question containing ``<script>`` or
``<img onerror=…>`` shows as text.

The chat messages are given to ``gr.Chatbot`` as one line of HTML inside a ``<div>``:
Markdown treats that as a raw HTML block, so statement text is never reinterpreted as
Markdown (``*``, ``_``, backticks, links) or LaTeX. The panels live in ``ui/web/panels.py``
and the shared pieces in ``ui/web/markup.py``; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.models import Answer, Citation, QuoteGroup, StatementRef
from ui.render import view
from ui.web.grouped import grouped_html
from ui.web.markup import (
    Paragraph,
    context_window,
    deep_link,
    esc,
    link_attrs,
    marker,
    one_line,
    paragraph_at,
    paragraphs,
)
from ui.web.panels import (
    citations_panel,
    ingest_report,
    statement_cards,
    statement_viewer,
    viewer_placeholder,
)

__all__ = [
    "Paragraph",
    "citations_panel",
    "context_window",
    "deep_link",
    "esc",
    "ingest_report",
    "paragraph_at",
    "paragraphs",
    "statement_cards",
    "statement_viewer",
    "viewer_placeholder",
]

ABSTAIN_HEADING = "The statements don't address this"
NEAREST_LABEL = view.NEAREST_LABEL


# -- chat messages ------------------------------------------------------------------


def user_message(question: str) -> str:
    return one_line(f'<div class="rag-question">{esc(question)}</div>')


def pending_message(note: str = "Searching the statements…") -> str:
    return f'<div class="rag-answer rag-pending"><p class="rag-status">{esc(note)}</p></div>'


def _lines(text: str) -> str:
    """Escaped text, its line breaks kept as ``<br>`` (one raw-HTML line for the chat)."""
    return esc(text).replace("\r", "").replace("\n", "<br>")


def streaming_message(text: str) -> str:
    """The answer while it streams in: the text so far, escaped, shown as it is."""
    return one_line(
        f'<div class="rag-answer rag-streaming"><p class="rag-stream-text">{_lines(text)}</p></div>'
    )


def _quote(citation: Citation) -> str:
    return (
        f'<blockquote class="rag-quote" data-n="{citation.n}">'
        f'<span class="rag-quote-text">“{esc(citation.quote)}”</span> '
        f"{marker(citation)}</blockquote>"
    )


def _group_head(group: QuoteGroup, css: str = "rag-source") -> str:
    """Who and when; the full title once, on its own line."""
    title = f'<span class="rag-title">{esc(group.title)}</span>' if group.title else ""
    return f'<p class="{css}"><span class="rag-label">{esc(group.label)}</span></p>' + (
        f'<p class="rag-meta">{title}</p>' if title else ""
    )


def _nearest_block(nearest: Sequence[Citation]) -> str:
    if not nearest:
        return ""
    items = "".join(
        f'<li><span class="rag-label">{esc(c.label)}</span>, ¶{c.paragraph}: '
        f'<span class="rag-nearest-quote">“{esc(c.quote)}”</span> '
        f'<a class="rag-ref rag-open-nearest" {link_attrs(c)}>open</a></li>'
        for c in nearest
    )
    return (
        f'<div class="rag-nearest"><p class="rag-nearest-label">{esc(NEAREST_LABEL)}</p>'
        f"<ul>{items}</ul></div>"
    )


def _groups(answer: Answer) -> str:
    blocks = [
        _group_head(group) + "".join(_quote(c) for c in cites)
        for group, cites in view.grouped(answer)
    ]
    missing = view.not_addressed(answer)
    if missing:
        blocks.append(f'<p class="rag-not-addressed">{esc(missing)}</p>')
    return "".join(blocks)


def _compare(answer: Answer) -> str:
    topic = view.compared_on(answer)
    head = f'<p class="rag-compare-head">{esc(topic)}</p>' if topic else ""
    head += f'<p class="rag-meta rag-compare-counts">{esc(view.compare_counts(answer))}</p>'
    columns = [
        f'<div class="rag-col">{_group_head(group, "rag-col-head")}'
        f"{''.join(_quote(c) for c in cites)}</div>"
        for group, cites in view.grouped(answer)
    ]
    for ref in answer.not_addressed:
        columns.append(_missing_column(ref))
    return f'{head}<div class="rag-columns">{"".join(columns)}</div>'


def _missing_column(ref: StatementRef) -> str:
    title = f'<p class="rag-meta rag-title">{esc(ref.title)}</p>' if ref.title else ""
    return (
        f'<div class="rag-col rag-col-missing"><p class="rag-col-head">{esc(ref.label)}</p>'
        f'{title}<p class="rag-status">Does not address this.</p></div>'
    )


def _generated(answer: Answer) -> str:
    """LLM prose, piece by piece: its text escaped, its references as citation links."""
    by_n = {c.n: c for c in answer.citations}
    pieces = []
    for segment in answer.segments:
        refs = "".join(marker(by_n[n]) for n in segment.refs if n in by_n)
        pieces.append(f'<span class="rag-segment">{_lines(segment.text)}</span>{refs}')
    return f'<p class="rag-generated">{"".join(pieces)}</p>'


def answer_message(answer: Answer) -> str:
    """The finished answer: quotes, a comparison in columns, or a visible abstention."""
    resolved = view.understood(answer)
    top = f'<p class="rag-resolved">{esc(resolved)}</p>' if resolved else ""
    bottom = "".join(
        f'<p class="rag-notice">{esc(note)}</p>'
        for note in (answer.notice, view.unverified(answer))
        if note
    )
    scope = view.searched(answer)
    bottom += f'<p class="rag-scope">{esc(scope)}</p>' if scope else ""
    if answer.abstained:
        body = (
            f'<p class="rag-abstain-title">{esc(view.ABSTAIN_TITLE)}</p>'
            f"{_nearest_block(answer.nearest)}"
        )
        kind = "rag-answer rag-abstain"
    elif answer.generated:
        body, kind = _generated(answer), "rag-answer rag-generated-answer"
    elif (speakers := grouped_html(answer)) is not None:
        body, kind = speakers, f"rag-answer rag-{answer.mode}"
    elif view.is_comparison(answer):
        body, kind = _compare(answer), "rag-answer rag-compare"
    else:
        body, kind = _groups(answer), "rag-answer"
    return one_line(f'<div class="{kind}">{top}{body}{bottom}</div>')
