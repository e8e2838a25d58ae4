"""Typed objects that flow between ingest, the store, the answerer and the faces.

Nothing here renders: the CLI and the UI turn these into text or HTML.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


def speaker_label(
    author: str | None, organization: str | None, fallback: str, date: str | None
) -> str:
    """Who said it and when: the person and their organization when both are known (many
    speakers share one party), else whichever is known, else ``fallback``."""
    who = ", ".join(p for p in (author, organization) if p) or fallback
    return f"{who}, {date}" if date else who


class StatementMeta(BaseModel):
    """What is known about a statement besides its text. Missing stays ``None``."""

    organization: str | None = None
    author: str | None = None
    date: str | None = None
    title: str | None = None
    source: str | None = None


class Statement(StatementMeta):
    """A statement as stored: metadata, and (when asked for) its clean text."""

    statement_id: str
    source: str  # type: ignore[assignment]  # always set: the file name when nothing better
    path: str | None = None
    content_hash: str
    passages: int = 0
    text: str | None = None
    # what ingest recognises a copy or a move by, wherever it comes from (issue 21):
    file_hash: str | None = None  # of the file's bytes
    text_hash: str | None = None  # of the clean text

    @property
    def speaker(self) -> str | None:
        """Who said it: the author, else the organization."""
        return self.author or self.organization

    @property
    def label(self) -> str:
        """Who said it and when, e.g. ``Naomi Craine, Socialist Workers Party, 2020-01-03``."""
        return speaker_label(
            self.author, self.organization, self.title or self.statement_id, self.date
        )


class Passage(BaseModel):
    """A paragraph (or part of a long one) of a statement's clean text."""

    model_config = ConfigDict(frozen=True)

    passage_id: str
    statement_id: str
    paragraph: int = Field(description="1-based paragraph number in the clean text")
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...] = Field(
        default=(), description="Sentence spans inside the passage, as offsets into the clean text"
    )


class Filters(BaseModel):
    """Restrict which statements a question is answered from."""

    statement_ids: list[str] = Field(default_factory=list)
    organization: str | None = None
    author: str | None = None
    since: str | None = None
    until: str | None = None


class Citation(BaseModel):
    """One verbatim quote: ``statement.text[start:end] == quote`` is checked before use."""

    n: int
    statement_id: str
    source: str
    title: str | None = None
    organization: str | None = None
    author: str | None = None
    date: str | None = None
    paragraph: int
    start: int
    end: int
    quote: str
    score: float = 0.0

    @property
    def speaker(self) -> str | None:
        """Who said it: the author, else the organization."""
        return self.author or self.organization

    @property
    def label(self) -> str:
        return speaker_label(
            self.author, self.organization, self.title or self.statement_id, self.date
        )

    @classmethod
    def of(
        cls,
        n: int,
        statement: Statement,
        paragraph: int,
        start: int,
        end: int,
        quote: str,
        score: float = 0.0,
    ) -> Citation:
        """A citation of ``statement`` (its metadata copied in)."""
        return cls(
            n=n,
            statement_id=statement.statement_id,
            source=statement.source,
            title=statement.title,
            organization=statement.organization,
            author=statement.author,
            date=statement.date,
            paragraph=paragraph,
            start=start,
            end=end,
            quote=quote,
            score=score,
        )


class StatementRef(BaseModel):
    """A statement mentioned in an answer without a quote (e.g. "does not address this")."""

    statement_id: str
    label: str
    title: str | None = None


class QuoteGroup(BaseModel):
    """The quotes of one statement, in answer order (compare mode: one column each)."""

    statement_id: str
    label: str = Field(description="Short: who said it and when")
    title: str | None = None
    citations: list[int] = Field(default_factory=list, description="The [n] of its quotes")


class SpeakerQuotes(BaseModel):
    """One speaker's quotes in a comparison or a positions table (a row, or a column)."""

    speaker: str = Field(description="The author, else the organization")
    author: str | None = None
    organization: str | None = None
    citations: list[int] = Field(default_factory=list, description="The [n] of its quotes")
    statements: int = Field(default=0, description="That speaker's statements searched")


class TimelineEntry(BaseModel):
    """One statement of a timeline: its date and the [n] of its quotes, in text order."""

    statement_id: str
    date: str | None = None
    label: str
    title: str | None = None
    citations: list[int] = Field(default_factory=list)


