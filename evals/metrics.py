"""Per-case scores and aggregate metrics. Pure functions: no model, no store.

Metric names here are the keys of ``evals/thresholds.toml`` and of the reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from evals.cases import KINDS, Case

RETRIEVAL_K = 8
EVIDENCE_TOP = 3

METRICS: dict[str, str] = {
    "retrieval_recall_at_8": "Share of a case's gold paragraphs found among the top 8 retrieved "
    "passages (averaged over answerable cases).",
    "retrieval_mrr": "Mean reciprocal rank of the first retrieved passage from a gold paragraph "
    "(1 = first, 0.5 = second, ... 0 = not in the top 8).",
    "evidence_recall": "Share of answerable cases where one of the first 3 quotes contains an "
    "expected evidence string.",
    "statement_coverage": "Share of 'both'/'compare' cases (answer in two statements) where "
    "every gold statement is quoted at least once.",
    "quote_exactness": "Share of all shown quotes (citations and 'nearest' passages) that are "
    "exactly statement_text[start:end]. Anything below 1.0 is a bug.",
    "citation_precision": "Share of quotes in answers to answerable cases that come from a gold "
    "paragraph or contain an evidence string.",
    "abstention_precision": "Of the cases where the system abstained, the share that really "
    "cannot be answered from the statements.",
    "abstention_recall": "Of the cases that cannot be answered, the share where the system "
    "abstained instead of quoting something.",
    "abstention_f1": "Harmonic mean of abstention precision and recall.",
    "latency_p50_ms": "Median time to answer one question, in milliseconds (reported only).",
    "latency_p95_ms": "95th-percentile time to answer one question, in milliseconds "
    "(reported only).",
}
REPORTED_ONLY = frozenset({"latency_p50_ms", "latency_p95_ms"})


@dataclass(frozen=True)
class Quote:
    """A quote as the answer showed it, and whether it is verbatim in the statement."""

    n: int
    statement_id: str
    paragraph: int
    start: int
    end: int
    quote: str
    exact: bool


@dataclass
class CaseResult:
    """What the system did on one case, and how that scores."""

    id: str
    kind: str
    question: str
    answerable: bool
    expected_evidence: list[str]
    abstained: bool
    resolved_question: str | None
    citations: list[Quote]
    nearest: list[Quote]
    not_addressed: list[str]
    retrieved: list[tuple[str, int]]
    latency_ms: float
    quotes_exact: int
    quotes_total: int
    recall_at_k: float | None = None
    reciprocal_rank: float | None = None
    evidence_hit: bool | None = None
    statements_covered: bool | None = None
    cited_correct: int = 0
    cited_total: int = 0
    issues: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.issues)


# -- building blocks --------------------------------------------------------------------


def recall_at_k(
    retrieved: Sequence[tuple[str, int]], gold: Iterable[tuple[str, int]], k: int
) -> float:
    """Share of gold paragraphs among the first ``k`` retrieved ones."""
    wanted = set(gold)
    if not wanted:
        return 0.0
    return len(wanted & set(retrieved[:k])) / len(wanted)


def reciprocal_rank(retrieved: Sequence[tuple[str, int]], gold: Iterable[tuple[str, int]]) -> float:
    """1/rank of the first gold paragraph, 0 when none was retrieved."""
    wanted = set(gold)
    for rank, key in enumerate(retrieved, start=1):
        if key in wanted:
            return 1.0 / rank
    return 0.0


def evidence_hit(quotes: Sequence[str], evidence: Iterable[str], top: int = EVIDENCE_TOP) -> bool:
    """True when one of the first ``top`` quotes contains one of the evidence strings."""
    wanted = list(evidence)
    return any(ev in quote for quote in quotes[:top] for ev in wanted)


def citation_correct(case: Case, quote: Quote) -> bool:
    """A citation is correct if it is from a gold paragraph or quotes the evidence."""
    if (quote.statement_id, quote.paragraph) in case.gold_paragraphs:
        return True
    return any(
        ev in quote.quote
        for g in case.gold
        if g.statement_id == quote.statement_id
        for ev in g.evidence
    )


def abstention_scores(pairs: Iterable[tuple[bool, bool]]) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``abstained`` (predicted) against ``unanswerable`` (true)."""
    tp = fp = fn = 0
    for abstained, unanswerable in pairs:
        tp += abstained and unanswerable
        fp += abstained and not unanswerable
        fn += unanswerable and not abstained
    positives = tp + fn
    precision = tp / (tp + fp) if tp + fp else (1.0 if positives == 0 else 0.0)
    recall = tp / positives if positives else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else 0.0


# -- scoring a case -----------------------------------------------------------------------


def score_case(case: Case, result: CaseResult) -> CaseResult:
    """Fill in the metric fields and the list of issues of ``result`` (returned)."""
    issues: list[str] = []
    if result.quotes_exact < result.quotes_total:
        issues.append(f"{result.quotes_total - result.quotes_exact} inexact quote(s)")
    if not case.answerable:
        if not result.abstained:
            issues.append("answered a question the statements cannot answer")
        result.issues = issues
        return result
    gold = case.gold_paragraphs
    result.recall_at_k = recall_at_k(result.retrieved, gold, RETRIEVAL_K)
    result.reciprocal_rank = reciprocal_rank(result.retrieved[:RETRIEVAL_K], gold)
    result.evidence_hit = evidence_hit([c.quote for c in result.citations], case.evidence)
    correct = [citation_correct(case, c) for c in result.citations]
    result.cited_correct, result.cited_total = sum(correct), len(correct)
    if case.multi_statement:
        cited = {c.statement_id for c in result.citations}
        missing = [g.statement_id for g in case.gold if g.statement_id not in cited]
        result.statements_covered = not missing
        if missing and not result.abstained:
            issues.append(f"no quote from {', '.join(missing)}")
    if result.reciprocal_rank == 0.0:
        issues.append(f"no gold paragraph in the top {RETRIEVAL_K} retrieved")
    if result.abstained:
        issues.append("abstained on an answerable question")
    elif not result.evidence_hit:
        issues.append(f"no evidence in the first {EVIDENCE_TOP} quotes")
    for citation, ok in zip(result.citations, correct):
        if not ok:
            issues.append(f"off-gold quote [{citation.n}] (¶{citation.paragraph})")
    result.issues = issues
    return result


