"""The eval cases (``evals/cases.yaml``) as typed, validated objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EVALS_DIR = Path(__file__).resolve().parent
CASES_PATH = EVALS_DIR / "cases.yaml"
BUNDLED_KINDS = (
    "fact",
    "paraphrase",
    "name_number",
    "both",
    "compare",
    "followup",
    "filtered",
    "unanswerable",
)
# Kinds of the development sets (evals/devsets/): ``speaker`` names a candidate whose quote
# must answer; ``off_topic`` is about nothing in the set; ``not_addressed`` sounds on-topic
# but the named speaker never says it; ``squad_*`` are SQuAD 2.0's own questions.
# ``positions`` asks where every speaker in scope stands (``positions`` lists each speaker
# who states one, with evidence; ``mentions`` those who only mention the topic);
# ``timeline`` asks what one speaker said on a topic over time (gold: every statement of
# theirs that addresses it).
DEVSET_KINDS = (
    "number",
    "speaker",
    "off_topic",
    "not_addressed",
    "positions",
    "timeline",
    "squad_answerable",
    "squad_unanswerable",
)
KINDS = BUNDLED_KINDS + DEVSET_KINDS
UNANSWERABLE_KINDS = frozenset({"unanswerable", "off_topic", "not_addressed", "squad_unanswerable"})
MULTI_STATEMENT_KINDS = frozenset({"both", "compare"})


class CaseFileError(ValueError):
    """The case file is malformed (the message names the case)."""


@dataclass(frozen=True)
class Gold:
    """Where a correct answer is: one statement, its paragraphs, and quotable evidence."""

    statement_id: str
    paragraphs: tuple[int, ...]
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Stance:
    """A speaker who states a position in a ``positions`` case, and where they state it."""

    speaker: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Expected:
    """How a follow-up must be understood: the speakers it is scoped to (none: all), and
    whether it takes the previous turn's topic; ``topic_terms`` must be in what it searched."""

    speakers: tuple[str, ...]
    carries_topic: bool
    topic_terms: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    """One question with what a correct answer must quote (nothing, when unanswerable)."""

    id: str
    kind: str
    question: str
    answerable: bool
    gold: tuple[Gold, ...] = ()
    history: tuple[str, ...] = ()
    filters: dict[str, Any] = field(default_factory=dict)
    compare: bool | None = None
    speaker: str | None = None
    absent: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    positions: tuple[Stance, ...] = ()
    mentions: tuple[str, ...] = ()
    resolution: Expected | None = None
    split: str | None = None  # "dev" or "test" when the file fixes it (see split_of)

    @property
    def evidence(self) -> tuple[str, ...]:
        return tuple(ev for g in self.gold for ev in g.evidence)

    @property
    def gold_paragraphs(self) -> frozenset[tuple[str, int]]:
        return frozenset((g.statement_id, n) for g in self.gold for n in g.paragraphs)

    @property
    def multi_statement(self) -> bool:
        """Cases whose answer must quote every gold statement."""
        return self.kind in MULTI_STATEMENT_KINDS and len(self.gold) > 1


def _gold(case_id: str, raw: dict[str, Any], paragraphs: bool = True) -> Gold:
    try:
        gold = Gold(
            statement_id=str(raw["statement_id"]),
            paragraphs=tuple(int(n) for n in raw.get("paragraphs") or ()),
            evidence=tuple(str(ev) for ev in raw["evidence"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CaseFileError(f"case {case_id}: malformed gold entry {raw!r}") from exc
    if (paragraphs and not gold.paragraphs) or not gold.evidence:
        raise CaseFileError(f"case {case_id}: gold needs paragraphs and evidence")
    return gold


def _case(raw: dict[str, Any], paragraphs: bool = True) -> Case:
    case_id = str(raw.get("id") or "")
    if not case_id:
        raise CaseFileError(f"a case has no id: {raw!r}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise CaseFileError(f"case {case_id}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    if not raw.get("question"):
        raise CaseFileError(f"case {case_id}: no question")
    gold = tuple(_gold(case_id, g, paragraphs) for g in raw.get("gold") or ())
    positions = tuple(_stance(case_id, p) for p in raw.get("positions") or ())
    answerable = bool(raw.get("answerable", True))
    if answerable != bool(gold or positions):
        raise CaseFileError(f"case {case_id}: answerable cases need gold, others must have none")
    if (kind == "positions") != bool(positions):
        raise CaseFileError(f"case {case_id}: positions cases (only) list positions")
    compare = raw.get("compare")
    return Case(
        id=case_id,
        kind=kind,
        question=str(raw["question"]),
        answerable=answerable,
        gold=gold,
        history=tuple(str(q) for q in raw.get("history") or ()),
        filters=dict(raw.get("filters") or {}),
        compare=None if compare is None else bool(compare),
        speaker=None if raw.get("speaker") is None else str(raw["speaker"]),
        absent=tuple(str(t) for t in raw.get("absent") or ()),
        positions=positions,
        mentions=tuple(str(m) for m in raw.get("mentions") or ()),
        resolution=_expected(case_id, raw["resolution"]) if raw.get("resolution") else None,
        split=_split(case_id, raw.get("split")),
    )


def _split(case_id: str, value: object) -> str | None:
    if value is None or value in ("dev", "test"):
        return value  # type: ignore[return-value]
    raise CaseFileError(f"case {case_id}: split must be dev or test, not {value!r}")


def _stance(case_id: str, raw: dict[str, Any]) -> Stance:
    try:
        stance = Stance(str(raw["speaker"]), tuple(str(ev) for ev in raw["evidence"]))
    except (KeyError, TypeError) as exc:
        raise CaseFileError(f"case {case_id}: malformed position {raw!r}") from exc
    if not stance.evidence:
        raise CaseFileError(f"case {case_id}: position of {stance.speaker} has no evidence")
    return stance


def _expected(case_id: str, raw: dict[str, Any]) -> Expected:
    try:
        return Expected(
            speakers=tuple(str(s) for s in raw.get("speakers") or ()),
            carries_topic=bool(raw["carries_topic"]),
            topic_terms=tuple(str(t).lower() for t in raw.get("topic_terms") or ()),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise CaseFileError(f"case {case_id}: malformed resolution {raw!r}") from exc


def load_cases(path: Path = CASES_PATH, paragraphs: bool = True) -> list[Case]:
    """All cases in file order; raises ``CaseFileError`` naming the first bad one.

    ``paragraphs=False`` (development sets): gold entries may omit their paragraph numbers;
    retrieval is then scored by evidence substring in the retrieved passages."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise CaseFileError(f"{path}: expected a list of cases")
    cases = [_case(item, paragraphs) for item in raw]
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise CaseFileError(f"case {case.id}: duplicate id")
        seen.add(case.id)
    return cases
