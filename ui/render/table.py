"""A positions (or comparison, or timeline) answer as CSV rows, one per quote, for a
spreadsheet: who said it, when, where in which statement, and the verbatim quote."""

from __future__ import annotations

import csv
from io import StringIO

from rag.models import Answer

COLUMNS = (
    "speaker",
    "author",
    "organization",
    "date",
    "statement_id",
    "title",
    "paragraph",
    "start",
    "end",
    "quote",
    "n",
)
# a cell that a spreadsheet would run as a formula starts with one of these
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def answer_csv(answer: Answer, lineterminator: str = "\r\n") -> str:
    """Every citation of ``answer`` as a CSV row (columns ``COLUMNS``), in answer order;
    the speakers of a grouped answer who do not address the topic as rows without a quote.
    Rows end as RFC 4180 says (a file); a terminal takes ``lineterminator="\n"``."""
    out = StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(COLUMNS)
    for c in answer.citations:
        writer.writerow(
            _cell(v)
            for v in (
                c.speaker,
                c.author,
                c.organization,
                c.date,
                c.statement_id,
                c.title,
                c.paragraph,
                c.start,
                c.end,
                c.quote,
                c.n,
            )
        )
    for speaker in answer.not_addressed_by:
        writer.writerow([_cell(speaker)] + [""] * (len(COLUMNS) - 1))
    return out.getvalue()
