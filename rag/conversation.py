"""Follow-up questions without an LLM.

A short or anaphoric question ("How many were killed?", "And what about the other
statement?", "What does the SEP say?") is read against the previous turn: its topic is
carried over, "the other statement" excludes what was cited, a named organization narrows
the scope, and otherwise the statements just cited are preferred.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rag.models import Answer, Statement
from rag.sentences import content_terms

_FOLLOWUP_START = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about|what else|who said|which one|is that|"
    r"was that|did they|does it|do they)\b",
    re.IGNORECASE,
)
# Words that point back at the previous turn. "that/this/there" only count at the end
# ("Who said that?"), since "the claim that …" is no reference to anything.
_ANAPHORA = re.compile(
    r"\b(it|its|they|them|their|he|she|him|her|his|those|these|same)\b"
    r"|\b(that|this|there|then)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_OTHER = re.compile(
    r"\b(?:the\s+)?other\s+(?:statement|one|party|organi[sz]ation|group|text|side|document)s?\b",
    re.IGNORECASE,
)
_LEAD = re.compile(r"^\s*(?:and|but|also|so|then)?\s*(?:what|how)\s+about\s+", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
BOOST = 0.05


@dataclass(frozen=True)
class Resolution:
    """How a question is to be searched, given the conversation so far."""

    question: str
    retrieval_text: str
    context_text: str | None = None  # the carried-over topic, scored with less weight
    scope: list[str] | None = None  # restrict to these statement ids
    boosts: dict[str, float] = field(default_factory=dict)
    # words that name who said it ("SEP"): they choose statements, they are not the topic,
    # so keyword scoring ignores them (otherwise every sentence saying "SEP" would win)
    ignore_terms: frozenset[str] = frozenset()


@lru_cache(maxsize=4096)
def _org_patterns(organization: str | None) -> tuple[re.Pattern[str], ...]:
    """Ways a question names an organization: full name or initials (upper case, e.g.
    SWP); possessive 's included. Compiled once per organization."""
    if not organization:
        return ()
    patterns = [re.compile(rf"\b(?:the\s+)?{re.escape(organization)}(?:['’]s)?\b", re.I)]
    initials = "".join(w[0] for w in organization.split() if w[:1].isalpha())
    if len(initials) >= 2:
        patterns.append(re.compile(rf"\b(?:the\s+)?{re.escape(initials.upper())}(?:['’]s)?\b"))
    return tuple(patterns)


@lru_cache(maxsize=4096)
def _author_pattern(author: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(author)}\b", re.I)


def _mentions(question: str, organization: str | None, author: str | None) -> bool:
    if any(p.search(question) for p in _org_patterns(organization)):
        return True
    return bool(author and _author_pattern(author).search(question))


def mentioned_statements(question: str, statements: Sequence[Statement]) -> list[str]:
    """Statements whose organization (full name or initials) or author the question names."""
    seen: dict[tuple[str | None, str | None], bool] = {}  # thousands of statements, few names
    named = []
    for s in statements:
        key = (s.organization, s.author)
        if key not in seen:
            seen[key] = _mentions(question, *key)
        if seen[key]:
            named.append(s.statement_id)
    return named


def organization_terms(question: str, statements: Sequence[Statement]) -> frozenset[str]:
    """Keyword terms of the organization names the question uses."""
    terms: set[str] = set()
    for organization in dict.fromkeys(s.organization for s in statements):
        for pattern in _org_patterns(organization):
            for match in pattern.finditer(question):
                terms.update(content_terms(match.group()))
    return frozenset(terms)


def _topic(answer: Answer) -> str:
    return answer.resolved_question or answer.question


def resolve(
    question: str, history: Sequence[Answer], statements: Sequence[Statement]
) -> Resolution:
    """Read ``question`` in the light of the last answer in ``history``."""
    named = mentioned_statements(question, statements)
    narrowed = named if named and len(named) < len(statements) else None
    ignore = organization_terms(question, statements) if named else frozenset()
    if not history:
        return Resolution(question, question, scope=narrowed, ignore_terms=ignore)
    previous = history[-1]
    terms = [t for t in content_terms(question) if t not in ignore]
    names = [w for w in _WORD.findall(question)[1:] if w[0].isupper()]
    short = len(terms) <= 2 and not names  # "How many were killed?" but not "What is Hezbollah?"
    followup = bool(_FOLLOWUP_START.match(question) or _ANAPHORA.search(question) or short)
    if not followup:
        return Resolution(question, question, scope=narrowed, ignore_terms=ignore)
    topic = _topic(previous)
    cited = list(dict.fromkeys(c.statement_id for c in previous.citations))
    if _OTHER.search(question):
        rest = _LEAD.sub("", _OTHER.sub("", question)).strip(" ?.!,")
        others = [s.statement_id for s in statements if s.statement_id not in cited]
        text = f"{topic} {rest}".strip() if len(content_terms(rest)) else topic
        return Resolution(question, text, context_text=topic, scope=others or None)
    if named and len(terms) <= 1:
        return Resolution(question, topic, context_text=topic, scope=named, ignore_terms=ignore)
    if _LEAD.match(question):
        rest = _LEAD.sub("", question).strip(" ?.!,")
        return Resolution(
            question, f"{rest} {topic}", context_text=topic, scope=narrowed, ignore_terms=ignore
        )
    return Resolution(
        question,
        question,
        context_text=topic,
        scope=narrowed,
        boosts={sid: BOOST for sid in cited},
        ignore_terms=ignore,
    )
