"""Compose stage of grouped answers: compare, positions and timeline.

The groups found by ``rag.stages.group`` become numbered, verified citations in answer
order (a speaker's quotes together, a timeline's in date order), one ``SpeakerQuotes`` per
speaker or one ``TimelineEntry`` per statement, and the typed ``Answer``; a group whose
every quote failed verification counts as not addressing the topic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rag.models import (
    Answer,
    Citation,
    SpeakerQuotes,
    Statement,
    StatementRef,
    TimelineEntry,
)
from rag.stages.compose import cite_span, describe_scope, group_citations
from rag.stages.group import Grouped
from rag.stages.plan import Plan
from rag.stages.render import abstain_text, grouped_text
from rag.stages.select import Selection
from rag.store.catalog import describe


def number_groups(
    found: Grouped, statements: Mapping[str, Statement], texts: Mapping[str, str]
) -> tuple[list[Citation], dict[str, list[int]]]:
    """Verified citations numbered group by group, and each group's numbers."""
    citations: list[Citation] = []
    numbers: dict[str, list[int]] = {}
    for group in found.groups:
        for span in group.spans:
            citation = cite_span(len(citations) + 1, span, statements, texts)
            if citation is not None:
                citations.append(citation)
                numbers.setdefault(group.key, []).append(citation.n)
    return citations, numbers


def understood(plan: Plan) -> str:
    """The question as it was read, in words: "compare …", "positions on …", "timeline …"."""
    assert plan.intent is not None
    topic, sides = plan.intent.topic, plan.sides
    when = _period(plan.intent.since, plan.intent.until)
    if plan.mode == "compare":
        names = (
            " and ".join(s.speaker for s in sides)
            if len(sides) <= 3
            else (f"{len(sides)} speakers")
        )
        return f"Compare {names} on {topic}{when}"
    if plan.mode == "timeline":
        name = sides[0].speaker if sides else "the speaker"
        return f"What {name} said about {topic}, statement by statement in date order{when}"
    party = f" ({plan.intent.party})" if plan.intent.party else ""
    return f"Where each of {len(sides)} speakers{party} stands on {topic}{when}"


def _period(since: str | None, until: str | None) -> str:
    if since and until:
        return f", {since} to {until}"
    if since:
        return f", since {since}"
    if until:
        return f", until {until}"
    return ""


def compose_grouped(
    plan: Plan,
    selection: Selection,
    found: Grouped,
    numbers: Mapping[str, Sequence[int]],
    *,
    total: int,
    nearest: Sequence[Citation] = (),
    timings: Mapping[str, float] | None = None,
) -> Answer:
    """The typed answer of a compare, positions or timeline question."""
    by_id = {s.statement_id: s for s in plan.scope}
    citations = list(selection.quotes)
    positions: list[SpeakerQuotes] = []
    timeline: list[TimelineEntry] = []
    if plan.mode == "timeline":
        for group in found.groups:
            statement = by_id[group.key]
            if numbers.get(group.key):
                timeline.append(
                    TimelineEntry(
                        statement_id=group.key,
                        date=statement.date,
                        label=statement.label,
                        title=statement.title,
                        citations=list(numbers[group.key]),
                    )
                )
        silent: list[str] = []
    else:
        sides = {side.speaker: side for side in plan.sides}
        for group in found.groups:
            side = sides[group.key]
            if numbers.get(group.key):
                positions.append(
                    SpeakerQuotes(
                        speaker=side.speaker,
                        author=side.author,
                        organization=side.organization,
                        citations=list(numbers[group.key]),
                        statements=len(side.statements),
                    )
                )
        quoted = {p.speaker for p in positions}
        silent = [side.speaker for side in plan.sides if side.speaker not in quoted]
    silent_sides = [side for side in plan.sides if side.speaker in silent]
    refs = [
        StatementRef(statement_id=st.statement_id, label=st.label, title=st.title)
        for side in silent_sides
        for st in side.statements
    ]
    # who is silent, as people read it: a speaker with one statement by its label (the date
    # says which), a speaker with several by name
    shown = [
        side.statements[0].label if len(side.statements) == 1 else side.speaker
        for side in silent_sides
    ]
    topic = plan.intent.topic if plan.intent else plan.retrieval_text
    if selection.abstained:
        text = abstain_text(describe(plan.filters) or None)
    else:
        text = grouped_text(plan.mode, topic, citations, positions, timeline, shown)
    return Answer(
        question=plan.question,
        abstained=selection.abstained,
        answer=text,
        citations=citations,
        nearest=list(nearest) if selection.abstained else [],
        compare=plan.mode == "compare",
        mode=plan.mode,
        positions=positions,
        not_addressed_by=silent if not selection.abstained else [],
        not_addressed=refs if not selection.abstained else [],
        timeline=timeline,
        resolved_question=plan.resolution.understood or understood(plan),
        filters=plan.filters,
        groups=group_citations(citations, by_id),
        topic=topic,
        scope=describe_scope(plan, total),
        speakers=[side.speaker for side in plan.sides]
        if plan.narrowed or plan.mode != "positions"
        else [],
        timings_ms=dict(timings or {}),
    )
