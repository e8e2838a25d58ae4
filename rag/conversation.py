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

from rag.catalog import org_matches
from rag.models import Answer, Statement
from rag.sentences import content_terms

_FOLLOWUP_START = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about|what else|why|who said|how many|how much|"
    r"when|where|which one|is that|was that|did they|does it|do they)\b",
    re.IGNORECASE,
)
_ANAPHORA = frozenset(
    [
        "it",
        "its",
        "they",
        "them",
        "their",
        "that",
        "this",
        "those",
        "these",
        "he",
        "she",
        "him",
        "her",
        "his",
        "other",
        "same",
        "there",
    ]
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

    @property
    def is_followup(self) -> bool:
        return self.context_text is not None


def mentioned_statements(question: str, statements: Sequence[Statement]) -> list[str]:
    """Statements whose organization or author the question names (full name or initials)."""
    found = []
    words = _WORD.findall(question)
    upper_words = {w for w in words if w.isupper() and len(w) >= 2}
    lowered = question.lower()
    for s in statements:
        org, author = s.organization, s.author
        if (org and (org.lower() in lowered or any(org_matches(org, w) for w in upper_words))) or (
            author and author.lower() in lowered
        ):
            found.append(s.statement_id)
    return found


def _topic(answer: Answer) -> str:
    return answer.resolved_question or answer.question


def resolve(
    question: str, history: Sequence[Answer], statements: Sequence[Statement]
) -> Resolution:
    """Read ``question`` in the light of the last answer in ``history``."""
    if not history:
        return Resolution(question, question)
    previous = history[-1]
    words = {w.lower() for w in _WORD.findall(question)}
    terms = content_terms(question)
    followup = bool(_FOLLOWUP_START.match(question) or words & _ANAPHORA or len(terms) <= 2)
    if not followup:
        return Resolution(question, question)
    topic = _topic(previous)
    cited = list(dict.fromkeys(c.statement_id for c in previous.citations))
    if _OTHER.search(question):
        rest = _LEAD.sub("", _OTHER.sub("", question)).strip(" ?.!,")
        others = [s.statement_id for s in statements if s.statement_id not in cited]
        text = f"{topic} {rest}".strip() if len(content_terms(rest)) else topic
        return Resolution(question, text, context_text=topic, scope=others or None)
    named = mentioned_statements(question, statements)
    if named and len(terms) <= 3:
        return Resolution(question, topic, context_text=topic, scope=named)
    if _LEAD.match(question):
        rest = _LEAD.sub("", question).strip(" ?.!,")
        return Resolution(question, f"{rest} {topic}", context_text=topic, scope=named or None)
    return Resolution(
        question,
        question,
        context_text=topic,
        scope=named or None,
        boosts={sid: BOOST for sid in cited},
    )
