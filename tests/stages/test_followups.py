"""Follow-ups resolved against the conversation (plan stage, ``rag.stages.conversation``)."""

from __future__ import annotations

from rag.models import Answer, Citation, Statement
from rag.sentences import content_terms
from rag.stages.conversation import resolve
from tests.stages.helpers import speaker


def _statement(
    sid: str, author: str | None, organization: str | None = "Democratic Party"
) -> Statement:
    return speaker(sid, author, organization, "2019-06-27")


DEBATE = [
    _statement("biden", "Joe Biden"),
    _statement("sanders", "Bernie Sanders"),
    _statement("harris", "Kamala Harris"),
]


def _answer(question: str, cited: str | None = None, among: list[Statement] = DEBATE) -> Answer:
    citations = []
    if cited:
        s = next(s for s in among if s.statement_id == cited)
        citations = [Citation.of(1, s, 1, 0, 5, "Quote")]
    return Answer(question=question, abstained=not citations, answer="", citations=citations)


def test_a_new_speaker_replaces_the_old_one_and_keeps_the_topic() -> None:
    history = [_answer("What does Biden say about the Iraq war?", "biden")]
    r = resolve("What about Sanders?", history, DEBATE)
    assert r.scope == ["sanders"]
    assert "Biden" not in r.retrieval_text and "Iraq war" in r.retrieval_text
    assert set(content_terms("Sanders")) <= r.ignore_terms  # who said it is no evidence


def test_a_new_name_replaces_the_old_name_in_the_topic() -> None:
    statements = [_statement("sep", None, "Socialist Equality Party")]
    history = [_answer("What do the statements say about Biden?", "sep", statements)]
    r = resolve("What about Kerry?", history, statements)
    assert "Kerry" in r.retrieval_text and "Biden" not in r.retrieval_text


def test_the_other_candidate_excludes_the_ones_cited() -> None:
    history = [_answer("What does Biden say about busing?", "biden")]
    r = resolve("And what does the other candidate say?", history, DEBATE)
    assert r.scope is not None and "biden" not in r.scope
    assert "busing" in r.retrieval_text


def test_a_question_naming_a_speaker_is_scoped_and_loses_its_frame() -> None:
    r = resolve("What does Harris say about busing?", [], DEBATE)
    assert r.scope == ["harris"] and r.retrieval_text == "busing?"
    r = resolve("What office was Kamala Harris running for?", [], DEBATE)
    assert r.scope == ["harris"]  # a question about the speaker keeps the name for the embedding
    assert r.retrieval_text == "What office was Kamala Harris running for?"
    assert set(content_terms("Kamala Harris")) <= r.ignore_terms


def _narrowed(question: str, speakers: list[str], cited: str, topic: str | None = None) -> Answer:
    answer = _answer(question, cited)
    return answer.model_copy(update={"speakers": speakers, "topic": topic})


def test_a_new_question_with_its_own_speaker_and_topic_stands_alone() -> None:
    """Issue 21: "What does Yang say about China?" after a Biden question was read as the
    Biden question."""
    yang = _statement("yang", "Andrew Yang")
    store = [*DEBATE, yang]
    history = [_narrowed("How many recharging stations would Biden build?", ["Joe Biden"], "biden")]
    r = resolve("What does Yang say about China?", history, store)
    assert r.scope == ["yang"] and r.understood is None
    assert "recharging" not in r.retrieval_text and "China" in r.retrieval_text


def test_a_pronoun_carries_the_previous_speaker_and_it_the_topic() -> None:
    history = [
        _narrowed("What does Sanders say about Medicare for all?", ["Bernie Sanders"], "sanders")
    ]
    r = resolve("How would he pay for it?", history, DEBATE)
    assert r.scope == ["sanders"]
    assert "Medicare for all" in r.retrieval_text and "pay" in r.retrieval_text
    assert r.understood == "How would Bernie Sanders pay for Medicare for all?"


def test_a_pronoun_with_a_topic_of_its_own_keeps_the_speaker_only() -> None:
    history = [_narrowed("What does Harris say about busing?", ["Kamala Harris"], "harris")]
    r = resolve("What does she say about guns?", history, DEBATE)
    assert r.scope == ["harris"] and "busing" not in r.retrieval_text
    assert r.understood == "What does Kamala Harris say about guns?"


def test_an_elliptical_turn_takes_the_topic_and_says_so_in_words() -> None:
    history = [_narrowed("What does Biden say about the Iraq war?", ["Joe Biden"], "biden")]
    r = resolve("And Sanders?", history, DEBATE)
    assert r.scope == ["sanders"] and "Iraq war" in r.retrieval_text
    assert r.understood == "What does Bernie Sanders say about the Iraq war?"


def test_an_elliptical_turn_keeps_the_previous_mode() -> None:
    previous = _narrowed(
        "What has Biden said about trade over time?", ["Joe Biden"], "biden", topic="trade"
    ).model_copy(update={"mode": "timeline"})
    r = resolve("What about Sanders?", [previous], DEBATE)
    assert r.mode == "timeline" and r.scope == ["sanders"] and r.retrieval_text == "trade"
