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
from ui.render import view

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


def _ref(citation: Citation, numbers: dict[int, int]) -> str:
    return f"[^{numbers[citation.n]}]"


def _answer_lines(answer: Answer, numbers: dict[int, int]) -> list[str]:
    """The typed answer as Markdown: quotes under who said them, or generated prose."""
    by_n = {c.n: c for c in answer.citations}
    lines: list[str] = []
    if answer.generated:
        prose = "".join(
            md_escape(s.text) + "".join(_ref(by_n[n], numbers) for n in s.refs if n in by_n)
            for s in answer.segments
        )
        return [prose, ""]
    if answer.mode in ("positions", "compare", "timeline"):
        return _grouped_lines(answer, numbers)
    if view.is_comparison(answer):
        topic = view.compared_on(answer)
        lines += [f"**{md_escape(topic)}**", ""] if topic else []
        lines += [f"_{md_escape(view.compare_counts(answer))}_", ""]
    for group, cites in view.grouped(answer):
        title = f" — “{md_escape(group.title)}”" if group.title else ""
        lines += [f"**{md_escape(group.label)}**{title}", ""]
        for c in cites:
            lines += [f"> “{md_escape(c.quote)}” {_ref(c, numbers)}", ""]
    missing = view.not_addressed(answer)
    if missing:
        lines += [md_escape(missing), ""]
    return lines


def _grouped_lines(answer: Answer, numbers: dict[int, int]) -> list[str]:
    """Positions as a table, a comparison per speaker, a timeline per statement."""
    heading = view.mode_heading(answer)
    lines = [f"**{md_escape(heading)}**", ""] if heading else []
    if answer.mode == "positions":
        lines += ["| Speaker | Date | Quote |", "|---|---|---|"]
        for row, cites in view.speaker_rows(answer):
            dates = ", ".join(dict.fromkeys(c.date or "undated" for c in cites))
            quotes = " ".join(f"“{md_escape(c.quote)}” {_ref(c, numbers)}" for c in cites)
            lines.append(f"| {md_escape(view.speaker_name(row))} | {md_escape(dates)} | {quotes} |")
        lines.append("")
    elif answer.mode == "timeline":
        for entry, cites in view.timeline_entries(answer):
            title = entry.title or entry.label
            lines += [f"**{md_escape(entry.date or 'undated')}** — {md_escape(title)}", ""]
            lines += [f"> “{md_escape(c.quote)}” {_ref(c, numbers)}" for c in cites] + [""]
    else:
        for row, cites in view.speaker_rows(answer):
            lines += [f"**{md_escape(view.speaker_name(row))}**", ""]
            for c in cites:
                date = f" ({md_escape(c.date)})" if c.date else ""
                lines += [f"> “{md_escape(c.quote)}” {_ref(c, numbers)}{date}", ""]
    silent = view.silent_speakers(answer)
    return lines + ([md_escape(silent), ""] if silent else [])


def _scope(answer: Answer) -> list[str]:
    scope = view.searched(answer)
    return [f"_{md_escape(scope)}_", ""] if scope else []


def conversation_markdown(answers: Sequence[Answer], exported: datetime | None = None) -> str:
    """The whole conversation, oldest first, as a Markdown document."""
    when = (exported or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Statements Q&A — conversation", "", f"_Exported {when}._", ""]
    notes: list[str] = []
    for turn, answer in enumerate(answers, start=1):
        lines += [f"## {turn}. {md_escape(answer.question)}", ""]
        resolved = view.understood(answer)
        if resolved:
            lines += [f"_{md_escape(resolved)}_", ""]
        if answer.abstained:
            lines += [f"**{md_escape(view.ABSTAIN_TITLE)}**", ""]
            if answer.nearest:
                lines += [f"{view.NEAREST_LABEL}:", ""]
                for c in answer.nearest:
                    number = len(notes) + 1
                    notes.append(footnote(number, c))
                    lines.append(f"- “{md_escape(c.quote)}” [^{number}]")
                lines.append("")
            lines += _scope(answer)
            continue
        numbers: dict[int, int] = {}
        for c in answer.citations:
            numbers[c.n] = len(notes) + 1
            notes.append(footnote(numbers[c.n], c))
        lines += _answer_lines(answer, numbers)
        for note in (answer.notice, view.unverified(answer)):
            if note:
                lines += [f"_Note: {md_escape(note)}_", ""]
        lines += _scope(answer)
    if not answers:
        lines += ["_No questions yet._", ""]
    if notes:
        lines += ["---", "", *notes, ""]
    return "\n".join(lines)
