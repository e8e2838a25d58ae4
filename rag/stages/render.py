"""The plain-text form of an answer (the ``answer`` field of ``rag ask --json``).

Only plain text here; HTML and Markdown are the UI's business.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.models import Citation, QuoteGroup, StatementRef

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
