"""The CLI's readable form of a typed answer (``rag ask`` without ``--json``); what reaches
the terminal is made safe by ``ui.cli.escapes``."""

from __future__ import annotations

from rag.models import Answer
from ui.render import view


def readable(answer: Answer) -> str:
    """The typed answer as text: quotes under who said them, then the citation list."""
    by_n = {c.n: c for c in answer.citations}
    lines = [f"({line})\n" for line in [view.understood(answer)] if line]
    if answer.abstained:
        lines.append(view.ABSTAIN_TITLE)
        if answer.nearest:
            lines += ["", f"{view.NEAREST_LABEL}:"]
            lines += [f"- {c.label}, ¶{c.paragraph}: “{c.quote}”" for c in answer.nearest]
    elif answer.generated:
        lines.append(
            "".join(
                s.text + "".join(f"[{n}]" for n in s.refs if n in by_n) for s in answer.segments
            )
        )
    elif answer.mode in ("positions", "compare", "timeline"):
        lines += grouped_lines(answer)
    else:
        if view.is_comparison(answer):
            topic = view.compared_on(answer)
            counts = view.compare_counts(answer)
            lines += [f"{topic} ({counts})" if topic else counts.capitalize(), ""]
        for group, cites in view.grouped(answer):
            lines += [group.label + (f" — “{group.title}”" if group.title else "") + ":"]
            lines += [f"“{c.quote}” [{c.n}]" for c in cites]
            lines.append("")
        lines += [line for line in [view.not_addressed(answer)] if line]
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            lines.append(
                f"[{c.n}] {c.label}, ¶{c.paragraph} — {c.source} "
                f"({c.statement_id} {c.start}:{c.end})"
            )
    lines += [f"note: {note}" for note in (answer.notice, view.unverified(answer)) if note]
    lines += [line for line in [view.searched(answer)] if line]
    kept = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    return "\n".join(kept).strip("\n")


def grouped_lines(answer: Answer) -> list[str]:
    """A positions table, compare columns (one block per speaker) or a timeline, as text."""
    lines = [line for line in [view.mode_heading(answer)] if line] + [""]
    if answer.mode == "timeline":
        for entry, cites in view.timeline_entries(answer):
            lines.append(f"{entry.date or 'undated'} — {entry.title or entry.label}")
            lines += [f"  “{c.quote}” [{c.n}]" for c in cites]
            lines.append("")
        return lines
    if answer.mode == "positions":
        return (
            lines
            + [positions_table(answer), ""]
            + [line for line in [view.silent_speakers(answer)] if line]
        )
    for row, cites in view.speaker_rows(answer):
        lines.append(view.speaker_name(row) + ":")
        lines += [f"“{c.quote}” [{c.n}] ({c.date or 'undated'})" for c in cites]
        lines.append("")
    return lines + [line for line in [view.silent_speakers(answer)] if line]


def positions_table(answer: Answer, width: int = 100) -> str:
    """One row per speaker: who, when, the quote(s) — a table drawn with rich."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=True, expand=True)
    table.add_column("Speaker", ratio=2)
    table.add_column("Date", ratio=1, overflow="fold")
    table.add_column("Quote", ratio=6)
    for row, cites in view.speaker_rows(answer):
        dates = ", ".join(dict.fromkeys(c.date or "undated" for c in cites))
        quotes = "\n".join(f"“{c.quote}” [{c.n}]" for c in cites)
        table.add_row(view.speaker_name(row), dates, quotes)
    out = StringIO()
    Console(file=out, width=width, color_system=None, highlight=False).print(table)
    return out.getvalue().rstrip()
