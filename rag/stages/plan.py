"""Plan stage: what to search for a question, and where.

Cleans the question, applies the filters, reads a follow-up against the conversation
(``rag.stages.conversation``), narrows the scope to statements the question names, and
reads which answer it asks for (``rag.stages.intent``): quotes that answer it, named
speakers compared, every speaker's position, or one speaker's timeline. The speakers of
a grouped answer (``sides``) are the speakers in scope with their statements.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import cast

from rag.dates import overlaps
from rag.errors import InvalidQuestionError
from rag.models import Answer, Filters, Statement
from rag.stages.conversation import Resolution, resolve
from rag.stages.intent import MODES, Intent, Mode, read_intent
from rag.stages.sides import COMPARE_MAX_SPEAKERS, SpeakerScope, speakers_of
from rag.stages.speakers import Speaker, find_speakers
from rag.store.catalog import Catalog, org_matches

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


@dataclass(frozen=True)
class Plan:
    """How one question is answered: its clean text, scope and follow-up reading."""

    question: str
    filters: Filters
    scope: list[Statement]  # the statements searched
    resolution: Resolution
    compare_topic: str | None  # compare mode: the topic; None otherwise
    narrowed: bool = False  # the question (or the conversation) narrowed the filters' scope
    intent: Intent | None = None  # None: a plain question (mode "answer")
    sides: tuple[SpeakerScope, ...] = ()  # compare, positions, timeline: the speakers

    @property
    def retrieval_text(self) -> str:
        if self.intent is not None and self.intent.mode != "answer":
            return self.intent.topic
        return self.resolution.retrieval_text

    @property
    def mode(self) -> Mode:
        return self.intent.mode if self.intent is not None else "answer"


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
        mode: Mode | None = None,
    ) -> Plan:
        """``mode`` forces an answer mode (the UI's controls); ``compare`` is the older
        switch (True: compare, False: a plain answer; None: read from the question)."""
        text = clean_question(question, self.max_question_chars)
        scope = self.catalog.scope(filters)
        speakers = find_speakers(text, scope)
        resolution = resolve(text, history, scope, speakers)
        forced = mode or ("compare" if compare else "answer" if compare is False else None)
        if forced is None and resolution.mode in MODES:
            forced = cast(Mode, resolution.mode)  # "And Clinton?" after a timeline
        intent = read_intent(text, speakers, forced)
        if resolution.carried_topic and intent.mode != "answer":
            intent = replace(intent, topic=resolution.retrieval_text)
        if intent.mode == "answer":
            narrowed = False
            if resolution.scope is not None:
                kept = [s for s in scope if s.statement_id in resolution.scope]
                narrowed = bool(kept) and len(kept) < len(scope)
                scope = kept or scope
            return Plan(text, filters, scope, resolution, None, narrowed)
        return self._grouped(text, filters, scope, resolution, speakers, intent)

    def _grouped(
        self,
        text: str,
        filters: Filters,
        scope: list[Statement],
        resolution: Resolution,
        speakers: Sequence[Speaker],
        intent: Intent,
    ) -> Plan:
        """A compare, positions or timeline plan: the scope by dates and party, and the
        speakers answered for."""
        full = len(scope)
        if intent.since or intent.until:
            scope = [s for s in scope if overlaps(s.date, intent.since, intent.until)] or scope
        if intent.party and any(org_matches(s.organization, intent.party) for s in scope):
            scope = [s for s in scope if org_matches(s.organization, intent.party)]
        authors = [s for s in speakers if s.kind == "author"] or list(speakers)
        named = [self._side(s, scope) for s in authors]
        named = [side for side in named if side.statements]
        sides: list[SpeakerScope] = speakers_of(scope)
        if intent.mode == "timeline":
            ambiguous = [  # a name that fits several speakers of the store
                text[a:b]
                for a, b in {span for s in authors for span in s.spans}
                if sum((a, b) in s.spans for s in authors) > 1
            ]
            if ambiguous and len(named) > 1:
                raise InvalidQuestionError(
                    f"“{ambiguous[0]}” fits more than one speaker: "
                    + "; ".join(side.speaker for side in named),
                    hint="ask again with the full name",
                )
            if len(named) != 1 and len(sides) != 1:
                raise InvalidQuestionError(
                    "A timeline follows one speaker",
                    hint="name one in the question, or choose an author in the filters",
                )
            sides = named or sides
            scope = list(sides[0].statements)
        elif intent.mode == "compare" and len(named) >= 2:
            sides = named
            scope = [s for side in sides for s in side.statements]
        elif intent.mode == "compare" and len(sides) > COMPARE_MAX_SPEAKERS:
            intent = replace(intent, mode="positions")  # too many columns: a table
        narrowed = len(scope) < full
        compare = intent.topic if intent.mode == "compare" else None
        return Plan(text, filters, scope, resolution, compare, narrowed, intent, tuple(sides))

    @staticmethod
    def _side(speaker: Speaker, scope: Sequence[Statement]) -> SpeakerScope:
        ids = set(speaker.statement_ids)
        statements = tuple(s for s in scope if s.statement_id in ids)
        first = statements[0] if statements else None
        return SpeakerScope(
            speaker.name,
            first.author if first else None,
            first.organization if first else None,
            statements,
        )
