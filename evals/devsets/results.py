"""What one development-set case did: the quotes, passages and scores it was given.

Plain records, shared by the runner (``evals.devsets.run``) that fills them and the
scoring (``evals.devsets.scoring``) that judges them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Shown:
    """A quote (or passage) as the system showed it."""

    statement_id: str
    paragraph: int
    start: int
    end: int
    text: str
    score: float
    exact: bool = True
    evidence: bool = False


@dataclass
class DevResult:
    """One case of a development set: what the system did and how it scores."""

    set: str
    id: str
    kind: str
    split: str
    question: str
    answerable: bool
    abstained: bool
    resolved_question: str | None
    quotes: list[Shown]
    nearest: list[Shown]
    retrieved: list[Shown]
    latency_ms: float
    quotes_exact: int = 0
    quotes_total: int = 0
    retrieval_rank: int | None = None  # first rank at which the evidence was retrieved
    evidence_at_1: bool | None = None
    evidence_at_3: bool | None = None
    stage: str | None = None  # where a failed case was lost (see scoring.STAGES)
    scope_speakers: list[str] = field(default_factory=list)  # the answer was narrowed to
    speaker_expected: int = 0  # positions: speakers who state a position
    speaker_hits: int = 0  # positions: of those, rows that show their evidence
    rows: int = 0  # positions: speakers with a quote
    rows_relevant: int = 0  # positions: of those, speakers who address the topic
    both_sides: bool | None = None  # compare: every compared speaker quoted with evidence
    timeline_ok: bool | None = None  # timeline: >= 2 dated statements, own, in date order
    resolution_ok: bool | None = None  # followup: scope and topic understood as expected
    merged: bool | None = None  # followup: a standalone question took the previous topic
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.stage is not None

    def record(self) -> dict[str, Any]:
        """A JSON-ready row (the ``dump`` format: features for fitting a model)."""

        def shown(items: list[Shown]) -> list[dict[str, Any]]:
            return [vars(s) for s in items]

        return {
            "set": self.set,
            "id": self.id,
            "kind": self.kind,
            "split": self.split,
            "question": self.question,
            "resolved_question": self.resolved_question,
            "answerable": self.answerable,
            "abstained": self.abstained,
            "latency_ms": self.latency_ms,
            "retrieval_rank": self.retrieval_rank,
            "evidence_at_1": self.evidence_at_1,
            "evidence_at_3": self.evidence_at_3,
            "stage": self.stage,
            "scope_speakers": self.scope_speakers,
            "speaker_expected": self.speaker_expected,
            "speaker_hits": self.speaker_hits,
            "rows": self.rows,
            "rows_relevant": self.rows_relevant,
            "both_sides": self.both_sides,
            "timeline_ok": self.timeline_ok,
            "resolution_ok": self.resolution_ok,
            "merged": self.merged,
            "quotes": shown(self.quotes),
            "nearest": shown(self.nearest),
            "retrieved": shown(self.retrieved),
            **self.details,
        }
