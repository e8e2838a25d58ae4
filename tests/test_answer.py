"""Cited answers over the bundled statements: verbatim quotes with verified offsets,
abstention, keyword hits, filters, follow-ups, comparison and streaming.

Behaviour checks here are the product's promises; the eval set (evals/) measures quality
more broadly. Nothing here is tuned to pass: a failing promise is a bug to fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from rag.errors import InvalidFilterError, InvalidQuestionError
from rag.models import (
    Answer,
    Citation,
    CitationEvent,
    DoneEvent,
    Filters,
    RetrievalEvent,
    TextEvent,
)
from rag.service import Services

SEP = "000_750d3f795511808f"
SWP = "004_82099dca89624f38"

# Varied questions: facts, paraphrases, names and numbers, vague, compare, and ones the
# statements do not answer. Every citation of every one is checked against the text.
QUESTIONS = [
    "What is the Quds Force?",
    "How does the SEP characterize the US attacks on Iraqi population centers?",
    "According to the SEP, what is the aim of the US bombardment of Iraqi cities?",
    "What is the main demand at the heart of the SEP's election platform?",
    "Where and when was Soleimani killed?",
    "What slogan have protesters in Iraq been chanting?",
    "What office was Naomi Craine running for?",
    "Which earlier SWP statement is quoted in the Soleimani statement?",
    "Why would the SEP welcome an American loss in Iraq?",
    "Does the SWP regard the slain Iranian general as someone who stood up for ordinary laborers?",
    "According to the SWP, whose sons and daughters end up doing the dying in Washington's wars?",
    "How many US troops does the SWP say are on the ground in the Middle East?",
    "How many US soldiers had died in Iraq according to the SEP?",
    "How many demonstrators have been killed in the Iraqi protests?",
    "What did Joe Biden say about Soleimani?",
    "What did John Kerry criticize the Bush administration for?",
    "What role did Soleimani play regarding Bashar al-Assad?",
    "What happened on May 2, 2011?",
    "Who was Abu Mahdi al-Muhandis?",
    "What does the SWP say about the 1979 Iranian Revolution?",
    "What do the statements say about the Democratic Party?",
    "How do the statements differ on the Democratic Party?",
    "Compare what the statements report about people killed.",
    "Who do the statements think should control the future of the Middle East?",
    "war",
    "Get out now!",
    "“Iran out out”",
    "What is the capital of France?",
    "What does the SEP say about Qassem Soleimani?",
]

OUT_OF_CORPUS = [
    "What is the capital of France?",
    "How do I bake a loaf of sourdough bread?",
    # was a known weakness (xfail): "policy" matched a generic sentence; the cross-encoder's
    # floor now tells the shared word from the topic
    "What is the statements' climate change policy?",
    "What do the statements say about climate change?",
    "Who wrote Hamlet?",
]


def paragraph_of(text: str, offset: int) -> int:
    """1-based paragraph number of a character offset (paragraphs split by a blank line)."""
    return text.count("\n\n", 0, offset) + 1


def check_citations(services: Services, answer: Answer) -> None:
    """Every quote is the statement's clean text at its offsets, and says where it is."""
    statements = {s.statement_id: s for s in services.store.statements()}
    for group in (answer.citations, answer.nearest):
        assert [c.n for c in group] == list(range(1, len(group) + 1))
        for c in group:
            statement = statements[c.statement_id]
            text = services.store.statement(c.statement_id).text
            assert text is not None
            assert text[c.start : c.end] == c.quote, f"not verbatim: {c.quote!r}"
            assert c.quote == c.quote.strip() and c.quote
            assert "\n" not in c.quote  # a quote never crosses a paragraph
            assert paragraph_of(text, c.start) == c.paragraph
            assert "full story" not in c.quote.lower()
            assert (c.source, c.title, c.organization, c.author, c.date) == (
                statement.source,
                statement.title,
                statement.organization,
                statement.author,
                statement.date,
            )
    # the readable text shows each citation once, numbered in order of appearance
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    assert markers == [c.n for c in answer.citations]
    for c in answer.citations:
        assert f"“{c.quote}” [{c.n}]" in answer.answer
    if answer.abstained:
        assert answer.citations == []
        assert "don't address" in answer.answer or "do not address" in answer.answer


def quotes(answer: Answer) -> str:
    return "\n".join(c.quote for c in answer.citations)


def cited(answer: Answer) -> set[str]:
    return {c.statement_id for c in answer.citations}


# -- verbatim quotes -----------------------------------------------------------------


def test_every_citation_of_many_questions_is_verbatim(bundled: Services) -> None:
    answered = 0
    for question in QUESTIONS:
        answer = bundled.answerer.answer(question)
        assert answer.question == question.strip()
        check_citations(bundled, answer)
        answered += not answer.abstained
    assert answered >= 20


