"""Retrieval maths as pure functions: reciprocal-rank fusion and exact dense search."""

from __future__ import annotations

import numpy as np
import pytest

from rag.stages.retrieve import exact_search, rrf_fuse


def test_fusion_rewards_agreement_and_normalises_to_the_best() -> None:
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.1)]
    keyword = [("b", 7.0), ("d", 3.0)]
    fused = rrf_fuse([dense, keyword], rrf_k=60, k=10)
    assert [pid for pid, _ in fused] == ["b", "a", "d", "c"]
    assert fused[0][1] == 1.0
    best = 1 / 62 + 1 / 61
    assert fused[1][1] == pytest.approx((1 / 61) / best)
    assert fused[2][1] == pytest.approx((1 / 62) / best)


def test_fusion_ignores_the_retrievers_own_scores_and_keeps_k() -> None:
    one = rrf_fuse([[("a", 100.0), ("b", -5.0)]], rrf_k=60, k=1)
    other = rrf_fuse([[("a", 0.0), ("b", 0.0)]], rrf_k=60, k=1)
    assert one == other == [("a", 1.0)]


def test_fusion_of_nothing_is_nothing() -> None:
    assert rrf_fuse([[], []], rrf_k=60, k=5) == []


def test_exact_search_ranks_by_dot_product_among_the_given_passages() -> None:
    vectors = {
        "a": np.array([1.0, 0.0], dtype=np.float32),
        "b": np.array([0.6, 0.8], dtype=np.float32),
        "c": np.array([0.0, 1.0], dtype=np.float32),
    }
    found = exact_search(np.array([0.0, 1.0]), ["a", "b", "c", "gone"], vectors, n=2)
    assert [pid for pid, _ in found] == ["c", "b"]
    assert found[1][1] == pytest.approx(0.8)
    assert exact_search(np.array([1.0, 0.0]), ["gone"], vectors, n=2) == []
