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

from rag.models import Answer, Statement
from rag.sentences import content_terms
from rag.stages.rewrite import topic_of
from rag.stages.speakers import Speaker, find_speakers, without_names

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
    r"\b(?:the\s+)?other\s+(?:statement|one|party|organi[sz]ation|group|text|side|document|"
    r"candidate|speaker|person|speech)s?\b",
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


def _names_removed(question: str, speakers: Sequence[Speaker]) -> str:
    """The topic: without a frame such as "What does <speaker> say about". A question
    about the speaker themselves ("What office was Naomi Craine running for?") keeps the
    name for the embedding; its words are never keyword evidence (``ignore_terms``)."""
    if not speakers:
        return question
    blanked = " ".join(without_names(question, speakers).split())
    topic = topic_of(blanked)
    return topic if topic != blanked else question


def _topic(answer: Answer, statements: Sequence[Statement]) -> str:
    """What the previous turn was about: its topic without the speakers it named."""
    question = answer.resolved_question or answer.question
    return _names_removed(question, find_speakers(question, statements))


_ENTITY = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'’-]+")


def _without_entities(text: str) -> str:
    """``text`` without its capitalised names (a new name replaces them)."""
    return " ".join(_ENTITY.sub(" ", text).split())


def resolve(
    question: str, history: Sequence[Answer], statements: Sequence[Statement]
) -> Resolution:
    """Read ``question`` in the light of the last answer in ``history``."""
    speakers = find_speakers(question, statements)
    named = list(dict.fromkeys(sid for s in speakers for sid in s.statement_ids))
    narrowed = named if named and len(named) < len(statements) else None
    ignore = frozenset(
        t for s in speakers for a, b in s.spans for t in content_terms(question[a:b])
    )
    topic_here = _names_removed(question, speakers)
    if not history:
        return Resolution(question, topic_here, scope=narrowed, ignore_terms=ignore)
    previous = history[-1]
    terms = [t for t in content_terms(topic_here) if t not in ignore]
    names = [w for w in _WORD.findall(topic_here)[1:] if w[0].isupper()]
    short = len(terms) <= 2 and not names  # "How many were killed?" but not "What is Hezbollah?"
    followup = bool(_FOLLOWUP_START.match(question) or _ANAPHORA.search(question) or short)
    if not followup:
        return Resolution(question, topic_here, scope=narrowed, ignore_terms=ignore)
    topic = _topic(previous, statements)
    cited = list(dict.fromkeys(c.statement_id for c in previous.citations))
    if _OTHER.search(question):
        rest = _LEAD.sub("", _OTHER.sub("", topic_here)).strip(" ?.!,")
        others = [s.statement_id for s in statements if s.statement_id not in cited]
        text = f"{topic} {rest}".strip() if len(content_terms(rest)) else topic
        return Resolution(question, text, context_text=topic, scope=others or None)
    if named and len(terms) <= 1:
        return Resolution(question, topic, context_text=topic, scope=named, ignore_terms=ignore)
    if _LEAD.match(question):
        rest = _LEAD.sub("", without_names(question, speakers)).strip(" ?.!,")
        base = _without_entities(topic) if _ENTITY.search(" " + rest) else topic
        return Resolution(
            question,
            f"{rest} {base}".strip(),
            context_text=topic,
            scope=narrowed,
            ignore_terms=ignore,
        )
    return Resolution(
        question,
        topic_here,
        context_text=topic,
        scope=narrowed,
        boosts={sid: BOOST for sid in cited},
        ignore_terms=ignore,
    )
