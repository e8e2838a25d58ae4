"""``rag ask --author``: the CLI passes the author filter through to the core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rag.models import Answer, Filters
from ui.cli import app


class _Answerer:
    def __init__(self) -> None:
        self.filters: list[Filters] = []

    def answer(self, question: str, filters: Filters, *args: Any, **kwargs: Any) -> Answer:
        self.filters.append(filters)
        return Answer(question=question, abstained=True, answer="")


class _Services:
    def __init__(self) -> None:
        self.answerer = _Answerer()


def test_ask_passes_the_author_filter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    services = _Services()
    monkeypatch.setenv("RAG_HOME", str(tmp_path))
    monkeypatch.setattr("rag.service.build_services", lambda settings, **_: services)
    result = CliRunner().invoke(app, ["ask", "What do they demand?", "--author", "Jane Doe"])
    assert result.exit_code == 0, result.output
    assert services.answerer.filters[-1].author == "Jane Doe"
    helped = CliRunner().invoke(app, ["ask", "--help"], env={"COLUMNS": "200"})
    assert "--author" in helped.output and "Only this author." in helped.output
