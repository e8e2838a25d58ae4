"""The regression gate: every metric at or above its floor in evals/thresholds.toml.

All cases run once (the ``eval_run`` fixture), which also writes evals/reports/latest.md
and latest.json; each test below checks one metric and names the cases that pull it down.
"""

from __future__ import annotations

import json

import pytest

from evals.harness import EvalRun
from evals.metrics import METRICS, REPORTED_ONLY, check_metrics

GATED = [m for m in METRICS if m not in REPORTED_ONLY]


def test_every_gated_metric_has_a_floor(floors: dict[str, float]) -> None:
    missing = [m for m in GATED if m not in floors]
    assert not missing, f"evals/thresholds.toml has no floor for: {', '.join(missing)}"
    assert floors["quote_exactness"] == 1.0, "quote exactness must be gated at exactly 1.0"


@pytest.mark.parametrize("metric", GATED)
def test_metric_meets_its_floor(metric: str, eval_run: EvalRun, floors: dict[str, float]) -> None:
    if metric not in floors:
        pytest.fail(f"no floor for {metric} in evals/thresholds.toml")
    check = check_metrics(eval_run.results, {metric: floors[metric]})[metric]
    assert check.passed, f"{check.message()} (report: {eval_run.markdown})"


def test_every_quote_is_verbatim(eval_run: EvalRun) -> None:
    """The worst bug: a quote that is not exactly in the statement. Never tolerated."""
    check = check_metrics(eval_run.results, {"quote_exactness": 1.0})["quote_exactness"]
    assert check.value == 1.0, check.message()


def test_report_is_written(eval_run: EvalRun) -> None:
    markdown = eval_run.markdown.read_text(encoding="utf-8")
    for heading in (
        "## What the metrics mean",
        "## Aggregate",
        "## By kind of case",
        "## Compared with the baseline",
        "## Cases with issues",
        "## All cases",
    ):
        assert heading in markdown
    data = json.loads(eval_run.json.read_text(encoding="utf-8"))
    assert data["cases"] == len(eval_run.results)
    assert set(GATED) <= set(data["aggregate"])
    assert {r["id"] for r in data["results"]} == {r.id for r in eval_run.results}
