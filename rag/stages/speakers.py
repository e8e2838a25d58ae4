"""Who a question names: the authors and organizations of the statements in the store.

"What does Sanders say about…", "Sanders's plan", "Bernie Sanders", "the SWP": a question that
names a speaker is about that speaker's statements, and the name is who said it, not what
was said, so it never counts as evidence. Names are matched as whole words: an author by
full name or surname (with particles such as "de Blasio", and a possessive), an
organization by full name or initials (upper case, e.g. SWP).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.models import Statement

_PARTICLES = frozenset({"de", "del", "della", "der", "di", "da", "du", "la", "le", "van", "von"})
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_POSSESSIVE = r"(?:['’]s?)?"


@dataclass(frozen=True)
class Speaker:
    """One speaker named in a question: who, their statements, and the words that named them."""

    name: str  # the author or organization as stored
    kind: str  # "author" | "organization"
    statement_ids: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # where the question names them

    @property
    def first(self) -> int:
        return min(start for start, _ in self.spans)


def surname(author: str) -> str | None:
    """The family name of ``author`` ("Bill de Blasio" -> "de Blasio"), or None for a
    one-word name."""
    words = [w for w in author.split() if w.lower().strip(",") not in _SUFFIXES]
    if len(words) < 2:
        return None
    last = [words[-1]]
    i = len(words) - 2
    while i > 0 and words[i].lower() in _PARTICLES:
        last.insert(0, words[i])
        i -= 1
    return " ".join(last)


@lru_cache(maxsize=4096)
def _author_patterns(author: str) -> tuple[re.Pattern[str], ...]:
    """Full name (any case), surname with or without its particles (as capitalised)."""
    patterns = [re.compile(rf"\b{re.escape(author)}{_POSSESSIVE}(?!\w)", re.IGNORECASE)]
    words = [w for w in author.split() if w.lower().strip(",") not in _SUFFIXES]
    family = surname(author)
    if family and len(words) > len(family.split()) + 1:
        # "Lyndon Johnson" for Lyndon B. Johnson: the first name and the surname, which
        # tells him from Andrew Johnson where the surname alone cannot
        short = f"{words[0]} {family}"
        patterns.append(re.compile(rf"\b{re.escape(short)}{_POSSESSIVE}(?!\w)", re.IGNORECASE))
        # "LBJ", "FDR", "JFK": the initials of three or more names, in capitals
        initials = "".join(w[0] for w in words if w[:1].isalpha()).upper()
        if len(initials) >= 3:
            patterns.append(re.compile(rf"\b{initials}{_POSSESSIVE}(?!\w)"))
    if family:
        forms = {family, family.split()[-1]}
        for form in sorted(forms, key=len, reverse=True):
            if len(form) >= 3:
                patterns.append(re.compile(rf"(?<![\w-]){re.escape(form)}{_POSSESSIVE}(?![\w-])"))
    return tuple(patterns)


@lru_cache(maxsize=4096)
def _organization_patterns(organization: str) -> tuple[re.Pattern[str], ...]:
    """Full name (any case, optional "the") or initials in capitals ("the SWP")."""
    patterns = [
        re.compile(rf"\b(?:the\s+)?{re.escape(organization)}{_POSSESSIVE}(?!\w)", re.IGNORECASE)
    ]
    initials = "".join(w[0] for w in organization.split() if w[:1].isalpha())
    if len(initials) >= 2:
        patterns.append(
            re.compile(rf"\b(?:the\s+)?{re.escape(initials.upper())}{_POSSESSIVE}(?!\w)")
        )
    return tuple(patterns)


def _spans(question: str, patterns: Sequence[re.Pattern[str]]) -> list[tuple[int, int]]:
    return [m.span() for p in patterns for m in p.finditer(question)]


def _lowercase(question: str) -> bool:
    """A question typed all in lower case: surnames are matched case-insensitively too."""
    return not any(ch.isupper() for ch in question)


def find_speakers(question: str, statements: Sequence[Statement]) -> list[Speaker]:
    """The speakers ``question`` names, in the order it names them.

    A speaker whose name is part of a longer one that is also named (an organization
    "Democratic Party" inside a question naming "the Democratic Party of Texas") is
    dropped; an organization shared by every statement narrows nothing and is ignored.
    """
    text = question.lower() if _lowercase(question) else question
    by_author: dict[str, list[str]] = {}
    by_org: dict[str, list[str]] = {}
    for s in statements:
        if s.author:
            by_author.setdefault(s.author, []).append(s.statement_id)
        if s.organization:
            by_org.setdefault(s.organization, []).append(s.statement_id)
    found: list[Speaker] = []
    for author, ids in by_author.items():
        patterns = _author_patterns(author.lower() if text is not question else author)
        spans = _spans(text, patterns)
        if spans:
            found.append(Speaker(author, "author", tuple(ids), tuple(sorted(set(spans)))))
    for organization, ids in by_org.items():
        if len(ids) == len(statements) and len(by_org) == 1 and by_author:
            continue  # everyone's party: names no one in particular
        spans = _spans(question, _organization_patterns(organization))
        if spans:
            found.append(Speaker(organization, "organization", tuple(ids), tuple(sorted(spans))))
    found = [s for s in found if not _inside_longer(s, found)]
    return sorted(found, key=lambda s: s.first)


def _inside_longer(speaker: Speaker, others: Sequence[Speaker]) -> bool:
    """True when every span of ``speaker`` lies inside a longer span of another speaker."""

    def covered(span: tuple[int, int]) -> bool:
        return any(
            o is not speaker
            and any(
                a <= span[0] and span[1] <= b and (b - a) > (span[1] - span[0]) for a, b in o.spans
            )
            for o in others
        )

    return all(covered(span) for span in speaker.spans)


def without_names(question: str, speakers: Sequence[Speaker]) -> str:
    """The question with the speakers' names blanked out (for keyword terms)."""
    chars = list(question)
    for speaker in speakers:
        for start, end in speaker.spans:
            chars[start:end] = " " * (end - start)
    return " ".join("".join(chars).split())
