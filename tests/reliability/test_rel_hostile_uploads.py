"""Uploads never replace one another: a name that sanitises to an existing upload's name,
with other content, becomes a new statement; identical content is "unchanged"."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest.uploads import ingest_uploads, save_upload, upload_name
from rag.models import StatementMeta
from rag.service import Services


def _upload(services: Services, tmp_path: Path, name: str, text: str, org: str | None = None):
    folder = tmp_path / f"in-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    source = folder / name
    source.write_text(text, encoding="utf-8")
    meta = StatementMeta(organization=org)
    return ingest_uploads(services.settings, services.store, services.embedder, [source], meta)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Déclaration du comité.txt", "Déclaration-du-comité.txt"),
        ("Заявление.md", "Заявление.md"),
        ("声明.pdf", "声明.pdf"),
        ("bad\nname\x1b[31m.txt", "bad-name-31m.txt"),
        ("x.T\nXT", "x.txt"),
    ],
)
def test_upload_names_keep_letters_of_any_script(name: str, expected: str) -> None:
    assert upload_name(name) == expected


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("a-b.txt", "a b.txt"),
        ("x.txt", "x.TXT"),
        ("Заявление.txt", "Заявление.txt"),
        ("Заявление.txt", "Обращение.txt"),  # both were "upload.txt"
    ],
)
def test_colliding_uploads_are_two_statements(
    services: Services, tmp_path: Path, first: str, second: str
) -> None:
    one = _upload(services, tmp_path, first, "The first statement says one thing.", "Org A")
    two = _upload(services, tmp_path, second, "Another organization says another.", "Org B")
    assert [status for status, _ in one + two] == ["new", "new"], one + two
    stored = {s.statement_id: s for s in services.store.statements()}
    assert len(stored) == 2
    texts = services.store.statement_texts(list(stored))
    assert sorted(texts.values()) == [
        "Another organization says another.",
        "The first statement says one thing.",
    ]
    assert {s.organization for s in stored.values()} == {"Org A", "Org B"}
    # both files are kept, beside the sidecar that keeps their form metadata (F1)
    files = [p for p in services.settings.uploads_dir.iterdir() if p.name != "statements.json"]
    assert len(files) == 2


def test_identical_upload_is_unchanged(services: Services, tmp_path: Path) -> None:
    text = "The same statement, uploaded twice."
    assert [s for s, _ in _upload(services, tmp_path, "same.txt", text)] == ["new"]
    assert [s for s, _ in _upload(services, tmp_path, "same.txt", text)] == ["unchanged"]
    assert len(services.store.statements()) == 1


def test_save_upload_never_overwrites(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    first, second, same = (tmp_path / n for n in ("in1", "in2", "in3"))
    for path, text in ((first, "one"), (second, "two"), (same, "one")):
        path.mkdir()
        (path / "Speech.TXT").write_text(text, encoding="utf-8")
    a = save_upload(folder, first / "Speech.TXT")
    b = save_upload(folder, second / "Speech.TXT")
    c = save_upload(folder, same / "Speech.TXT")
    assert a.name == "Speech.txt" and a.read_text(encoding="utf-8") == "one"
    assert b.name.startswith("Speech-") and b.read_text(encoding="utf-8") == "two"
    assert c == a
    assert sorted(p.name for p in folder.iterdir()) == sorted([a.name, b.name])


def test_a_slow_upload_is_one_line_within_its_budget(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uploads are parsed in a worker process: a file that would hold the app for 35 s
    is killed after the budget, and the other files of the upload still go in."""
    from .test_rel_hostile_pdf import text_bomb

    monkeypatch.setattr("ingest.isolation.UPLOAD_SECONDS", 1.0)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "slow.pdf").write_bytes(text_bomb(200_000))
    (folder / "good.txt").write_text("A statement uploaded with a slow one.", encoding="utf-8")
    started = time.monotonic()
    lines = ingest_uploads(
        services.settings,
        services.store,
        services.embedder,
        [folder / "slow.pdf", folder / "good.txt"],
        StatementMeta(),
    )
    assert lines == [
        ("skipped", "slow.pdf: took over 1 seconds to read"),
        ("new", "good.txt → good (1 passages)"),
    ]
    assert time.monotonic() - started < 30
