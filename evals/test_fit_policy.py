"""The policy fit prefers the early-stopping cross-encoder unless a weight clearly pays."""

from __future__ import annotations

import pytest

from evals import fit_policy as fp


def answerable(lifted: bool) -> fp.Sample:
    """Right at the top; or (``lifted``) below four wrong sentences, which only a cross-
    encoder weight lifts into the first three."""
    if not lifted:
        return fp.Sample("set", True, (fp.Row(0.5, 0.5, 5.0, True),))
    wrong = tuple(fp.Row(0.5, 0.5, -5.0, False) for _ in range(4))
    return fp.Sample("set", True, (*wrong, fp.Row(0.49, 0.5, 5.0, True)))


UNANSWERABLE = fp.Sample("set", False, (fp.Row(0.1, 0.1, -9.0, False),))


@pytest.fixture(autouse=True)
def small_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fp, "WEIGHTS", (0.0, 0.1))
    monkeypatch.setattr(fp, "TOPS", (4, 8))
    monkeypatch.setattr(fp, "FLOORS", (-12.0,))
    monkeypatch.setattr(fp, "CUTOFFS", (0.88,))
    monkeypatch.setattr(fp, "SHARES", (0.8,))


def test_a_weight_that_gains_less_than_the_margin_is_not_worth_reading_every_pair() -> None:
    samples = [answerable(False)] * 59 + [answerable(True), UNANSWERABLE]
    result = fp.fit(samples, min_score=0.275)  # the weight gains 1/120 < READ_ALL_MIN_GAIN
    assert result["rerank_weight"] == 0.0 and result["rerank_top"] == 4


def test_a_weight_that_clearly_gains_is_chosen() -> None:
    samples = [answerable(False)] * 3 + [answerable(True), UNANSWERABLE]
    result = fp.fit(samples, min_score=0.275)  # the weight gains 1/8
    assert result["rerank_weight"] == 0.1 and result["rerank_top"] == 8
