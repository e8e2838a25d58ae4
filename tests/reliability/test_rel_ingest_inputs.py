"""Hostile input files and sidecars (issue 22 F4, F10, F11, F12): one validator for every
``statements.json``, impossible dates ignored with a warning, symlinks that leave the
folder skipped, and passage bombs merged or capped."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from ingest.pipeline import UPLOAD_SLICE, Ingestor
from ingest.uploads import ingest_uploads, merge_sidecar
from rag.models import StatementMeta
from rag.priority import Foreground
from rag.service import Services
from rag.settings import Settings


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


HOSTILE_SIDECAR = {
    "a.txt": {
        "organization": ["Org", "Other"],  # stored as "['Org', 'Other']" before
        "author": {"name": "X"},  # stored as "{'name': 'X'}"
        "source": "javascript:alert(document.cookie)",  # kept before
        "title": "A fine title",
        "date": 2004,
    },
    "../uploads/b.txt": {"organization": "Overrides b's entry"},  # a traversal key
    "b.txt": {"organization": "B's own"},
}


def test_an_uploaded_sidecar_is_checked_like_a_folders(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the UI stored lists and dicts as Python reprs, kept a ``javascript:``
    source, let a traversal key override another file's entry, and raised
    RecursionError on a deep nesting. Now the CLI's and the UI's sidecars go through one
    validator and give the same metadata."""
    settings = Settings(home=tmp_path / "home")
    uploaded = _write(tmp_path / "in" / "statements.json", json.dumps(HOSTILE_SIDECAR))
    status, note = merge_sidecar(settings, uploaded)
    assert status == "metadata"
    assert "metadata for 2 file(s)" in note and "ignored" in note
    saved = json.loads((settings.uploads_dir / "statements.json").read_text(encoding="utf-8"))
    assert saved == {
        "a.txt": {"title": "A fine title", "date": "2004"},
        "b.txt": {"organization": "B's own"},
    }

    # the very same values from a folder's sidecar in `rag ingest`
    from ingest.metadata import merge, sidecar_meta

    folder = tmp_path / "folder"
    _write(folder / "statements.json", json.dumps(HOSTILE_SIDECAR))
    with caplog.at_level(logging.WARNING, logger="ingest.metadata"):
        cli = {name: sidecar_meta(folder / name) for name in ("a.txt", "b.txt")}
    assert {n: m.model_dump(exclude_none=True) for n, m in cli.items()} == saved
    assert "source 'javascript:alert(document.cookie)' is not a link" in caplog.text
    # a source from any other layer is held to the same rule
    assert merge(StatementMeta(source="JaVa\tScRiPt:alert(1)")).source is None
    assert merge(StatementMeta(source="https://example.org/a")).source == "https://example.org/a"

    deep = _write(tmp_path / "deep" / "statements.json", "[" * 100_000)
    status, note = merge_sidecar(settings, deep)
    assert (status, note) == ("error", "statements.json: nested too deeply")


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


def test_a_passage_bomb_is_merged_or_capped(services: Services, tmp_path: Path) -> None:
    """Before: 200 kB of ``a`` lines became 100,000 passages (230 s to embed); a 20 kB
    upload held the app's ingest for 32 s. Runs of paragraphs shorter than a sentence are
    one paragraph now, and a file that still makes too many passages is skipped."""
    folder = tmp_path / "bombs"
    _write(folder / "letters.txt", "a\n" * 100_000)
    _write(folder / "blank-lines.md", "b\n\n" * 20_000)
    real = "\n\n".join(f"Paragraph {i} holds one real sentence." for i in range(200))
    _write(folder / "long.txt", real)
    settings = services.settings.model_copy(update={"max_file_passages": 150})
    report = Ingestor(settings, services.store, services.embedder).run([folder])
    by_name = {Path(o.path).name: o for o in report.outcomes}
    assert by_name["letters.txt"].status == "new"
    assert by_name["letters.txt"].passages <= 100  # one paragraph: 2,000-character pieces
    assert by_name["blank-lines.md"].status == "new"
    assert by_name["blank-lines.md"].passages <= 50
    assert by_name["long.txt"].status == "skipped"
    assert by_name["long.txt"].reason == (
        "200 passages, over the limit of 150 per file (split the file, or raise "
        "RAG_MAX_FILE_PASSAGES)"
    )
    # the statements' own few short lines in a row stay paragraphs of their own
    _write(tmp_path / "ok" / "debate.txt", "(APPLAUSE)\n\nYes.\n\nI agree.\n\nThank you all.")
    Ingestor(services.settings, services.store, services.embedder).run([tmp_path / "ok"])
    assert services.store.statement("debate").passages == 4


def test_an_upload_yields_to_questions_between_slices(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uploads in the app embed in small slices and wait, before each, for the answers in
    progress (``rag.priority``); ``rag ingest`` (its own process) does not."""
    waits: list[float] = []
    monkeypatch.setattr("ingest.pipeline.FOREGROUND.wait_idle", lambda t: waits.append(t))
    text = "\n\n".join(f"Paragraph {i} is one sentence of an upload." for i in range(40))
    upload = _write(tmp_path / "in" / "upload.txt", text)
    lines = ingest_uploads(
        services.settings, services.store, services.embedder, [upload], StatementMeta()
    )
    assert lines == [("new", "upload.txt → upload (40 passages)")]
    assert len(waits) == -(-40 // UPLOAD_SLICE)
    waits.clear()
    _write(tmp_path / "cli" / "other.txt", text.replace("upload", "file"))
    Ingestor(services.settings, services.store, services.embedder).run([tmp_path / "cli"])
    assert waits == []


def test_foreground_waits_for_answers_in_progress() -> None:
    gate = Foreground()
    assert gate.wait_idle(0.0)
    with gate.busy():
        assert gate.active == 1
        assert not gate.wait_idle(0.01)  # bounded: an upload is never starved
    assert gate.active == 0 and gate.wait_idle(0.0)
