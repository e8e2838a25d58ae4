"""The gate works: deliberately broken quote offsets make the eval fail, naming the cases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

import rag.stages.select
import rag.stages.verify
from evals.cases import Case
from evals.harness import EvalRun, run_cases
from evals.metrics import check_metrics
from evals.report import compare_with_baseline, load_baseline
from rag.service import Services

SUBSET = 10
SHIFT = 3


@pytest.fixture
def subset(eval_run: EvalRun, cases: list[Case]) -> list[Case]:
    """Answerable cases that the unbroken system gets right (so any drop is the injection's)."""
    good = {r.id for r in eval_run.results if r.evidence_hit}
    chosen = [c for c in cases if c.id in good][:SUBSET]
    assert len(chosen) >= 5, "too few passing cases to demonstrate the gate"
    return chosen


def _shifted(select_quotes: Callable[..., Any]) -> Callable[..., Any]:
    """Quote selection whose offsets are off by SHIFT characters; the quote text is kept."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        spans = select_quotes(*args, **kwargs)
        return [replace(s, start=s.start + SHIFT, end=s.end + SHIFT) for s in spans]

    return broken


def test_shifted_offsets_are_dropped_and_the_gate_fails(
    monkeypatch: pytest.MonkeyPatch,
    eval_services: Services,
    subset: list[Case],
    floors: dict[str, float],
) -> None:
    monkeypatch.setattr(
        rag.stages.select, "select_quotes", _shifted(rag.stages.select.select_quotes)
    )
    results = run_cases(eval_services, subset)
    checks = check_metrics(results, floors)

    # verification refuses every shifted quote, so what is shown stays verbatim ...
    assert all(not r.citations and r.abstained for r in results)
    assert checks["quote_exactness"].passed
    # ... but the answers are gone, and the gate says so, naming each case
    for metric in ("evidence_recall", "abstention_precision"):
        assert not checks[metric].passed, f"{metric} did not catch the broken quotes"
        message = checks[metric].message()
        assert metric in message and f"{floors[metric]:.3f}" in message
        assert all(case.id in message for case in subset)
    baseline = load_baseline()
    if baseline is not None:
        diff = compare_with_baseline(results, baseline)
        assert diff is not None
        worse = {row["id"] for row in diff["worse"]}
        was_good = {c.id for c in subset if baseline["cases"].get(c.id, {}).get("evidence_hit")}
        assert was_good <= worse


def test_unverified_shifted_quotes_fail_quote_exactness(
    monkeypatch: pytest.MonkeyPatch,
    eval_services: Services,
    subset: list[Case],
    floors: dict[str, float],
) -> None:
    """Had the verbatim check itself regressed, quote exactness would catch it."""
    monkeypatch.setattr(
        rag.stages.select, "select_quotes", _shifted(rag.stages.select.select_quotes)
    )
    monkeypatch.setattr(rag.stages.verify, "verify", lambda *args, **kwargs: True)
    results = run_cases(eval_services, subset)
    check = check_metrics(results, floors)["quote_exactness"]

    assert check.value is not None and check.value < 1.0
    assert not check.passed
    message = check.message()
    assert "quote_exactness" in message and "1.000" in message
    assert all(case.id in message for case in subset)