# -- aggregation --------------------------------------------------------------------------


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def aggregate(results: Sequence[CaseResult]) -> dict[str, float | None]:
    """Every metric of ``METRICS`` over ``results`` (None when no case applies)."""
    answerable = [r for r in results if r.answerable]
    multi = [r for r in answerable if r.statements_covered is not None]
    total_quotes = sum(r.quotes_total for r in results)
    cited_total = sum(r.cited_total for r in answerable)
    precision, recall, f1 = abstention_scores((r.abstained, not r.answerable) for r in results)
    latencies = [r.latency_ms for r in results]
    return {
        "retrieval_recall_at_8": _mean(r.recall_at_k or 0.0 for r in answerable),
        "retrieval_mrr": _mean(r.reciprocal_rank or 0.0 for r in answerable),
        "evidence_recall": _mean(float(bool(r.evidence_hit)) for r in answerable),
        "statement_coverage": _mean(float(bool(r.statements_covered)) for r in multi),
        "quote_exactness": (
            sum(r.quotes_exact for r in results) / total_quotes if total_quotes else 1.0
        ),
        "citation_precision": (
            sum(r.cited_correct for r in answerable) / cited_total if cited_total else None
        ),
        "abstention_precision": precision,
        "abstention_recall": recall,
        "abstention_f1": f1,
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def by_kind(results: Sequence[CaseResult]) -> dict[str, dict[str, float | int | None]]:
    """A compact breakdown per kind of case, in the order of ``KINDS``."""
    table: dict[str, dict[str, float | int | None]] = {}
    for kind in KINDS:
        rows = [r for r in results if r.kind == kind]
        if not rows:
            continue
        answerable = [r for r in rows if r.answerable]
        cited_total = sum(r.cited_total for r in answerable)
        covered = [r for r in answerable if r.statements_covered is not None]
        table[kind] = {
            "cases": len(rows),
            "failed": sum(r.failed for r in rows),
            "retrieval_recall_at_8": _mean(r.recall_at_k or 0.0 for r in answerable),
            "retrieval_mrr": _mean(r.reciprocal_rank or 0.0 for r in answerable),
            "evidence_recall": _mean(float(bool(r.evidence_hit)) for r in answerable),
            "statement_coverage": _mean(float(bool(r.statements_covered)) for r in covered),
            "citation_precision": (
                sum(r.cited_correct for r in answerable) / cited_total if cited_total else None
            ),
            "abstained": sum(r.abstained for r in rows) / len(rows),
            "latency_p50_ms": percentile([r.latency_ms for r in rows], 50),
        }
    return table


def culprits(metric: str, results: Sequence[CaseResult]) -> list[str]:
    """The cases that pull ``metric`` below 1.0, each as ``id (detail)``."""
    out: list[str] = []
    for r in results:
        detail: str | None = None
        if metric == "retrieval_recall_at_8" and r.answerable and (r.recall_at_k or 0.0) < 1.0:
            detail = f"recall {r.recall_at_k or 0.0:.2f}"
        elif metric == "retrieval_mrr" and r.answerable and (r.reciprocal_rank or 0.0) < 1.0:
            detail = f"RR {r.reciprocal_rank or 0.0:.2f}"
        elif metric == "evidence_recall" and r.answerable and not r.evidence_hit:
            detail = "abstained" if r.abstained else "evidence not quoted"
        elif metric == "statement_coverage" and r.statements_covered is False:
            detail = "a gold statement is not quoted"
        elif metric == "quote_exactness" and r.quotes_exact < r.quotes_total:
            detail = f"{r.quotes_total - r.quotes_exact}/{r.quotes_total} inexact"
        elif metric == "citation_precision" and r.cited_correct < r.cited_total:
            detail = f"{r.cited_total - r.cited_correct}/{r.cited_total} off-gold"
        elif metric in ("abstention_precision", "abstention_f1") and r.answerable and r.abstained:
            detail = "abstained on an answerable question"
        elif (
            metric in ("abstention_recall", "abstention_f1")
            and not r.answerable
            and (not r.abstained)
        ):
            detail = "answered an unanswerable question"
        if detail is not None:
            out.append(f"{r.id} ({detail})")
    return out


@dataclass(frozen=True)
class MetricCheck:
    """One metric against its floor, with the cases that pull it down."""

    metric: str
    value: float | None
    floor: float
    culprits: list[str]

    @property
    def passed(self) -> bool:
        return self.value is not None and self.value >= self.floor - 1e-9

    def message(self) -> str:
        if self.value is None:
            return (
                f"{self.metric} has no value (no case it applies to, or no quotes at all); "
                f"its floor is {self.floor:.3f}"
            )
        cases = "; ".join(self.culprits) or "none listed"
        return f"{self.metric} = {self.value:.3f}, below its floor {self.floor:.3f}. Cases: {cases}"


def check_metrics(
    results: Sequence[CaseResult], floors: dict[str, float]
) -> dict[str, MetricCheck]:
    values = aggregate(results)
    return {
        metric: MetricCheck(metric, values.get(metric), floor, culprits(metric, results))
        for metric, floor in floors.items()
        if metric not in REPORTED_ONLY
    }
