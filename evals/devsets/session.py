"""Development sets in a test session: each ingested once into its own data directory
(embedding like the app) and answered once, on first use; the report is kept current."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evals.devsets import SETS
from evals.devsets.report import write
from evals.devsets.results import DevResult
from evals.devsets.run import devset_services, run_devset
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.encoders.onnx import HybridEmbedder, export_dir
from rag.service import Services


class DevsetRuns:
    """Services and results per set, built lazily and shared by all tests."""

    def __init__(
        self,
        mktemp: Callable[[str], Path],
        embedder: SentenceTransformerEmbedder,
        reports: Path,
    ) -> None:
        self._mktemp = mktemp
        self._embedder = embedder
        self._reports = reports
        self._services: dict[str, Services] = {}
        self.results_by_set: dict[str, list[DevResult]] = {}

    def services(self, name: str) -> Services:
        if name not in self._services:
            home = self._mktemp(f"devset-{name}")
            hybrid = HybridEmbedder(self._embedder, export_dir(home, self._embedder.model_name))
            self._services[name] = devset_services(home, SETS[name], embedder=hybrid)
            assert hybrid.query_backend() == "onnx", "the ingest did not write the ONNX export"
        return self._services[name]

    def results(self, name: str) -> list[DevResult]:
        if name not in self.results_by_set:
            devset = SETS[name]
            self.results_by_set[name] = run_devset(self.services(name), devset, devset.cases())
            self.write_report()
        return self.results_by_set[name]

    def write_report(self) -> None:
        if self.results_by_set:
            write(self.results_by_set, self._reports)