def test_every_citation_of_follow_ups_compare_and_filters_is_verbatim(bundled: Services) -> None:
    first = bundled.answerer.answer("What does the SWP say about the protests in Iraq?")
    for answer in (
        first,
        bundled.answerer.answer("How many were killed?", history=[first]),
        bundled.answerer.answer("And what about the other statement?", history=[first]),
        bundled.answerer.answer("troops", compare=True),
        bundled.answerer.answer("Kerry", filters=Filters(statement_ids=[SEP])),
        bundled.answerer.answer("What is demanded?", filters=Filters(since="2020"), k=3),
    ):
        check_citations(bundled, answer)


# -- abstention ----------------------------------------------------------------------


@pytest.mark.parametrize("question", OUT_OF_CORPUS)
def test_out_of_corpus_questions_abstain(bundled: Services, question: str) -> None:
    answer = bundled.answerer.answer(question)
    assert answer.abstained, f"answered {question!r} with: {quotes(answer)}"
    assert answer.citations == []
    assert answer.to_json_dict()["citations"] == []
    check_citations(bundled, answer)  # nearest passages, if offered, are verbatim too
    assert len(answer.nearest) <= 3


def test_in_corpus_question_does_not_abstain(bundled: Services) -> None:
    answer = bundled.answerer.answer("What is the Quds Force?")
    assert not answer.abstained and answer.nearest == []
    assert answer.citations[0].quote == (
        "He became the leader of the reactionary Revolutionary Guards' international Quds Force."
    )
    assert answer.citations[0].paragraph == 7
    assert answer.answer.startswith("Naomi Craine, Socialist Workers Party, 2020-01-03")


# -- names and numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "needle", "statement_id"),
    [
        ("What is the Quds Force?", "Quds Force", SWP),
        ("What does the statement say about the 625 dead?", "625", SEP),
        ("What happened to the 450 demonstrators?", "450", SWP),
        ("What does the SWP say about Bashar al-Assad?", "Bashar al-Assad", SWP),
        ("Who is Abu Mahdi al-Muhandis?", "al-Muhandis", SWP),
    ],
)
def test_names_and_numbers_are_found(
    bundled: Services, question: str, needle: str, statement_id: str
) -> None:
    answer = bundled.answerer.answer(question)
    assert not answer.abstained
    hits = [c for c in answer.citations if needle in c.quote]
    assert hits, f"no quote with {needle!r}: {quotes(answer)}"
    assert hits[0].statement_id == statement_id


@pytest.mark.parametrize("query", ["Quds Force", "625", "450", "Bashar al-Assad", "50,000"])
def test_keyword_search_ranks_exact_terms_first(bundled: Services, query: str) -> None:
    (best, prior), *_ = bundled.answerer.search(query, k=3)
    assert query in best.passage.text
    assert prior == 1.0


def test_keyword_search_finds_a_rare_name_next_to_a_common_one(bundled: Services) -> None:
    # "Hezbollah" alone is in two passages; only one says "Kataeb Hezbollah"
    top = [p.passage.text for p, _ in bundled.answerer.search("Kataeb Hezbollah", k=2)]
    assert any("Kataeb Hezbollah" in text for text in top)
    answer = bundled.answerer.answer("What is Kataeb Hezbollah?")
    assert "Kataeb Hezbollah" in answer.citations[0].quote


# -- filters -------------------------------------------------------------------------


