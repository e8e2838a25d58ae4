"""The rerank stage, with the real cross-encoder (ms-marco-MiniLM-L-12-v2, int8 ONNX)."""

from __future__ import annotations

import pytest

from rag.encoders.cross_encoder import BUNDLED_RERANKER, load_reranker
from rag.errors import RerankerError
from rag.policy import ScoringPolicy
from rag.stages.rerank import RerankStage
from tests.stages.helpers import TEXT, sentence

TEXTS = {"s1": TEXT}


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return load_reranker(BUNDLED_RERANKER)


def test_the_cross_encoder_reads_the_top_and_lifts_the_sentence_that_answers(model) -> None:  # type: ignore[no-untyped-def]
    stage = RerankStage(model, ScoringPolicy(rerank_weight=0.5))
    scored = [sentence(0, 0.60, 0.5), sentence(2, 0.59, 0.5), sentence(1, 0.58, 0.5)]
    reread = stage.run("Is the war a crime against the Iraqi people?", scored, TEXTS, top=3)
    assert reread[0].index == 1  # "The war is a crime against the people of Iraq."
    assert all(s.features.cross is not None for s in reread)
    assert reread[0].score > scored[0].score


def test_only_the_top_is_read_and_nothing_changes_without_a_model(model) -> None:  # type: ignore[no-untyped-def]
    scored = [sentence(0, 0.60, 0.5), sentence(1, 0.58, 0.5)]
    reread = RerankStage(model, ScoringPolicy(rerank_weight=0.0)).run("war", scored, TEXTS, 1)
    assert reread[0].features.cross is not None and reread[1].features.cross is None
    assert RerankStage(None, ScoringPolicy()).run("war", scored, TEXTS, 8) == scored


def test_reranking_can_be_turned_off_and_a_bad_folder_is_one_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert load_reranker("none") is None and load_reranker(None) is None
    with pytest.raises(RerankerError, match="No cross-encoder"):
        load_reranker(str(tmp_path))


class CountingModel:
    """Wraps the real cross-encoder and counts the pairs it reads."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        self.model = model
        self.pairs = 0

    def score(self, question, texts):  # type: ignore[no-untyped-def]
        self.pairs += len(texts)
        return self.model.score(question, texts)


def test_at_weight_zero_reading_stops_at_the_floor_with_the_same_decision(model) -> None:  # type: ignore[no-untyped-def]
    from rag.stages.select import not_addressed

    scored = [sentence(1, 0.60, 0.5), sentence(0, 0.59, 0.5), sentence(2, 0.58, 0.5)]
    question = "Is the war a crime against the Iraqi people?"
    for floor in (-8.0, 50.0):  # the best sentence clears -8; nothing clears 50
        policy = ScoringPolicy(rerank_weight=0.0, rerank_floor=floor)
        counting = CountingModel(model)
        early = RerankStage(counting, policy).run(question, scored, TEXTS, top=3)
        full = RerankStage(model, policy, read_all=True).run(question, scored, TEXTS, top=3)
        assert not_addressed(early, policy) == not_addressed(full, policy) == (floor > 0)
        assert counting.pairs == (1 if floor < 0 else 3)
        assert [s.index for s in early] == [s.index for s in full]  # weight 0: order kept
