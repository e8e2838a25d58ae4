"""Per-file metadata for uploads: a ``statements.json`` uploaded with the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import ingest_lock
from rag.service import Services
from rag.settings import Settings
from ui.web import sources, uploads
from ui.web.uploads import merge_sidecar, split_sidecar, statement_files, summary


def test_sidecar_is_merged_under_the_saved_names(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = tmp_path / "statements.json"
    first.write_text(
        json.dumps(
            {
                "My Statement (1).txt": {"organization": "Org A", "date": "2020", "bogus": "x"},
                "b.md": {"author": "B. Writer"},
            }
        )
    )
    assert merge_sidecar(settings, first) == ("metadata", "statements.json: metadata for 2 file(s)")
    second = tmp_path / "again" / "statements.json"
    second.parent.mkdir()
    second.write_text(json.dumps({"b.md": {"author": "New Writer"}}))
    merge_sidecar(settings, second)
    saved = json.loads((settings.uploads_dir / "statements.json").read_text())
    assert saved == {
        "My-Statement-1.txt": {"organization": "Org A", "date": "2020"},
        "b.md": {"author": "New Writer"},
    }


def test_a_bad_sidecar_is_reported(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    bad = tmp_path / "statements.json"
    bad.write_text("{not json")
    status, note = merge_sidecar(settings, bad)
    assert status == "error" and note.startswith("statements.json: not valid JSON")
    bad.write_text("[1, 2]")
    assert (
        merge_sidecar(settings, bad)[1] == "statements.json: expected an object keyed by file name"
    )


def test_split_sidecar() -> None:
    files, sidecars = split_sidecar(["/t/a.txt", "/t/statements.json", "/t/other.json"])
    assert files == ["/t/a.txt", "/t/other.json"] and sidecars == ["/t/statements.json"]


def _no_progress(*_: Any, **__: Any) -> None:
    return None


def _handlers(services: Services, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[str]]:
    toasts: list[str] = []
    monkeypatch.setattr(sources, "info", toasts.append)
    monkeypatch.setattr(sources, "warn", toasts.append)
    return sources.SourceHandlers(services, services.settings), toasts


def test_upload_toast_counts_new_unchanged_and_skipped(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handlers, toasts = _handlers(services, monkeypatch)
    (tmp_path / "a.txt").write_text("The ferry club demands a night ferry to the islands.\n")
    (tmp_path / "b.txt").write_text("The rail club demands a night train to the coast.\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    files = [str(tmp_path / n) for n in ("a.txt", "b.txt")]
    handlers.upload(files[:1], "", "", "", "", progress=_no_progress)
    assert toasts[-1] == "1 new: ask about them now."
    handlers.upload([*files, str(tmp_path / "pyproject.toml")], "", "", "", "", _no_progress)
    assert toasts[-1] == "1 new, 1 unchanged, 1 skipped: ask about them now."
    assert summary([("skipped", "x"), ("error", "y")]) == "1 skipped"


def test_skipped_and_failed_uploads_leave_no_copy(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only ingested statements stay in RAG_HOME/uploads: a file ingest skips, or an upload
    refused because another ingest holds the lock (said in the page's words)."""
    handlers, toasts = _handlers(services, monkeypatch)
    settings = services.settings
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "good.txt").write_text("The garden club demands a community garden.\n")
    report, *_ = handlers.upload(
        [str(tmp_path / "empty.txt"), str(tmp_path / "good.txt")], "", "", "", "", _no_progress
    )
    assert "empty.txt" in report and "rag-ingest-skipped" in report
    assert statement_files(settings) == {settings.uploads_dir / "good.txt"}

    (tmp_path / "late.txt").write_text("The choir demands a concert hall.\n")
    monkeypatch.setattr(uploads, "LOCK_WAIT", 0.1)
    with ingest_lock(settings):
        report, *_ = handlers.upload([str(tmp_path / "late.txt")], "", "", "", "", _no_progress)
    assert "try again when it has finished" in toasts[-1] and "--wait" not in toasts[-1]
    assert "--wait" not in report and "rag-ingest-error" in report
    assert statement_files(settings) == {settings.uploads_dir / "good.txt"}
    assert "late" not in {s.statement_id for s in services.store.statements()}
