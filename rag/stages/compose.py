"""Compose stage: verified, numbered citations and the typed ``Answer``.

Citations are numbered in answer order (grouped by statement, best first), each made by
the verifier; an abstention offers the nearest sentences instead, never as an answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from rag.models import (
    Answer,
    AnswerEvent,
    Citation,
    CitationEvent,
    DoneEvent,
    QuoteGroup,
    Statement,
    StatementRef,
    TextEvent,
)
from rag.stages.plan import Plan
from rag.stages.render import abstain_text, answer_text
from rag.stages.score import ScoredSentence
from rag.stages.select import QuoteSpan, Selection, without_stage_directions
from rag.stages.verify import cite
from rag.store.catalog import describe
from rag.store.chroma import StoredPassage

NEAREST = 2  # sentences offered when abstaining
SCOPE_NAMES = 3  # statements named in a narrowed scope's description


def cite_span(
    n: int, span: QuoteSpan, statements: Mapping[str, Statement], texts: Mapping[str, str]
) -> Citation | None:
    sid = span.statement_id
    return cite(
        n,
        statements[sid],
        texts.get(sid),
        span.paragraph,
        span.start,
        span.end,
        span.quote,
        round(span.score, 4),
    )


def number_citations(
    spans: Sequence[QuoteSpan], statements: Mapping[str, Statement], texts: Mapping[str, str]
) -> list[Citation]:
    """Verified citations numbered in answer order: grouped by statement, best first."""
    citations: list[Citation] = []
    for sid in dict.fromkeys(span.statement_id for span in spans):
        for span in (s for s in spans if s.statement_id == sid):
            citation = cite_span(len(citations) + 1, span, statements, texts)
            if citation is not None:
                citations.append(citation)
    return citations


def nearest_citations(
    scored: Sequence[ScoredSentence],
    passages: Mapping[str, StoredPassage],
    statements: Mapping[str, Statement],
    texts: Mapping[str, str],
) -> list[Citation]:
    """The closest sentences in rank order, offered as 'nearest passages', never as an
    answer: one per paragraph, the same words once, no transcriber's notes."""
    result: list[Citation] = []
    seen: set[tuple[str, int] | str] = set()
    for s in scored:
        if len(result) >= NEAREST:
            break
        p = passages[s.passage_id].passage
        quote = p.text[s.start - p.start : s.end - p.start]
        span = QuoteSpan(s.statement_id, s.paragraph, s.start, s.end, s.score, quote)
        parts = without_stage_directions(span)
        if not parts or (s.statement_id, s.paragraph) in seen or parts[0].quote in seen:
            continue
        seen |= {(s.statement_id, s.paragraph), parts[0].quote}
        citation = cite_span(len(result) + 1, parts[0], statements, texts)
        if citation is not None:
            result.append(citation)
    return result


def group_citations(
    citations: Sequence[Citation], statements: Mapping[str, Statement]
) -> list[QuoteGroup]:
    """The citations' numbers per statement, statements in order of first citation."""
    groups: dict[str, QuoteGroup] = {}
    for c in citations:
        if c.statement_id not in groups:
            statement = statements.get(c.statement_id)
            groups[c.statement_id] = QuoteGroup(
                statement_id=c.statement_id,
                label=statement.label if statement else c.label,
                title=statement.title if statement else c.title,
            )
        groups[c.statement_id].citations.append(c.n)
    return list(groups.values())


def describe_scope(plan: Plan, total: int) -> str:
    """What was searched, e.g. ``all 20 statements`` or ``organization SEP``."""
    filtered = describe(plan.filters)
    if plan.narrowed:
        named = "; ".join(s.label for s in plan.scope[:SCOPE_NAMES])
        if len(plan.scope) > SCOPE_NAMES:
            named += f" and {len(plan.scope) - SCOPE_NAMES} more"
        return f"{filtered}; narrowed to {named}" if filtered else named
    if filtered:
        return filtered
    n = len(plan.scope)
    if n < total:
        return f"{n} of {total} statements"
    return f"all {n} statement{'s' if n != 1 else ''}"


def scope_speakers(plan: Plan) -> list[str]:
    """The speakers of a narrowed scope, in order; none when nothing narrowed it."""
    if not plan.narrowed:
        return []
    return list(dict.fromkeys(s.speaker for s in plan.scope if s.speaker))


def compose(
    plan: Plan,
    selection: Selection,
    *,
    total: int,
    not_addressed: Sequence[StatementRef] = (),
    nearest: Sequence[Citation] = (),
    timings: Mapping[str, float] | None = None,
) -> Answer:
    """The typed answer: quotes grouped per statement, or an abstention with the nearest."""
    by_id = {s.statement_id: s for s in plan.scope}
    citations = list(selection.quotes)
    groups = group_citations(citations, by_id)
    if selection.abstained:
        text = abstain_text(describe(plan.filters) or None)
    else:
        text = answer_text(groups, citations, plan.compare_topic, not_addressed)
    resolved = plan.resolution.understood
    return Answer(
        question=plan.question,
        abstained=selection.abstained,
        answer=text,
        citations=citations,
        nearest=list(nearest) if selection.abstained else [],
        compare=plan.compare_topic is not None,
        not_addressed=list(not_addressed),
        resolved_question=resolved if resolved and resolved != plan.question else None,
        filters=plan.filters,
        groups=groups,
        topic=plan.compare_topic,
        scope=describe_scope(plan, total),
        speakers=scope_speakers(plan),
        timings_ms=dict(timings or {}),
    )


def answer_events(answer: Answer) -> Iterator[AnswerEvent]:
    """The events of a finished answer: each citation, the text line by line, the answer."""
    for citation in answer.citations:
        yield CitationEvent(citation=citation)
    for line in answer.answer.splitlines(keepends=True):
        yield TextEvent(text=line)
    yield DoneEvent(answer=answer)
