"""Scores of the questions whose unit is a speaker: positions, timelines, comparisons per
speaker, and how a follow-up was understood. Pure functions over recorded results.

Matching rules (documented in evals/reports/devsets.md too):
- A speaker is a statement's author, else its organization. A quote shows a speaker's
  evidence when it overlaps an evidence string located in one of that speaker's statements
  by at least half of the shorter of the two.
- positions: a row is a speaker with at least one quote. Speaker recall = expected speakers
  whose row shows their evidence / expected speakers; speaker precision = rows of speakers
  who address the topic (a position or a mention) / rows. Both are summed over the cases.
- compare: both sides quoted = every compared speaker has a quote that shows the evidence
  of one of their gold statements.
- timeline: right when the quotes come from at least two dated statements, all of the
  asked speaker, in date order, and at least one shows the evidence.
- followup: resolution right when the answer was scoped to exactly the expected speakers
  (none: not narrowed) and what it searched holds every topic term; a standalone question
  is merged when what it searched holds a topic word of the previous question that the
  question itself does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from evals.cases import Case
from evals.devsets.results import DevResult, Shown
from evals.devsets.scoring import rules_of
from rag.sentences import content_terms


@dataclass(frozen=True)
class Speech:
    """What the scoring needs to know of a statement."""

    speaker: str | None
    date: str | None


Spans = dict[str, list[tuple[int, int]]]  # statement id -> evidence spans


def locate_evidence(
    evidence: Sequence[str], statement_ids: Sequence[str], text_of: Callable[[str], str]
) -> Spans:
    spans: Spans = {}
    for sid in statement_ids:
        text = text_of(sid)
        found = [(i, i + len(ev)) for ev in evidence if (i := text.find(ev)) >= 0]
        if found:
            spans[sid] = found
    return spans


def shows(quote: Shown, spans: Spans) -> bool:
    """``quote`` overlaps one of ``spans`` by at least half of the shorter of the two."""
    for start, end in spans.get(quote.statement_id, ()):
        overlap = min(end, quote.end) - max(start, quote.start)
        if overlap > 0 and overlap * 2 >= min(end - start, quote.end - quote.start):
            return True
    return False


def _rows(quotes: Sequence[Shown], speeches: Mapping[str, Speech]) -> dict[str, list[Shown]]:
    rows: dict[str, list[Shown]] = {}
    for q in quotes:
        speaker = speeches[q.statement_id].speaker if q.statement_id in speeches else None
        rows.setdefault(speaker or q.statement_id, []).append(q)
    return rows


def _of(speaker: str, speeches: Mapping[str, Speech]) -> list[str]:
    return [sid for sid, s in speeches.items() if s.speaker == speaker]


def score_positions(
    case: Case, result: DevResult, speeches: Mapping[str, Speech], text_of: Callable[[str], str]
) -> None:
    rows = _rows([] if result.abstained else result.quotes, speeches)
    addressing = {p.speaker for p in case.positions} | set(case.mentions)
    hits = [
        p.speaker
        for p in case.positions
        if any(
            shows(q, locate_evidence(p.evidence, _of(p.speaker, speeches), text_of))
            for q in rows.get(p.speaker, ())
        )
    ]
    result.speaker_expected = len(case.positions)
    result.speaker_hits = len(hits)
    result.rows = len(rows)
    result.rows_relevant = sum(speaker in addressing for speaker in rows)
    result.details["speakers_missed"] = [p.speaker for p in case.positions if p.speaker not in hits]
    result.details["rows_not_addressing"] = [s for s in rows if s not in addressing]
    if result.speaker_hits < result.speaker_expected or result.rows_relevant < result.rows:
        result.stage = "grouping"


def _gold_by_speaker(case: Case, speeches: Mapping[str, Speech]) -> dict[str, list[str]]:
    sides: dict[str, list[str]] = {}
    for gold in case.gold:
        speaker = speeches[gold.statement_id].speaker or gold.statement_id
        sides.setdefault(speaker, []).append(gold.statement_id)
    return sides


def score_compare(
    case: Case, result: DevResult, speeches: Mapping[str, Speech], text_of: Callable[[str], str]
) -> None:
    rows = _rows([] if result.abstained else result.quotes, speeches)
    sides = _gold_by_speaker(case, speeches)
    quoted = []
    for speaker, sids in sides.items():
        evidence = [ev for g in case.gold if g.statement_id in sids for ev in g.evidence]
        spans = locate_evidence(evidence, sids, text_of)
        if any(shows(q, spans) for q in rows.get(speaker, ())):
            quoted.append(speaker)
    result.both_sides = len(quoted) == len(sides)
    result.details["sides_missed"] = [s for s in sides if s not in quoted]
    if not result.both_sides and result.stage is None:
        result.stage = "grouping"


def _year(date: str | None) -> str:
    return date or ""


def score_timeline(
    case: Case, result: DevResult, speeches: Mapping[str, Speech], text_of: Callable[[str], str]
) -> None:
    quotes = [] if result.abstained else result.quotes
    statements = list(dict.fromkeys(q.statement_id for q in quotes))
    dates = [_year(speeches[sid].date) for sid in statements if sid in speeches]
    own = all(
        q.statement_id in speeches and speeches[q.statement_id].speaker == case.speaker
        for q in quotes
    )
    ordered = [_year(speeches[q.statement_id].date) for q in quotes if q.statement_id in speeches]
    spans = locate_evidence(case.evidence, [g.statement_id for g in case.gold], text_of)
    result.timeline_ok = (
        len({d for d in dates if d}) >= 2
        and own
        and ordered == sorted(ordered)
        and any(shows(q, spans) for q in quotes)
    )
    gold = {g.statement_id for g in case.gold}
    result.details["timeline_statements"] = len(statements)
    result.details["timeline_gold_cited"] = len(gold & set(statements))
    if not result.timeline_ok:
        result.stage = "grouping"


def score_resolution(case: Case, result: DevResult, history: Sequence[str]) -> None:
    expected = case.resolution
    if expected is None:
        return
    searched = (result.resolved_question or result.question).lower()
    terms_ok = all(term in searched for term in expected.topic_terms)
    scoped = sorted(result.scope_speakers) == sorted(expected.speakers)
    result.resolution_ok = scoped and terms_ok
    result.merged = False
    if not expected.carries_topic and history:
        own = set(content_terms(result.question))
        before = set(content_terms(history[-1])) - own
        searched_terms = set(content_terms(searched))
        names = {t for s in expected.speakers for t in content_terms(s)}
        result.merged = bool((searched_terms & before) - names)
        result.resolution_ok = result.resolution_ok and not result.merged
    if not result.resolution_ok:
        result.stage = "planning"


def speaker_rules() -> list[str]:
    """The matching rules of this module's docstring, as markdown bullets."""
    return rules_of(__doc__)


def score_speakers(
    case: Case,
    result: DevResult,
    speeches: Mapping[str, Speech],
    text_of: Callable[[str], str],
) -> DevResult:
    """Fill in the speaker scores of ``result`` (returned) for the kinds that have them."""
    if case.kind == "positions":
        score_positions(case, result, speeches, text_of)
    elif case.kind == "timeline":
        score_timeline(case, result, speeches, text_of)
    elif case.kind == "compare" and len(case.gold) > 1:
        score_compare(case, result, speeches, text_of)
    if case.kind == "followup":
        score_resolution(case, result, case.history)
    return result
