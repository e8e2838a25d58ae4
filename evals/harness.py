"""Run the eval cases through the real answerer and score them.

    python -m evals.harness                   # run, write evals/reports/latest.{md,json}
    python -m evals.harness --write-baseline  # ... and make this run the committed baseline

The statements are ingested fresh into a temporary directory; nothing touches the user's
data. No LLM is involved, so a run is deterministic.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.cases import CASES_PATH, EVALS_DIR, Case, load_cases
from evals.metrics import METRICS, RETRIEVAL_K, CaseResult, Quote, check_metrics, score_case
from evals.report import (
    BASELINE_PATH,
    REPORTS_DIR,
    baseline_from,
    build_report,
    load_baseline,
    write_json,
    write_report,
)
from rag.models import Answer, Citation, Filters
from rag.service import Services

logger = logging.getLogger(__name__)

THRESHOLDS_PATH = EVALS_DIR / "thresholds.toml"
WARM_UP = "What do the statements say?"


@dataclass
class EvalRun:
    """One run of the whole set: the scored cases and the report written for them."""

    results: list[CaseResult]
    report: dict[str, Any]
    markdown: Path
    json: Path


def ingested_services(home: Path, paths: Sequence[Path], embedder: Any = None) -> Services:
    """Services over a fresh ingest of ``paths`` (files or folders) in ``home``."""
    from ingest.pipeline import Ingestor
    from rag.service import build_services
    from rag.settings import Settings

    settings = Settings(home=home)
    services = build_services(settings, embedder=embedder)
    report = Ingestor(settings, services.store, services.embedder).run(list(paths))
    if report.skipped:
        raise RuntimeError(f"ingest skipped files: {report.summary()}")
    services.catalog.invalidate()
    return services


def bundled_services(home: Path, embedder: Any = None) -> Services:
    """Services over a fresh ingest of the bundled statements in ``home``."""
    from ingest.pipeline import BUNDLED_CORPUS

    return ingested_services(home, [BUNDLED_CORPUS], embedder)


class StatementTexts:
    """Statement clean texts, fetched once: the ground truth every quote is checked against."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._texts: dict[str, str] = {}

    def get(self, statement_id: str) -> str:
        if statement_id not in self._texts:
            self._texts[statement_id] = self._services.store.statement(statement_id).text or ""
        return self._texts[statement_id]

    def quotes(self, citations: Sequence[Citation]) -> list[Quote]:
        return [
            Quote(
                n=c.n,
                statement_id=c.statement_id,
                paragraph=c.paragraph,
                start=c.start,
                end=c.end,
                quote=c.quote,
                exact=bool(c.quote) and self.get(c.statement_id)[c.start : c.end] == c.quote,
            )
            for c in citations
        ]


def run_case(services: Services, case: Case, texts: StatementTexts | None = None) -> CaseResult:
    """Answer the case's history (oldest first), then its question; score the last answer."""
    texts = texts or StatementTexts(services)
    answerer = services.answerer
    filters = Filters(**case.filters)
    history: list[Answer] = []
    shown: list[Quote] = []
    for previous in case.history:
        answer = answerer.answer(previous, filters, history=history)
        shown += texts.quotes(answer.citations) + texts.quotes(answer.nearest)
        history.append(answer)
    started = time.perf_counter()
    answer = answerer.answer(case.question, filters, history=history, compare=case.compare)
    latency_ms = (time.perf_counter() - started) * 1000
    citations = texts.quotes(answer.citations)
    nearest = texts.quotes(answer.nearest)
    shown += citations + nearest
    # retrieval as the answerer retrieves: the text the plan made of the question (a
    # follow-up's resolved topic, a comparison's topic) within the scope it chose
    plan = answerer.planner.run(case.question, filters, history, case.compare)
    scoped = filters
    if plan.narrowed:
        scoped = Filters(statement_ids=[s.statement_id for s in plan.scope])
    retrieved = [
        (stored.passage.statement_id, stored.passage.paragraph)
        for stored, _ in answerer.search(plan.retrieval_text, k=RETRIEVAL_K, filters=scoped)
    ]
    result = CaseResult(
        id=case.id,
        kind=case.kind,
        question=case.question,
        answerable=case.answerable,
        expected_evidence=list(case.evidence),
        abstained=answer.abstained,
        resolved_question=answer.resolved_question,
        citations=citations,
        nearest=nearest,
        not_addressed=[ref.statement_id for ref in answer.not_addressed],
        retrieved=retrieved,
        latency_ms=round(latency_ms, 2),
        quotes_exact=sum(q.exact for q in shown),
        quotes_total=len(shown),
    )
    return score_case(case, result)


def run_cases(services: Services, cases: Sequence[Case]) -> list[CaseResult]:
    """Every case in order. One unscored question first, so that no case's latency
    includes building the keyword index."""
    services.answerer.answer(WARM_UP)
    texts = StatementTexts(services)
    results = [run_case(services, case, texts) for case in cases]
    logger.info("ran %d eval cases", len(results))
    return results


# -- thresholds and baseline -------------------------------------------------------------


def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict[str, float]:
    """The ``[floors]`` table: metric name -> lowest acceptable value (its sub-tables,
    ``[floors.<devset>]``, are the development sets': see ``load_devset_bounds``)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    floors = {
        str(k): float(v) for k, v in data.get("floors", {}).items() if not isinstance(v, dict)
    }
    unknown = set(floors) - set(METRICS)
    if unknown:
        raise ValueError(f"{path}: unknown metric(s) {', '.join(sorted(unknown))}")
    return floors


def load_devset_bounds(path: Path = THRESHOLDS_PATH) -> dict[str, dict[str, tuple[str, float]]]:
    """Per development set: metric -> (">=", floor) from ``[floors.<set>]`` and
    (``"<="``, ceiling) from ``[ceilings.<set>]`` (metrics where lower is better)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    bounds: dict[str, dict[str, tuple[str, float]]] = {}
    for table, op in (("floors", ">="), ("ceilings", "<=")):
        for name, values in data.get(table, {}).items():
            if isinstance(values, dict):
                for metric, value in values.items():
                    bounds.setdefault(str(name), {})[str(metric)] = (op, float(value))
    return bounds


# -- command line --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.harness", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cases", type=Path, default=CASES_PATH, help="the case file")
    parser.add_argument("--reports", type=Path, default=REPORTS_DIR, help="where to write latest.*")
    parser.add_argument(
        "--write-baseline",
        action="store_true",
        help=f"write this run's results to {BASELINE_PATH.relative_to(EVALS_DIR.parent)}",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

    cases = load_cases(args.cases)
    floors = load_thresholds()
    with tempfile.TemporaryDirectory(prefix="rag-evals-") as home:
        services = bundled_services(Path(home))
        results = run_cases(services, cases)
        labels = {s.statement_id: s.label for s in services.store.statements()}
    report = build_report(results, floors, load_baseline(), labels)
    md_path, json_path = write_report(report, args.reports)
    checks = check_metrics(results, floors)
    for metric, value in report["aggregate"].items():
        check = checks.get(metric)
        mark = "" if check is None else ("  ok" if check.passed else f"  BELOW {check.floor}")
        shown = "n/a" if value is None else f"{value:.3f}"
        print(f"{metric:24} {shown:>9}{mark}")
    print(f"report: {md_path} and {json_path}")
    if args.write_baseline:
        write_json(BASELINE_PATH, baseline_from(results))
        print(f"baseline written: {BASELINE_PATH}")
    return 0 if all(c.passed for c in checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