QUESTION = "What do they say about the withdrawal of US troops?"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(statement_ids=[SEP]), {SEP}),
        (Filters(statement_ids=[SWP]), {SWP}),
        (Filters(statement_ids=[SEP, SWP]), {SEP, SWP}),
        (Filters(organization="Socialist Workers Party"), {SWP}),
        (Filters(organization="socialist equality party"), {SEP}),
        (Filters(organization="SWP"), {SWP}),
        (Filters(organization="sep"), {SEP}),
        (Filters(organization="Socialist Workers"), {SWP}),
        (Filters(since="2020"), {SWP}),
        (Filters(since="2020-01"), {SWP}),
        (Filters(since="2020-01-03"), {SWP}),
        (Filters(until="2020-01-02"), {SEP}),
        (Filters(until="2004-06"), {SEP}),  # the partial date 2004 overlaps June 2004
        (Filters(since="2004-12", until="2004-12-31"), {SEP}),
        (Filters(since="2004", until="2020-01-03"), {SEP, SWP}),
        (Filters(organization="SWP", since="2019"), {SWP}),
    ],
    ids=lambda v: repr(v) if isinstance(v, set) else None,
)
def test_filters_restrict_the_statements(
    bundled: Services, filters: Filters, expected: set[str]
) -> None:
    answer = bundled.answerer.answer(QUESTION, filters=filters)
    assert not answer.abstained
    assert cited(answer) <= expected
    assert answer.filters == filters
    passages = bundled.answerer.search(QUESTION, k=10, filters=filters)
    assert {p.passage.statement_id for p, _ in passages} == expected
    for event in bundled.answerer.stream(QUESTION, filters=filters):
        if isinstance(event, RetrievalEvent):
            assert set(event.statement_ids) <= expected


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (Filters(statement_ids=["no-such-statement"]), "no-such-statement"),
        (Filters(statement_ids=[SEP, "nope"]), "nope"),
        (Filters(organization="Green Party"), "Green Party"),
        (Filters(organization="XYZ"), "XYZ"),
        (Filters(since="2020-13"), "2020-13"),
        (Filters(since="2020-02-30"), "2020-02-30"),
        (Filters(until="yesterday"), "yesterday"),
        (Filters(since="03/01/2020"), "03/01/2020"),
        (Filters(since="2021"), "since 2021"),  # valid, but no statement is that recent
        (Filters(until="1999"), "until 1999"),
    ],
)
def test_bad_filters_are_clear_errors(bundled: Services, filters: Filters, message: str) -> None:
    with pytest.raises(InvalidFilterError) as info:
        bundled.answerer.answer(QUESTION, filters=filters)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(InvalidFilterError):
        bundled.answerer.search(QUESTION, filters=filters)


# -- questions -----------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "?!", "…"])
def test_empty_questions_are_refused(bundled: Services, question: str) -> None:
    with pytest.raises(InvalidQuestionError):
        bundled.answerer.answer(question)