class Segment(BaseModel):
    """A piece of generated (LLM) prose and the citations it refers to."""

    text: str
    refs: list[int] = Field(default_factory=list)


class Answer(BaseModel):
    """The result of a question: quotes with numbered citations, or an abstention."""

    question: str
    abstained: bool
    answer: str = Field(description="Readable plain text with inline [n] markers")
    citations: list[Citation] = Field(default_factory=list)
    nearest: list[Citation] = Field(
        default_factory=list,
        description="When abstaining: the closest passages, clearly not an answer",
    )
    compare: bool = False
    mode: Literal["answer", "compare", "positions", "timeline"] = Field(
        default="answer",
        description="answer: one question; compare: named speakers side by side; positions: "
        "every speaker in scope; timeline: one speaker's statements in date order",
    )
    not_addressed: list[StatementRef] = Field(
        default_factory=list, description="Statements (in scope) that do not address the question"
    )
    positions: list[SpeakerQuotes] = Field(
        default_factory=list, description="compare and positions: one entry per speaker quoted"
    )
    not_addressed_by: list[str] = Field(
        default_factory=list,
        description="compare and positions: speakers in scope none of whose statements "
        "addresses the topic",
    )
    timeline: list[TimelineEntry] = Field(
        default_factory=list, description="timeline: the speaker's statements in date order"
    )
    resolved_question: str | None = Field(
        default=None, description="How a follow-up was understood, when it differs"
    )
    filters: Filters = Field(default_factory=Filters)
    groups: list[QuoteGroup] = Field(
        default_factory=list, description="The citations grouped per statement, in order"
    )
    topic: str | None = Field(default=None, description="Compare mode: the topic compared")
    scope: str | None = Field(
        default=None, description="What was searched, e.g. 'all 20 statements' or a speaker"
    )
    speakers: list[str] = Field(
        default_factory=list,
        description="The speakers the question (or the conversation) narrowed it to; "
        "empty when it searched every statement the filters allow",
    )
    segments: list[Segment] = Field(
        default_factory=list, description="Generated answers: the prose, piece by piece"
    )
    notice: str | None = Field(default=None, description="One-line note, e.g. an LLM fallback")
    generated: bool = Field(default=False, description="True when an LLM wrote the answer text")
    unverified: list[str] = Field(
        default_factory=list, description="LLM-written quotes that are not verbatim (not shown)"
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)

    def to_json_dict(self) -> dict[str, object]:
        """The ``rag ask --json`` contract (``positions`` and ``timeline`` in those modes)."""
        by_n = {c.n: c for c in self.citations}
        data: dict[str, object] = {
            "question": self.question,
            "abstained": self.abstained,
            "answer": self.answer,
            "mode": self.mode,
            "citations": [_citation_json(c) for c in self.citations],
        }
        if self.mode in ("compare", "positions"):
            data["positions"] = [
                {
                    "speaker": p.speaker,
                    "author": p.author,
                    "organization": p.organization,
                    "quotes": [_citation_json(by_n[n]) for n in p.citations if n in by_n],
                }
                for p in self.positions
            ]
            data["not_addressed_by"] = list(self.not_addressed_by)
        if self.mode == "timeline":
            data["timeline"] = [
                {
                    "statement_id": t.statement_id,
                    "date": t.date,
                    "title": t.title,
                    "quotes": [_citation_json(by_n[n]) for n in t.citations if n in by_n],
                }
                for t in self.timeline
            ]
        return data


def _citation_json(c: Citation) -> dict[str, object]:
    return {
        "n": c.n,
        "statement_id": c.statement_id,
        "source": c.source,
        "title": c.title,
        "speaker": c.speaker,
        "author": c.author,
        "organization": c.organization,
        "date": c.date,
        "paragraph": c.paragraph,
        "start": c.start,
        "end": c.end,
        "quote": c.quote,
    }


# Streaming events -----------------------------------------------------------------


class RetrievalEvent(BaseModel):
    type: Literal["retrieval"] = "retrieval"
    passages: int
    statement_ids: list[str]


class CitationEvent(BaseModel):
    type: Literal["citation"] = "citation"
    citation: Citation


class TextEvent(BaseModel):
    type: Literal["text"] = "text"
    text: str


class DoneEvent(BaseModel):
    type: Literal["done"] = "done"
    answer: Answer


AnswerEvent = Annotated[
    RetrievalEvent | CitationEvent | TextEvent | DoneEvent, Field(discriminator="type")
]
