"""HTML of the answers whose unit is a speaker: a positions table, compare columns (one per
speaker, drawn from all their statements) and a vertical timeline.

Built from the typed answer (``Answer.positions``, ``Answer.timeline``) through
``ui/render/view.py``'s phrases; every text is escaped; each quote keeps its ``[n]``
marker, which opens the statement at the quote like any citation.
"""

from __future__ import annotations

from rag.models import Answer, Citation
from ui.render import view
from ui.web.markup import esc, marker


def _quote(citation: Citation, date: bool = False) -> str:
    when = (
        f' <span class="rag-meta">({esc(citation.date)})</span>' if date and citation.date else ""
    )
    return (
        f'<blockquote class="rag-quote" data-n="{citation.n}">'
        f'<span class="rag-quote-text">“{esc(citation.quote)}”</span> '
        f"{marker(citation)}{when}</blockquote>"
    )


def _silent(answer: Answer) -> str:
    missing = view.silent_speakers(answer)
    return f'<p class="rag-not-addressed">{esc(missing)}</p>' if missing else ""


def _heading(answer: Answer, css: str) -> str:
    heading = view.mode_heading(answer)
    return f'<p class="{css}">{esc(heading)}</p>' if heading else ""


def positions_html(answer: Answer) -> str:
    """One row per speaker who addresses the topic: who, when, the quote(s)."""
    rows = []
    for row, cites in view.speaker_rows(answer):
        dates = ", ".join(dict.fromkeys(c.date or "undated" for c in cites))
        quotes = "".join(_quote(c) for c in cites)
        rows.append(
            f'<tr><th scope="row" class="rag-pos-speaker">{esc(view.speaker_name(row))}</th>'
            f'<td class="rag-pos-date">{esc(dates)}</td>'
            f'<td class="rag-pos-quotes">{quotes}</td></tr>'
        )
    table = (
        '<table class="rag-positions"><thead><tr><th scope="col">Speaker</th>'
        '<th scope="col">Date</th><th scope="col">Quote</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return _heading(answer, "rag-compare-head") + table + _silent(answer)


def compare_html(answer: Answer) -> str:
    """A column per compared speaker (their quotes from all their statements, dated), and
    a column for each one who does not address it."""
    columns = [
        f'<div class="rag-col"><p class="rag-col-head">{esc(view.speaker_name(row))}</p>'
        f"{''.join(_quote(c, date=True) for c in cites)}</div>"
        for row, cites in view.speaker_rows(answer)
    ]
    columns += [
        f'<div class="rag-col rag-col-missing"><p class="rag-col-head">{esc(name)}</p>'
        '<p class="rag-status">Does not address this.</p></div>'
        for name in answer.not_addressed_by
    ]
    return (
        _heading(answer, "rag-compare-head") + f'<div class="rag-columns">{"".join(columns)}</div>'
    )


def timeline_html(answer: Answer) -> str:
    """The speaker's statements on the topic, oldest first, as a vertical timeline."""
    items = [
        f'<li class="rag-tl-entry"><p class="rag-tl-when"><span class="rag-tl-date">'
        f'{esc(entry.date or "undated")}</span> <span class="rag-meta">'
        f"{esc(entry.title or entry.label)}</span></p>{''.join(_quote(c) for c in cites)}</li>"
        for entry, cites in view.timeline_entries(answer)
    ]
    return _heading(answer, "rag-compare-head") + f'<ol class="rag-timeline">{"".join(items)}</ol>'


def grouped_html(answer: Answer) -> str | None:
    """The body of a compare, positions or timeline answer (None for a plain answer)."""
    if answer.mode == "positions":
        return positions_html(answer)
    if answer.mode == "compare" and answer.positions:
        return compare_html(answer)
    if answer.mode == "timeline":
        return timeline_html(answer)
    return None
