"""What every face says about a typed answer, as plain phrases (no markup).

The CLI's text, the web HTML and the Markdown export all take their headings, counts
and notes from here, so they say the same thing; each face escapes them its own way.
Nothing here reads ``Answer.answer``: that text is only the JSON contract's field.
"""

from __future__ import annotations

from collections.abc import Iterator

from rag.models import Answer, Citation, QuoteGroup, SpeakerQuotes, TimelineEntry

ABSTAIN_TITLE = "The statements don't address this question."
NEAREST_LABEL = "Nearest passages — not an answer"


def grouped(answer: Answer) -> Iterator[tuple[QuoteGroup, list[Citation]]]:
    """Each group with its citations (numbers that name no citation are skipped)."""
    by_n = {c.n: c for c in answer.citations}
    for group in answer.groups:
        yield group, [by_n[n] for n in group.citations if n in by_n]


def understood(answer: Answer) -> str | None:
    """``Understood as: …`` when a follow-up was read as a different question."""
    return f"Understood as: {answer.resolved_question}" if answer.resolved_question else None


def searched(answer: Answer) -> str | None:
    """``Searched: …`` (what the question was answered from), when the core says."""
    return f"Searched: {answer.scope}" if answer.scope else None


def is_comparison(answer: Answer) -> bool:
    """Compare mode with something to compare: several statements, or silent ones."""
    return answer.compare and (len(answer.groups) > 1 or bool(answer.not_addressed))


def speaker_rows(answer: Answer) -> list[tuple[SpeakerQuotes, list[Citation]]]:
    """Compare and positions: each speaker with their quotes, in answer order."""
    by_n = {c.n: c for c in answer.citations}
    return [(row, [by_n[n] for n in row.citations if n in by_n]) for row in answer.positions]


def timeline_entries(answer: Answer) -> list[tuple[TimelineEntry, list[Citation]]]:
    """Timeline: each statement with its quotes, in date order."""
    by_n = {c.n: c for c in answer.citations}
    return [(entry, [by_n[n] for n in entry.citations if n in by_n]) for entry in answer.timeline]


def speaker_name(row: SpeakerQuotes) -> str:
    """``Bernie Sanders (Democratic Party)``, or the speaker alone."""
    if row.author and row.organization:
        return f"{row.author} ({row.organization})"
    return row.speaker


def mode_heading(answer: Answer) -> str | None:
    """The heading of a grouped answer: what it is about and how many speakers address it."""
    if answer.mode == "positions":
        total = len(answer.positions) + len(answer.not_addressed_by)
        return f"Positions on {answer.topic}: {len(answer.positions)} of {total} speakers"
    if answer.mode == "compare":
        return f"Compared on: {answer.topic}"
    if answer.mode == "timeline":
        who = answer.speakers[0] if answer.speakers else "the speaker"
        return f"{who} on {answer.topic}, in date order"
    return None


def silent_speakers(answer: Answer) -> str | None:
    """``Not addressed by: A; B.`` for the speakers of a grouped answer."""
    if not answer.not_addressed_by:
        return None
    return "Not addressed by: " + "; ".join(answer.not_addressed_by) + "."


def compared_on(answer: Answer) -> str | None:
    """``Compared on: <topic>`` (the topic, never the raw question pasted into a sentence)."""
    return f"Compared on: {answer.topic}" if answer.compare and answer.topic else None


def compare_counts(answer: Answer) -> str:
    """E.g. ``2 statements address it; 1 does not``."""
    speaking = len(answer.groups)
    silent = len(answer.not_addressed)
    text = f"{speaking} statement{'s address' if speaking != 1 else ' addresses'} it"
    if silent:
        text += f"; {silent} {'do' if silent != 1 else 'does'} not"
    return text


def not_addressed(answer: Answer) -> str | None:
    """``Not addressed by: A; B.``"""
    if not answer.not_addressed:
        return None
    return "Not addressed by: " + "; ".join(r.label for r in answer.not_addressed) + "."


def unverified(answer: Answer) -> str | None:
    if not answer.unverified:
        return None
    return (
        f"{len(answer.unverified)} generated quote(s) were not found verbatim in the "
        "statements and are not shown."
    )
