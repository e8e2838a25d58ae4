"""The metric arithmetic on hand-computed examples (no model needed)."""

from __future__ import annotations

import pytest

from evals.cases import Case, Gold
from evals.metrics import (
    CaseResult,
    Quote,
    abstention_scores,
    aggregate,
    check_metrics,
    evidence_hit,
    recall_at_k,
    reciprocal_rank,
    score_case,
)
from evals.report import baseline_from, compare_with_baseline, render_markdown

A, B = "stmt_a", "stmt_b"
CASE = Case(
    id="c1",
    kind="both",
    question="q?",
    answerable=True,
    gold=(Gold(A, (2, 3), ("alpha beta",)), Gold(B, (5,), ("gamma",))),
)
UNANSWERABLE = Case(id="u1", kind="unanswerable", question="q?", answerable=False)


def _quote(n: int, sid: str, paragraph: int, text: str, exact: bool = True) -> Quote:
    return Quote(n, sid, paragraph, 0, len(text), text, exact)


def _result(
    case: Case, citations: list[Quote], retrieved: list[tuple[str, int]], abstained: bool = False
) -> CaseResult:
    result = CaseResult(
        id=case.id,
        kind=case.kind,
        question=case.question,
        answerable=case.answerable,
        expected_evidence=list(case.evidence),
        abstained=abstained,
        resolved_question=None,
        citations=citations,
        nearest=[],
        not_addressed=[],
        retrieved=retrieved,
        latency_ms=10.0,
        quotes_exact=sum(q.exact for q in citations),
        quotes_total=len(citations),
    )
    return score_case(case, result)


def test_retrieval_metrics() -> None:
    retrieved = [(A, 1), (A, 3), (B, 1), (B, 5)]
    gold = {(A, 2), (A, 3), (B, 5)}
    assert recall_at_k(retrieved, gold, 8) == pytest.approx(2 / 3)
    assert recall_at_k(retrieved, gold, 2) == pytest.approx(1 / 3)
    assert reciprocal_rank(retrieved, gold) == 0.5
    assert reciprocal_rank([(A, 9)], gold) == 0.0


def test_evidence_counts_only_the_first_three_quotes() -> None:
    quotes = ["x", "y", "z", "the gamma ray"]
    assert not evidence_hit(quotes, ["gamma"])
    assert evidence_hit(quotes[1:], ["gamma"])


def test_abstention_scores() -> None:
    # (abstained, unanswerable): 2 true positives, 1 false abstention, 1 missed refusal
    pairs = [(True, True), (True, True), (True, False), (False, True), (False, False)]
    precision, recall, f1 = abstention_scores(pairs)
    assert (precision, recall, f1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))


def test_score_case_and_aggregate() -> None:
    good = _result(
        CASE,
        [_quote(1, A, 4, "so alpha beta"), _quote(2, A, 7, "off topic"), _quote(3, B, 5, "g")],
        [(A, 2), (B, 5), (A, 3)],
    )
    assert good.evidence_hit and good.statements_covered
    assert (good.cited_correct, good.cited_total) == (2, 3)  # ¶4 has the evidence, ¶7 does not
    assert good.issues == ["off-gold quote [2] (¶7)"]
    one_sided = _result(CASE, [_quote(1, A, 2, "nothing", exact=False)], [(B, 1)])
    assert one_sided.statements_covered is False
    assert not one_sided.evidence_hit
    refused = _result(UNANSWERABLE, [], [], abstained=True)
    values = aggregate([good, one_sided, refused])
    assert values["evidence_recall"] == 0.5
    assert values["statement_coverage"] == 0.5
    assert values["quote_exactness"] == pytest.approx(3 / 4)
    assert values["citation_precision"] == pytest.approx(3 / 4)
    assert values["abstention_recall"] == 1.0
    check = check_metrics([good, one_sided, refused], {"quote_exactness": 1.0})
    assert not check["quote_exactness"].passed
    assert "c1 (1/1 inexact)" in check["quote_exactness"].message()


def test_baseline_diff_names_better_and_worse_cases() -> None:
    before = _result(CASE, [_quote(1, A, 2, "alpha beta")], [(A, 2)])
    after = _result(CASE, [], [(A, 2)], abstained=True)
    diff = compare_with_baseline([after], baseline_from([before]))
    assert diff is not None
    assert [row["id"] for row in diff["worse"]] == ["c1"]
    assert {c["field"] for c in diff["worse"][0]["changes"]} >= {"evidence_hit"}
    diff = compare_with_baseline([before], baseline_from([after]))
    assert diff is not None and [row["id"] for row in diff["better"]] == ["c1"]


def test_markdown_escapes_table_cells() -> None:
    from dataclasses import asdict

    result = _result(CASE, [_quote(1, A, 2, "alpha beta | pipe\nnewline")], [(A, 2)])
    result.issues = ["forced | issue"]
    report = {
        "generated_at": "now",
        "cases": 1,
        "answerable": 1,
        "statements": {},
        "passed": True,
        "aggregate": aggregate([result]),
        "floors": {},
        "below_floor": {},
        "by_kind": {},
        "baseline_diff": None,
        "failed_cases": ["c1"],
        "results": [asdict(result)],
    }
    markdown = render_markdown(report)
    row = next(line for line in markdown.splitlines() if line.startswith("| `c1` | both | q?"))
    assert "alpha beta \\| pipe newline" in row
    assert row.count(" | ") == 6  # seven cells, none broken by the quote
