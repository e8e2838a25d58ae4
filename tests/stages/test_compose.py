"""Composing the typed answer: numbering, groups, topic, scope, nearest and its text."""

from __future__ import annotations

from rag.models import CitationEvent, DoneEvent, Filters, StatementRef, TextEvent
from rag.stages.compose import (
    answer_events,
    compose,
    describe_scope,
    group_citations,
    nearest_citations,
    number_citations,
)
from rag.stages.conversation import Resolution
from rag.stages.plan import Plan
from rag.stages.select import WEAK_EVIDENCE, QuoteSpan, Selection
from tests.stages.helpers import TEXT, sentence, statement, stored

A, B = statement("a", "Socialist Equality Party"), statement("b", "Socialist Workers Party")
STATEMENTS = {"a": A, "b": B}
TEXTS = {"a": TEXT, "b": TEXT}


def span(sid: str, start: int, end: int, score: float) -> QuoteSpan:
    return QuoteSpan(sid, 1, start, end, score, TEXT[start:end])


def plan(topic: str | None = None, filters: Filters | None = None, narrowed: bool = False) -> Plan:
    question = "What about the war?"
    scope = [A] if narrowed else [A, B]
    return Plan(
        question, filters or Filters(), scope, Resolution(question, question), topic, narrowed
    )


def test_citations_are_numbered_grouped_by_statement_best_first() -> None:
    spans = [span("a", 16, 62, 0.9), span("b", 0, 15, 0.8), span("a", 63, 83, 0.7)]
    citations = number_citations(spans, STATEMENTS, TEXTS)
    assert [(c.n, c.statement_id, c.start) for c in citations] == [
        (1, "a", 16),
        (2, "a", 63),
        (3, "b", 0),
    ]
    groups = group_citations(citations, STATEMENTS)
    assert [(g.statement_id, g.label, g.title, g.citations) for g in groups] == [
        ("a", "Socialist Equality Party, 2020-01-03", "On a", [1, 2]),
        ("b", "Socialist Workers Party, 2020-01-03", "On b", [3]),
    ]


def test_a_quote_that_is_not_verbatim_gets_no_number() -> None:
    bad = QuoteSpan("a", 1, 17, 63, 0.9, TEXT[16:62])
    citations = number_citations([bad, span("a", 0, 15, 0.5)], STATEMENTS, TEXTS)
    assert [(c.n, c.start) for c in citations] == [(1, 0)]


def test_the_answer_text_is_rendered_from_the_groups() -> None:
    citations = number_citations([span("a", 16, 62, 0.9), span("b", 0, 15, 0.8)], STATEMENTS, TEXTS)
    missing = [StatementRef(statement_id="c", label="Other, 2020")]
    answer = compose(plan("the war"), Selection(citations), total=2, not_addressed=missing)
    assert answer.answer == (
        "2 statements address the war:\n\n"
        "Socialist Equality Party, 2020-01-03 — “On a”:\n"
        "“The war is a crime against the people of Iraq.” [1]\n\n"
        "Socialist Workers Party, 2020-01-03 — “On b”:\n"
        "“Troops out now.” [2]\n\n"
        "Not addressed by: Other, 2020."
    )
    assert answer.compare and answer.topic == "the war" and not answer.abstained
    assert [g.citations for g in answer.groups] == [[1], [2]]
    assert answer.scope == "all 2 statements"


def test_an_abstention_offers_the_nearest_and_says_what_was_searched() -> None:
    scored = [
        sentence(1, 0.4, 0.2, sid="a"),
        sentence(2, 0.35, 0.1, sid="a"),  # the same paragraph: shown once (issue 21)
        sentence(2, 0.3, 0.1, sid="b", pid="b-p1"),
    ]
    passages = {"s1-p1": stored("a"), "b-p1": stored("b", "b-p1")}
    nearest = nearest_citations(scored, passages, STATEMENTS, TEXTS)
    assert [(c.n, c.statement_id, c.start) for c in nearest] == [(1, "a", 16), (2, "b", 63)]
    filters = Filters(organization="SEP")
    answer = compose(plan(filters=filters), Selection([], WEAK_EVIDENCE), total=2, nearest=nearest)
    assert answer.abstained and answer.citations == [] and answer.groups == []
    assert answer.answer == (
        "The statements don't address this question. (searched: organization SEP)"
    )
    assert answer.scope == "organization SEP" and answer.topic is None
    assert len(answer.nearest) == 2


def test_scope_descriptions() -> None:
    assert describe_scope(plan(), 2) == "all 2 statements"
    assert describe_scope(plan(narrowed=True), 2) == "Socialist Equality Party, 2020-01-03"
    filtered = plan(filters=Filters(since="2020-01-01"), narrowed=True)
    assert (
        describe_scope(filtered, 2)
        == "since 2020-01-01; narrowed to Socialist Equality Party, 2020-01-03"
    )
    assert describe_scope(plan(), 5) == "2 of 5 statements"


def test_events_of_a_finished_answer() -> None:
    citations = number_citations([span("a", 16, 62, 0.9)], STATEMENTS, TEXTS)
    answer = compose(plan(), Selection(citations), total=2)
    events = list(answer_events(answer))
    assert isinstance(events[0], CitationEvent) and isinstance(events[-1], DoneEvent)
    assert "".join(e.text for e in events if isinstance(e, TextEvent)) == answer.answer
