"""Fixtures of the eval suite: one real model, the bundled statements ingested once, and a
single run of every case shared by all tests (the report is written as a side effect)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evals.cases import Case, load_cases
from evals.devsets.session import DevsetRuns
from evals.harness import EvalRun, bundled_services, load_thresholds, run_cases
from evals.report import REPORTS_DIR, build_report, load_baseline, write_report
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.encoders.onnx import HybridEmbedder, export_dir
from rag.service import Services


@pytest.fixture(scope="session")
def eval_services(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Services:
    """Services over a fresh ingest of the bundled statements, embedding like the app does:
    passages with sentence-transformers, questions through the ONNX export the ingest
    writes. Read-only."""
    home = tmp_path_factory.mktemp("evals-home")
    hybrid = HybridEmbedder(embedder, export_dir(home, embedder.model_name))
    services = bundled_services(home, embedder=hybrid)
    assert hybrid.query_backend() == "onnx", "the ingest did not write the ONNX export"
    return services


@pytest.fixture(scope="session")
def cases() -> list[Case]:
    return load_cases()


@pytest.fixture(scope="session")
def floors() -> dict[str, float]:
    return load_thresholds()


@pytest.fixture(scope="session")
def eval_run(
    eval_services: Services, cases: list[Case], floors: dict[str, float]
) -> Iterator[EvalRun]:
    """Every case answered once; the report goes to evals/reports/latest.{md,json}."""
    results = run_cases(eval_services, cases)
    labels = {s.statement_id: s.label for s in eval_services.store.statements()}
    report = build_report(results, floors, load_baseline(), labels)
    md_path, json_path = write_report(report, REPORTS_DIR)
    yield EvalRun(results, report, md_path, json_path)


# -- development sets (evals/devsets/) ----------------------------------------------------

_DEVSETS: list[DevsetRuns] = []


@pytest.fixture(scope="session")
def devsets(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> DevsetRuns:
    """Each development set ingested and answered once per session, on first use."""
    runs = DevsetRuns(tmp_path_factory.mktemp, embedder, REPORTS_DIR)
    _DEVSETS.append(runs)
    return runs


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The development-set section goes after the bundled report, whichever ran first."""
    for runs in _DEVSETS:
        runs.write_report()
