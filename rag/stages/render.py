"""The plain-text form of an answer (the ``answer`` field of ``rag ask --json``).

Only plain text here; HTML and Markdown are the UI's business.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.models import (
    Citation,
    QuoteGroup,
    SpeakerQuotes,
    StatementRef,
    TimelineEntry,
    speaker_label,
)

ABSTAIN = "The statements don't address this question."


def _heading(group: QuoteGroup) -> str:
    heading = group.label
    if group.title:
        heading += f" — “{group.title}”"
    return heading + ":"


def answer_text(
    groups: Sequence[QuoteGroup],
    citations: Sequence[Citation],
    compare_topic: str | None = None,
    not_addressed: Sequence[StatementRef] = (),
) -> str:
    """Quotes grouped per statement, each group headed by who said it and when."""
    by_n = {c.n: c for c in citations}
    lines: list[str] = []
    if compare_topic is not None:
        noun = "statement addresses" if len(groups) == 1 else "statements address"
        lines += [f"{len(groups)} {noun} {compare_topic}:", ""]
    for i, group in enumerate(groups):
        if i:
            lines.append("")
        lines.append(_heading(group))
        lines += [f"“{by_n[n].quote}” [{n}]" for n in group.citations]
    if not_addressed:
        lines += ["", "Not addressed by: " + "; ".join(r.label for r in not_addressed) + "."]
    return "\n".join(lines)


def abstain_text(scope: str | None = None) -> str:
    text = ABSTAIN
    if scope:
        text += f" (searched: {scope})"
    return text


def _quote(citation: Citation) -> str:
    return f"“{citation.quote}” [{citation.n}]"


def grouped_text(
    mode: str,
    topic: str,
    citations: Sequence[Citation],
    positions: Sequence[SpeakerQuotes],
    timeline: Sequence[TimelineEntry],
    silent: Sequence[str],
) -> str:
    """A compare (a block per speaker), positions (a line per speaker) or timeline (a block
    per statement, in date order) answer as plain text."""
    by_n = {c.n: c for c in citations}
    lines: list[str] = []
    if mode == "timeline":
        lines += [f"On {topic}, in date order:"]
        for entry in timeline:
            heading = entry.date or "undated"
            lines += ["", f"{heading} — {entry.title or entry.label}:"]
            lines += [_quote(by_n[n]) for n in entry.citations]
        return "\n".join(lines)
    total = len(positions) + len(silent)
    if mode == "positions":
        lines += [f"On {topic}: {len(positions)} of {total} speakers address it.", ""]
        for row in positions:
            first = by_n[row.citations[0]]
            who = speaker_label(row.author, row.organization, row.speaker, first.date)
            lines.append(f"{who}: " + " ".join(_quote(by_n[n]) for n in row.citations))
    else:
        lines += [f"On {topic}:"]
        for side in positions:
            quoted = [by_n[n] for n in side.citations]
            dates = {c.date for c in quoted}
            one = dates.pop() if len(dates) == 1 else None  # one date: in the heading
            who = speaker_label(side.author, side.organization, side.speaker, one)
            lines += ["", f"{who}:"]
            lines += [
                _quote(c) if one or len(quoted) == 1 else f"{_quote(c)} ({c.date or 'undated'})"
                for c in quoted
            ]
    if silent:
        lines += ["", "Not addressed by: " + "; ".join(silent) + "."]
    return "\n".join(lines)
