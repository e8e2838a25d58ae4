"""Verify stage: the one check every shown quote passes, for extractive and LLM answers.

A quote is shown only as a ``Citation`` made by ``cite``, which checks that the quote is
exactly ``text[start:end]`` of its statement's clean text. ``SourceText`` finds where a
loosely written quote (an LLM's: other whitespace or quote-mark styles) sits in a text,
so that the exact substring, not the model's words, is what gets cited.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left

from rag.models import Citation, Statement

logger = logging.getLogger(__name__)

QUOTE_MARKS = str.maketrans({c: '"' for c in "“”„‟″«»"} | {c: "'" for c in "‘’‚‛′"})
_WORD = re.compile(r"\w")


def verify(text: str | None, start: int, end: int, quote: str) -> bool:
    """The one check every shown quote passes: it is exactly ``text[start:end]``."""
    ok = (
        text is not None
        and 0 <= start < end <= len(text)
        and bool(quote.strip())
        and text[start:end] == quote
    )
    if not ok:
        logger.error("dropped a quote that is not verbatim at [%d:%d]: %r", start, end, quote[:80])
    return ok


def cite(
    n: int,
    statement: Statement,
    text: str | None,
    paragraph: int,
    start: int,
    end: int,
    quote: str,
    score: float = 0.0,
) -> Citation | None:
    """Citation ``[n]`` of ``quote`` in ``statement`` (clean ``text``), or None if not verbatim."""
    if text is None or not verify(text, start, end, quote):
        return None
    return Citation.of(n, statement, paragraph, start, end, quote, score)


def normalise(text: str) -> str:
    """Whitespace runs as one space, curly and other quote marks as straight ones."""
    return " ".join(text.translate(QUOTE_MARKS).split())


class SourceText:
    """A statement's clean text, normalised for matching, with a map back to offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        chars: list[str] = []
        self.index: list[int] = []
        previous_space = False
        for i, ch in enumerate(text):
            space = ch.isspace()
            if not (space and previous_space):
                chars.append(" " if space else ch.translate(QUOTE_MARKS))
                self.index.append(i)
            previous_space = space
        self.norm = "".join(chars)

    def find(
        self, quote: str, lo: int | None = None, hi: int | None = None
    ) -> tuple[int, int] | None:
        """Exact ``(start, end)`` of the first whole-word occurrence, within ``[lo, hi)``."""
        q = normalise(quote)
        if not q:
            return None
        a = 0 if lo is None else bisect_left(self.index, lo)
        b = len(self.norm) if hi is None else bisect_left(self.index, hi)
        i = self.norm.find(q, a, b)
        while i >= 0:
            start, end = self.index[i], self.index[i + len(q) - 1] + 1
            before = self.text[start - 1] if start > 0 else " "
            after = self.text[end] if end < len(self.text) else " "
            if not (_WORD.match(q[0]) and _WORD.match(before)) and not (
                _WORD.match(q[-1]) and _WORD.match(after)
            ):
                return start, end
            i = self.norm.find(q, i + 1, b)
        return None
