"""The CLI's readable form of a typed answer (``rag ask`` without ``--json``), and text
made safe for a terminal."""

from __future__ import annotations

import re

from rag.models import Answer
from ui.render import view

# What a terminal would act on instead of showing: C0 controls but tab and newline
# (escape sequences set the window title or clear the screen), DEL, C1 controls (0x9b
# starts a sequence too), line/paragraph separators and bidi overrides and isolates
# (they reorder what follows on the line).
_TERMINAL_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# In JSON, C0 controls are already escaped by json.dumps; these are not.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal would act on shown as an escape
    (``\\x1b``, ``\\u202e``); newlines and tabs stay."""
    return _TERMINAL_UNSAFE.sub(_visible, text)


def json_safe(line: str) -> str:
    """A line of JSON with the controls ``json.dumps`` leaves raw written as ``\\uXXXX``
    escapes: the same JSON value, nothing a terminal acts on."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


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
