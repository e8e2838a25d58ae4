"""Planning: a clean question, compare detection, filters and follow-up narrowing."""

from __future__ import annotations

from typing import Any, cast

import pytest

from rag.errors import InvalidQuestionError
from rag.models import Answer, Citation, Filters, Statement
from rag.stages.plan import Planner, clean_question
from rag.store.catalog import Catalog
from tests.stages.helpers import statement

SEP = statement("sep", "Socialist Equality Party")
SWP = statement("swp", "Socialist Workers Party")


class FakeCatalog:
    def __init__(self, statements: list[Statement]) -> None:
        self.statements = statements
        self.filters: list[Filters] = []

    def scope(self, filters: Filters) -> list[Statement]:
        self.filters.append(filters)
        if filters.statement_ids:
            return [s for s in self.statements if s.statement_id in filters.statement_ids]
        return list(self.statements)


def planner(*statements: Statement) -> Planner:
    return Planner(cast(Catalog, FakeCatalog(list(statements or (SEP, SWP)))), 200)


def test_clean_question_normalises_and_refuses_the_unusable() -> None:
    assert clean_question("  What\u200b is\tthe\n war? ", 100) == "What is the war?"
    with pytest.raises(InvalidQuestionError):
        clean_question("?!", 100)
    with pytest.raises(InvalidQuestionError):
        clean_question("x" * 101, 100)
    with pytest.raises(InvalidQuestionError):
        clean_question(cast(Any, 42), 100)


def test_compare_detection_and_topic() -> None:
    question = "How do the statements differ on the Democratic Party?"
    plan = planner().run(question, Filters())
    assert (plan.mode, plan.compare_topic) == ("compare", "the Democratic Party")
    assert [side.speaker for side in plan.sides] == [s.speaker for s in plan.scope]
    assert planner().run("What is the war?", Filters()).compare_topic is None
    forced = planner().run("war", Filters(), compare=True)
    assert (forced.mode, forced.compare_topic) == ("compare", "war")
    off = planner().run(question, Filters(), compare=False)
    assert (off.mode, off.compare_topic) == ("answer", None)


def test_a_plain_question_searches_the_filtered_scope() -> None:
    plan = planner().run("What is the war?", Filters())
    assert plan.question == plan.retrieval_text == "What is the war?"
    assert [s.statement_id for s in plan.scope] == ["sep", "swp"]
    assert plan.compare_topic is None and not plan.narrowed


def test_naming_an_organization_narrows_the_scope() -> None:
    plan = planner().run("What does the SWP say about the war?", Filters())
    assert [s.statement_id for s in plan.scope] == ["swp"]
    assert plan.narrowed
    assert plan.resolution.ignore_terms  # "SWP" chooses a statement; it is not the topic


def test_a_follow_up_carries_the_topic_over() -> None:
    previous = Answer(
        question="What is the Quds Force?",
        abstained=False,
        answer="…",
        citations=[Citation.of(1, SEP, 1, 0, 5, "Quds.")],
    )
    plan = planner().run("And what about the other statement?", Filters(), [previous])
    assert plan.resolution.context_text == "What is the Quds Force?"
    assert [s.statement_id for s in plan.scope] == ["swp"]
