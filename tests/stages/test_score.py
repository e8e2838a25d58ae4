"""Sentence scoring: explicit features, policy weights, query blending and the penalty."""

from __future__ import annotations

import numpy as np
import pytest

from rag.models import Filters
from rag.policy import ScoringPolicy
from rag.stages.context import RequestContext
from rag.stages.conversation import Resolution
from rag.stages.plan import Plan
from rag.stages.score import (
    Query,
    Scorer,
    combine,
    keyword_overlap,
    question_names,
    score_sentences,
    unknown_names,
)
from rag.store.catalog import Snapshot
from rag.store.keyword import KeywordIndex
from rag.store.texts import StatementTexts
from tests.stages.helpers import TEXT, sentence, statement, stored

POLICY = ScoringPolicy()


def test_keyword_overlap_is_the_weighted_share_of_terms() -> None:
    assert keyword_overlap({"war": 3.0, "crime": 1.0}, {"war"}) == 0.75
    assert keyword_overlap({}, {"war"}) == 0.0


def test_sentences_carry_their_features_and_the_policy_weights() -> None:
    query = Query("war crime", np.array([0.0, 1.0, 0.0, 0.0]), {"war": 1.0, "crime": 1.0})
    scored = score_sentences(query, [(stored(), 0.5)], {"s1": TEXT}, POLICY, {"s1": 0.05})
    best = scored[0]
    assert best.index == 1  # "The war is a crime ..." matches both ways
    f = best.features
    assert (f.dense, f.keyword, f.prior, f.boost, f.penalty) == (1.0, 1.0, 0.5, 0.05, 1.0)
    assert best.score == pytest.approx(0.55 + 0.30 + 0.15 * 0.5 + 0.05)
    assert best.evidence == pytest.approx(1.0)
    assert [s.index for s in scored[1:]] and all(s.score < best.score for s in scored[1:])


def test_weights_are_data() -> None:
    query = Query("war", np.array([0.0, 1.0, 0.0, 0.0]), {"war": 1.0})
    keyword_only = ScoringPolicy(dense_weight=0.0, keyword_weight=1.0, passage_weight=0.0)
    scored = score_sentences(query, [(stored(), 1.0)], {"s1": TEXT}, keyword_only)
    assert {s.index: s.score for s in scored} == {1: 1.0, 0: 0.0, 2: 0.0}


def test_sentences_of_statements_without_text_are_skipped() -> None:
    query = Query("war", np.zeros(4), {"war": 1.0})
    assert score_sentences(query, [(stored(), 1.0)], {}, POLICY) == []


def test_combine_blends_queries_and_applies_the_penalty() -> None:
    first = [sentence(1, 1.0, 0.8), sentence(0, 0.5, 0.4)]
    second = [sentence(0, 1.0, 1.0)]
    combined = combine([(first, 0.65), (second, 0.35)], penalty=0.6)
    by_index = {s.index: s for s in combined}
    assert by_index[1].score == pytest.approx(0.65 * 0.6)
    assert by_index[0].score == pytest.approx((0.65 * 0.5 + 0.35) * 0.6)
    assert by_index[0].evidence == pytest.approx((0.65 * 0.4 + 0.35) * 0.6)
    assert all(s.features.penalty == 0.6 for s in combined)
    assert [s.index for s in combined] == [0, 1]  # best first


def test_unknown_names_are_the_ones_no_statement_mentions() -> None:
    names = question_names("What did Joe Biden say about the SWP and Soleimani in 2020?")
    assert names == ["Joe", "Biden", "Soleimani", "2020"]
    known = {"soleimani", "2020"}
    assert unknown_names(names, known.__contains__) == ["Joe", "Biden"]


def test_scorer_blends_a_follow_ups_topic_and_embeds_each_text_once() -> None:
    calls: list[str] = []

    def embed(text: str) -> np.ndarray:
        calls.append(text)
        return np.array([0.0, 1.0, 0.0, 0.0])

    s1 = statement("s1")
    resolution = Resolution("And the crime?", "the crime", context_text="the war")
    plan = Plan("And the crime?", Filters(), [s1], resolution, None)
    snap = Snapshot("fp", {"s1": s1}, KeywordIndex.build([stored().passage]))
    ctx = RequestContext(plan, snap, texts={"s1": TEXT})
    scorer = Scorer(embed, StatementTexts(store=None), POLICY)  # type: ignore[arg-type]

    queries = scorer.queries(ctx, "the crime")
    assert [(q.text, w) for q, w in queries] == [("the crime", 0.65), ("the war", 0.35)]
    scorer.queries(ctx, "the crime")
    assert calls == ["the crime", "the war"]  # the request's vectors are reused

    scored = scorer.run(ctx, queries, [(stored(), 1.0)], "the crime")
    assert scored[0].index == 1 and scored[0].features.penalty == 1.0
    assert scored[0].features.keyword == 1.0  # the first query's features
