"""Composing grouped answers (compare, positions, timeline): numbering per group, the
speakers who are silent, a timeline in date order, and the plain text of each."""

from __future__ import annotations

from rag.models import Filters
from rag.stages.compose_groups import compose_grouped, number_groups
from rag.stages.conversation import Resolution
from rag.stages.group import Group, Grouped
from rag.stages.intent import Intent
from rag.stages.plan import Plan
from rag.stages.select import QuoteSpan, Selection
from rag.stages.sides import speakers_of
from tests.stages.helpers import TEXT, sentence, speaker

OBAMA_2010 = speaker("o10", "Barack Obama", "Democratic Party", "2010")
OBAMA_2014 = speaker("o14", "Barack Obama", "Democratic Party", "2014")
BUSH_2002 = speaker("b02", "George W. Bush", "Republican Party", "2002")
SEP = speaker("sep", None, "Socialist Equality Party", "2004")
SCOPE = [OBAMA_2010, OBAMA_2014, BUSH_2002, SEP]
TEXTS = {s.statement_id: TEXT for s in SCOPE}


def span(sid: str, start: int, end: int) -> QuoteSpan:
    return QuoteSpan(sid, 1, start, end, 0.9, TEXT[start:end])


def plan(mode: str, scope: list = SCOPE) -> Plan:  # type: ignore[type-arg]
    question = "What about the war?"
    intent = Intent(mode, "the war")  # type: ignore[arg-type]
    return Plan(
        question,
        Filters(),
        scope,
        Resolution(question, "the war"),
        "the war" if mode == "compare" else None,
        False,
        intent,
        tuple(speakers_of(scope)),
    )


def grouped(*groups: Group) -> Grouped:
    """The group stage's result: the groups that address the topic (the rest are silent)."""
    return Grouped(groups=list(groups), scored=[sentence(0, 0.9, 0.9)])


def test_positions_number_quotes_row_by_row_and_name_the_silent() -> None:
    found = grouped(
        Group("George W. Bush", spans=[span("b02", 16, 62)]),
        Group("Barack Obama", spans=[span("o14", 0, 15), span("o10", 63, 83)]),
    )  # the Socialist Equality Party, in scope, has no group: silent
    p = plan("positions")
    by_id = {s.statement_id: s for s in SCOPE}
    citations, numbers = number_groups(found, by_id, TEXTS)
    assert [(c.n, c.statement_id) for c in citations] == [(1, "b02"), (2, "o14"), (3, "o10")]
    answer = compose_grouped(p, Selection(citations), found, numbers, total=4)
    assert answer.mode == "positions" and not answer.compare
    assert [(r.speaker, r.citations) for r in answer.positions] == [
        ("George W. Bush", [1]),
        ("Barack Obama", [2, 3]),
    ]
    assert answer.positions[1].statements == 2 and answer.positions[1].author == "Barack Obama"
    assert answer.not_addressed_by == ["Socialist Equality Party"]
    assert answer.resolved_question == "Where each of 3 speakers stands on the war"
    assert "On the war: 2 of 3 speakers address it." in answer.answer
    assert "Not addressed by: Socialist Equality Party, 2004." in answer.answer
    rows = answer.to_json_dict()["positions"]
    assert [q["n"] for q in rows[1]["quotes"]] == [2, 3]  # type: ignore[index]


def test_a_quote_that_fails_verification_leaves_its_speaker_silent() -> None:
    bad = QuoteSpan("b02", 1, 17, 63, 0.9, TEXT[16:62])  # offsets one off
    found = grouped(Group("George W. Bush", spans=[bad]), Group("Barack Obama", spans=[]))
    by_id = {s.statement_id: s for s in SCOPE}
    citations, numbers = number_groups(found, by_id, TEXTS)
    assert citations == [] and numbers == {}
    answer = compose_grouped(plan("positions"), Selection(citations), found, numbers, total=4)
    assert answer.positions == [] and "George W. Bush" in answer.not_addressed_by


def test_a_timeline_is_one_entry_per_statement_in_date_order() -> None:
    scope = [OBAMA_2010, OBAMA_2014]
    found = grouped(
        Group("o10", spans=[span("o10", 0, 15)]), Group("o14", spans=[span("o14", 16, 62)])
    )
    by_id = {s.statement_id: s for s in scope}
    citations, numbers = number_groups(found, by_id, TEXTS)
    answer = compose_grouped(plan("timeline", scope), Selection(citations), found, numbers, total=4)
    assert [(t.date, t.citations) for t in answer.timeline] == [("2010", [1]), ("2014", [2])]
    assert answer.speakers == ["Barack Obama"]
    text = answer.answer
    assert text.index("2010") < text.index("2014") and "in date order" in text


def test_compare_heads_each_speaker_with_the_date_of_a_single_statement() -> None:
    scope = [BUSH_2002, OBAMA_2010, OBAMA_2014]
    found = grouped(
        Group("George W. Bush", spans=[span("b02", 16, 62)]),
        Group("Barack Obama", spans=[span("o10", 0, 15), span("o14", 63, 83)]),
    )
    by_id = {s.statement_id: s for s in scope}
    citations, numbers = number_groups(found, by_id, TEXTS)
    answer = compose_grouped(plan("compare", scope), Selection(citations), found, numbers, total=4)
    assert answer.compare and answer.mode == "compare"
    assert "George W. Bush, Republican Party, 2002:" in answer.answer
    assert "(2010)" in answer.answer and "(2014)" in answer.answer  # several dates: per quote
