"""What every face says about a typed answer, as plain phrases (no markup).

The CLI's text, the web HTML and the Markdown export all take their headings, counts
and notes from here, so they say the same thing; each face escapes them its own way.
Nothing here reads ``Answer.answer``: that text is only the JSON contract's field.
"""

from __future__ import annotations

from collections.abc import Iterator

from rag.models import Answer, Citation, QuoteGroup

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
