"""Sentence boundaries as character spans, and the word tokens used for keyword scoring.

A small rule-based splitter: it runs at ingest over every paragraph, so it must be fast
(pysbd is accurate but ~50x slower and unmaintained) and it must never lose a character:
the spans of a paragraph cover all of its non-space text.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Sentence-final punctuation, optional closing quotes/brackets, whitespace, then
# something that can start a sentence (capital, digit, opening quote or bracket).
# Linear in the text: a match only starts at the first mark of a run (the lookbehind),
# and possessive runs never backtrack (80 KB of "." took 167 s before).
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]++[\"'”’)\]]*+(?=\s++[\"“‘'(\[]*+[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "gov",
        "sen",
        "rep",
        "pres",
        "rev",
        "hon",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "no",
        "nos",
        "vs",
        "etc",
        "al",
        "inc",
        "ltd",
        "co",
        "corp",
        "dept",
        "est",
        "approx",
        "fig",
        "e.g",
        "i.e",
        "u.s",
        "u.k",
        "u.n",
        "u.s.a",
        "p.m",
        "a.m",
    ]
)
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)*[A-Za-z]$")


def _is_abbreviation(text: str, dot: int, start: int = 0) -> bool:
    """True when the period at ``dot`` ends an abbreviation, not a sentence."""
    i = dot  # back over the word (\w or ".") before the period, never before ``start``
    while i > start and (text[i - 1] == "." or text[i - 1] == "_" or text[i - 1].isalnum()):
        i -= 1
    word = text[i:dot].rstrip(".")
    if not word:
        return False
    return word.lower() in _ABBREVIATIONS or bool(_INITIALS.match(word))


# Longer runs without a sentence break are split (see _cap). Well above real sentences
# (a 1,773-char run-on stays whole), far below a hostile paragraph's megabyte.
MAX_SENTENCE_CHARS = 2000
_CLAUSE_END = re.compile(r"[,;:–—)\]](?=\s)")
_SPACE = re.compile(r"\s+")


def split_sentences(
    text: str, start: int = 0, end: int | None = None, max_chars: int = MAX_SENTENCE_CHARS
) -> list[tuple[int, int]]:
    """Spans ``(s, e)`` of the sentences in ``text[start:end]``, trimmed of whitespace.

    Offsets are into ``text``; joined, the spans cover every non-space character. A
    sentence longer than ``max_chars`` (a paragraph with no sentence breaks became a
    1.24 MB quote) is split at a clause break, else between words, else hard.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        stop = match.end()
        single_period = text[match.start()] == "." and match.group().count(".") == 1
        if single_period and _is_abbreviation(text, match.start(), start):
            continue
        spans.append((cursor, stop))
        cursor = stop
    spans.append((cursor, end))
    trimmed: list[tuple[int, int]] = []
    for s, e in spans:
        s, e = _trim(text, s, e)
        if e > s:
            trimmed.extend(_cap(text, s, e, max_chars) if e - s > max_chars else [(s, e)])
    return trimmed


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _cap(text: str, s: int, e: int, max_chars: int) -> list[tuple[int, int]]:
    """``text[s:e]`` in pieces of at most ``max_chars``. Each cut is looked for only in the
    second half of its window, so every piece is over half the limit: linear overall."""
    pieces: list[tuple[int, int]] = []
    while e - s > max_chars:
        lo, hi = s + max_chars // 2, s + max_chars
        cut = _last_end(_CLAUSE_END, text, lo, hi) or _last_start(_SPACE, text, lo, hi) or hi
        piece = _trim(text, s, cut)
        if piece[1] > piece[0]:
            pieces.append(piece)
        s = _trim(text, cut, e)[0]
    if e > s:
        pieces.append((s, e))
    return pieces


def _last_end(pattern: re.Pattern[str], text: str, lo: int, hi: int) -> int | None:
    last = None
    for match in pattern.finditer(text, lo, hi):
        last = match.end()
    return last


def _last_start(pattern: re.Pattern[str], text: str, lo: int, hi: int) -> int | None:
    last = None
    for match in pattern.finditer(text, lo, hi):
        last = match.start()
    return last if last and last > lo else None


_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "said",
        "same",
        "say",
        "says",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "statement",
        "statements",
        "tell",
        "think",
        "thinks",
        "party",
        "parties",
        "according",
    ]
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer, a C extension: fast and the same one bm25s uses

    return Stemmer.Stemmer("english")


def stem(words: list[str]) -> list[str]:
    return list(_stemmer().stemWords(words))


def content_terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words (stopwords removed): the keyword vocabulary."""
    words = [w.lower().replace("’", "'") for w in _TOKEN.findall(text)]
    words = [w[:-2] if w.endswith("'s") else w for w in words]
    return stem([w for w in words if w not in STOPWORDS])
