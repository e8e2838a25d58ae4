"""Hostile input files (issue 22 F11, F12): impossible dates ignored with a warning,
symlinks that leave the folder skipped."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.service import Services


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_an_impossible_date_in_front_matter_is_ignored_with_a_warning(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: ``date: 2019-02-30`` (unquoted) skipped a .md file ("day is out of range
    for month"), and kept a .txt file's front matter as quotable text."""
    head = "---\ntitle: The Budget\ndate: 2019-02-30\n---\n"
    _write(tmp_path / "c" / "budget.md", head + "The budget must balance by next year.")
    _write(tmp_path / "c" / "notes.txt", head + "Schools need more teachers this year.")
    with caplog.at_level(logging.WARNING):
        report = Ingestor(services.settings, services.store, services.embedder).run(
            [tmp_path / "c"]
        )
    assert report.summary()["new"] == 2, report.outcomes
    for sid, text in (
        ("budget", "The budget must balance by next year."),
        ("notes", "Schools need more teachers this year."),
    ):
        statement = services.store.statement(sid)
        assert (statement.title, statement.date, statement.text) == ("The Budget", None, text)
    assert "date '2019-02-30' is not YYYY[-MM[-DD]]: ignored" in caplog.text


def test_a_symlink_out_of_the_folder_is_not_followed(services: Services, tmp_path: Path) -> None:
    """Before: ``passwd.txt -> /etc/passwd`` in a corpus folder became a searchable
    statement. A link to a file inside the folder is still read."""
    folder = tmp_path / "corpus"
    _write(folder / "real.txt", "A statement that is really in the folder.")
    secret = _write(tmp_path / "outside" / "secret.txt", "Private words outside the corpus.")
    (folder / "passwd.txt").symlink_to(secret)
    (folder / "sub").mkdir()
    (folder / "sub" / "alias.txt").symlink_to(folder / "real.txt")
    report = Ingestor(services.settings, services.store, services.embedder).run([folder])
    reasons = {Path(o.path).name: o.reason for o in report.skipped}
    assert reasons == {"passwd.txt": "a symlink to a file outside the folder is not followed"}
    texts = services.store.statement_texts([s.statement_id for s in services.store.statements()])
    assert "Private words outside the corpus." not in texts.values()
    assert "A statement that is really in the folder." in texts.values()