def test_too_long_question_is_refused(bundled: Services) -> None:
    limit = bundled.settings.max_question_chars
    with pytest.raises(InvalidQuestionError) as info:
        bundled.answerer.answer("why " * (limit // 4 + 1))
    assert "too long" in str(info.value)
    answer = bundled.answerer.answer("What is the Quds Force? " + " " * (limit - 30))
    assert answer.question == "What is the Quds Force?"


def test_control_characters_and_spacing_are_normalised(bundled: Services) -> None:
    answer = bundled.answerer.answer("  What is the\x00 Quds\n\tForce?  ")
    assert answer.question == "What is the Quds Force?"
    assert not answer.abstained


# -- follow-ups ----------------------------------------------------------------------


def test_follow_up_how_many_were_killed(bundled: Services) -> None:
    first = bundled.answerer.answer(
        "What does the Socialist Workers Party say about the protests in Iraq?"
    )
    assert not first.abstained and cited(first) == {SWP}
    follow = bundled.answerer.answer("How many were killed?", history=[first])
    assert not follow.abstained
    assert any("450" in c.quote for c in follow.citations), quotes(follow)
    assert follow.citations[0].statement_id == SWP


def test_follow_up_other_statement_after_kerry(bundled: Services) -> None:
    first = bundled.answerer.answer("What does the SEP say about Kerry?")
    assert not first.abstained and cited(first) == {SEP}
    assert any("Kerry" in c.quote for c in first.citations)
    other = bundled.answerer.answer("And what about the other statement?", history=[first])
    # only the other statement may be cited (it never names Kerry, so abstaining is honest)
    assert cited(other) <= {SWP}
    assert {c.statement_id for c in other.nearest} <= {SWP}
    check_citations(bundled, other)


def test_follow_up_other_statement_answers_from_it(bundled: Services) -> None:
    first = bundled.answerer.answer("What does the SEP demand regarding US troops in Iraq?")
    assert cited(first) == {SEP}
    other = bundled.answerer.answer("And what about the other statement?", history=[first])
    assert not other.abstained
    assert cited(other) == {SWP}
    assert any("withdrawal of U.S. troops" in c.quote for c in other.citations), quotes(other)
    assert other.resolved_question  # says how the follow-up was understood


def test_follow_up_does_not_leak_into_a_new_topic(bundled: Services) -> None:
    first = bundled.answerer.answer("What does the SEP say about Kerry?")
    fresh = bundled.answerer.answer("What is the Quds Force?", history=[first])
    assert cited(fresh) == {SWP}
    assert "Quds Force" in fresh.citations[0].quote


def test_history_without_follow_up_gives_the_same_answer(bundled: Services) -> None:
    question = "Where and when was Soleimani killed?"
    alone = bundled.answerer.answer(question)
    first = bundled.answerer.answer("What does the SEP say about Kerry?")
    after = bundled.answerer.answer(question, history=[first])
    assert [c.quote for c in after.citations] == [c.quote for c in alone.citations]


# -- compare -------------------------------------------------------------------------


def assert_grouped(citations: Sequence[Citation]) -> None:
    """Citations of one statement are contiguous (one group per statement)."""
    order = [c.statement_id for c in citations]
    groups = [sid for i, sid in enumerate(order) if i == 0 or order[i - 1] != sid]
    assert len(groups) == len(set(groups)), order


def test_compare_groups_quotes_per_statement(bundled: Services) -> None:
    answer = bundled.answerer.answer("How do the statements differ on the Democratic Party?")
    assert answer.compare
    assert not answer.abstained
    assert cited(answer) == {SEP, SWP}
    assert_grouped(answer.citations)
    assert answer.not_addressed == []
    for c in answer.citations:
        assert "Democrat" in c.quote, c.quote
    # each group is headed by who said it and when
    sep_at = answer.answer.index("Socialist Equality Party, 2004")
    swp_at = answer.answer.index("Naomi Craine, Socialist Workers Party, 2020-01-03")
    first_sep = answer.answer.index(
        next(c.quote for c in answer.citations if c.statement_id == SEP)
    )
    first_swp = answer.answer.index(
        next(c.quote for c in answer.citations if c.statement_id == SWP)
    )
    assert sep_at < first_sep and swp_at < first_swp


def test_answer_carries_its_structure(bundled: Services) -> None:
    """Groups per statement in answer order, the compare topic and what was searched."""
    compared = bundled.answerer.answer("How do the statements differ on the Democratic Party?")
    assert compared.topic == "the Democratic Party"
    assert [g.statement_id for g in compared.groups] == list(
        dict.fromkeys(c.statement_id for c in compared.citations)
    )
    assert [n for g in compared.groups for n in g.citations] == [c.n for c in compared.citations]
    labels = {g.statement_id: g.label for g in compared.groups}
    assert labels[SWP] == "Naomi Craine, Socialist Workers Party, 2020-01-03"
    assert compared.scope == "all 2 statements"

    plain = bundled.answerer.answer("What is the Quds Force?")
    assert plain.topic is None and plain.groups and plain.segments == []
    filtered = bundled.answerer.answer(
        "What is the capital of France?", filters=Filters(organization="SEP")
    )
    assert filtered.abstained and filtered.groups == []
    assert filtered.scope == "organization SEP"
    named = bundled.answerer.answer("What does the SWP say about the Quds Force?")
    assert named.scope is not None and named.scope.startswith(
        "Naomi Craine, Socialist Workers Party"
    )


def test_compare_flag_and_statement_that_does_not_address(bundled: Services) -> None:
    answer = bundled.answerer.answer("What do the statements say about Iran?", compare=True)
    assert answer.compare
    assert cited(answer) == {SWP}
    assert [r.statement_id for r in answer.not_addressed] == [SEP]
    assert "Not addressed by: Socialist Equality Party, 2004" in answer.answer


def test_compare_can_be_turned_off(bundled: Services) -> None:
    answer = bundled.answerer.answer(
        "How do the statements differ on the Democratic Party?", compare=False
    )
    assert not answer.compare
    assert answer.not_addressed == []


# -- streaming -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "What is the Quds Force?",
        "How do the statements differ on the Democratic Party?",
        "What is the capital of France?",
    ],
)
def test_stream_event_order(bundled: Services, question: str) -> None:
    events = list(bundled.answerer.stream(question))
    kinds = [type(e) for e in events]
    assert kinds[0] is RetrievalEvent
    assert kinds[-1] is DoneEvent and kinds.count(DoneEvent) == 1
    body = kinds[1:-1]
    n_citations = body.count(CitationEvent)
    assert body == [CitationEvent] * n_citations + [TextEvent] * (len(body) - n_citations)
    assert TextEvent in body
    done = events[-1]
    assert isinstance(done, DoneEvent)
    answer = done.answer
    assert [e.citation for e in events if isinstance(e, CitationEvent)] == answer.citations
    assert "".join(e.text for e in events if isinstance(e, TextEvent)) == answer.answer
    retrieval = events[0]
    assert isinstance(retrieval, RetrievalEvent)
    assert retrieval.passages > 0
    assert cited(answer) <= set(retrieval.statement_ids)
    # the same as the non-streaming call
    again = bundled.answerer.answer(question)
    assert [c.quote for c in again.citations] == [c.quote for c in answer.citations]
    assert again.abstained == answer.abstained


def test_json_contract_of_an_answer(bundled: Services) -> None:
    data = bundled.answerer.answer("What did Joe Biden say about Soleimani?").to_json_dict()
    assert list(data) == ["question", "abstained", "answer", "mode", "citations"]
    for c in data["citations"]:  # type: ignore[union-attr]
        assert list(c) == [
            "n",
            "statement_id",
            "source",
            "title",
            "speaker",
            "author",
            "organization",
            "date",
            "paragraph",
            "start",
            "end",
            "quote",
        ]
