"""A conversation as Markdown, with footnote-style citations.

Footnotes are numbered across the whole conversation (the first answer's [1] and the
second answer's [1] become ``[^1]`` and ``[^3]``), and each says which statement, who,
when and which paragraph, plus the character offsets of the verbatim quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from rag.models import Answer, Citation
from rag.render import answer_lines

_MARKER = re.compile(r"\[(\d+)\]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md_escape(text: str) -> str:
    """Statement text shown literally by Markdown renderers (no emphasis, links or HTML)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text.replace("\n", " "))
    return re.sub(r"^(\s*)([#>+-])", r"\1\\\2", escaped)


def footnote(number: int, citation: Citation) -> str:
    """``[^n]: statement, organization, date, ¶ — source (id start–end)``."""
    parts = []
    if citation.title:
        parts.append(f"“{md_escape(citation.title)}”")
    for value in (citation.organization, citation.author, citation.date):
        if value:
            parts.append(md_escape(value))
    if not parts:
        parts.append(md_escape(citation.statement_id))
    parts.append(f"¶{citation.paragraph}")
    where = (
        f"statement {md_escape(citation.statement_id)}, characters {citation.start}–{citation.end}"
    )
    source = f"; source: {md_escape(citation.source)}" if citation.source else ""
    return f"[^{number}]: {', '.join(parts)} ({where}{source})."


def _answer_lines(answer: Answer, numbers: dict[int, int]) -> list[str]:

    def prose(line: str) -> str:
        """Escaped text with known ``[n]`` markers turned into footnote references."""
        out, last = [], 0
        for match in _MARKER.finditer(line):
            n = int(match.group(1))
            if n in numbers:
                out += [md_escape(line[last : match.start()]), f"[^{numbers[n]}]"]
                last = match.end()
        out.append(md_escape(line[last:]))
        return "".join(out)

    lines: list[str] = []
    for line, citation in answer_lines(answer.answer, answer.citations):
        if citation is not None:
            lines += [f"> “{md_escape(citation.quote)}” [^{numbers[citation.n]}]", ""]
        else:
            lines += [prose(line), ""]
    return lines


def conversation_markdown(answers: Sequence[Answer], exported: datetime | None = None) -> str:
    """The whole conversation, oldest first, as a Markdown document."""
    when = (exported or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Statements Q&A — conversation", "", f"_Exported {when}._", ""]
    notes: list[str] = []
    for turn, answer in enumerate(answers, start=1):
        lines += [f"## {turn}. {md_escape(answer.question)}", ""]
        if answer.resolved_question:
            lines += [f"_Understood as: {md_escape(answer.resolved_question)}_", ""]
        if answer.abstained:
            lines += [f"**{md_escape(answer.answer)}**", ""]
            if answer.nearest:
                lines += ["Nearest passages — not an answer:", ""]
                for c in answer.nearest:
                    number = len(notes) + 1
                    notes.append(footnote(number, c))
                    lines.append(f"- “{md_escape(c.quote)}” [^{number}]")
                lines.append("")
            continue
        numbers: dict[int, int] = {}
        for c in answer.citations:
            numbers[c.n] = len(notes) + 1
            notes.append(footnote(numbers[c.n], c))
        lines += _answer_lines(answer, numbers)
        if answer.notice:
            lines += [f"_Note: {md_escape(answer.notice)}_", ""]
    if not answers:
        lines += ["_No questions yet._", ""]
    if notes:
        lines += ["---", "", *notes, ""]
    return "\n".join(lines)
