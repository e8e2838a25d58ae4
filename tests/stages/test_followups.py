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
