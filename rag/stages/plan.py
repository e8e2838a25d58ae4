"""Plan stage: what to search for a question, and where.

Cleans the question, applies the filters, reads a follow-up against the conversation
(``rag.stages.conversation``), narrows the scope to statements the question names, and tells a
comparison ("How do the statements differ on …") from a plain question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rag.errors import InvalidQuestionError
from rag.models import Answer, Filters, Statement
from rag.stages.conversation import Resolution, resolve
from rag.store.catalog import Catalog

_COMPARE = re.compile(
    r"\b(differ\w*|difference\w*|compar\w*|contrast\w*|versus|vs\.?|disagree\w*|"
    r"each statement|both statements|the two statements)\b",
    re.IGNORECASE,
)
_COMPARE_LEAD = re.compile(
    r"^\s*(?:how|in what ways?|where|what)\s+(?:do|does|did)\s+(?:the\s+)?(?:two\s+|both\s+)?"
    r"(?:statements?|parties|organi[sz]ations)\s+(?:differ|compare|contrast|disagree|agree|say)"
    r"\w*\s*(?:on|about|over|regarding|in|with respect to|when it comes to)?\s*"
    r"|^\s*compare\s+(?:what\s+)?(?:the\s+)?(?:two\s+)?(?:statements?|parties)?\s*(?:say)?\s*"
    r"(?:on|about|regarding)?\s*",
    re.IGNORECASE,
)
# Control characters, invisible format characters (zero-width, bidi overrides that can
# make a question display as something else), and lone surrogates (undecodable bytes from
# argv/stdin/JSON), which no tokenizer accepts.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def clean_question(question: str, max_chars: int) -> str:
    """Normalised question text, or a clear error for an unusable one."""
    if not isinstance(question, str):
        raise InvalidQuestionError("The question must be text")
    if len(question) > max_chars:
        raise InvalidQuestionError(
            f"The question is too long ({len(question):,} characters; the limit is {max_chars:,})",
            hint="ask something shorter",
        )
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", question))
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        raise InvalidQuestionError("The question is empty", hint="type a question in words")
    return text


def compare_topic(question: str, retrieval_text: str, compare: bool | None) -> str | None:
    """The topic of a comparison, or None for a plain question.

    ``compare`` forces it on or off; None detects it from the wording.
    """
    if compare or (compare is None and _COMPARE.search(question)):
        return _COMPARE_LEAD.sub("", retrieval_text).strip(" ?.!") or question
    return None


@dataclass(frozen=True)
class Plan:
    """How one question is answered: its clean text, scope and follow-up reading."""

    question: str
    filters: Filters
    scope: list[Statement]  # the statements searched
    resolution: Resolution
    compare_topic: str | None  # None: a plain question
    narrowed: bool = False  # the question (or the conversation) narrowed the filters' scope

    @property
    def retrieval_text(self) -> str:
        return self.resolution.retrieval_text


class Planner:
    """Question, filters and history in; a ``Plan`` out (raises on an unusable question)."""

    def __init__(self, catalog: Catalog, max_question_chars: int) -> None:
        self.catalog = catalog
        self.max_question_chars = max_question_chars

    def run(
        self,
        question: str,
        filters: Filters,
        history: Sequence[Answer] = (),
        compare: bool | None = None,
    ) -> Plan:
        text = clean_question(question, self.max_question_chars)
        scope = self.catalog.scope(filters)
        resolution = resolve(text, history, scope)
        narrowed = False
        if resolution.scope is not None:
            kept = [s for s in scope if s.statement_id in resolution.scope]
            narrowed = bool(kept) and len(kept) < len(scope)
            scope = kept or scope
        topic = compare_topic(text, resolution.retrieval_text, compare)
        return Plan(text, filters, scope, resolution, topic, narrowed)
