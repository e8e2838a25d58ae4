"""Uploads never replace one another: a name that sanitises to an existing upload's name,
with other content, becomes a new statement; identical content is "unchanged"."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.uploads import ingest_uploads, upload_name
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
    assert len(list(services.settings.uploads_dir.iterdir())) == 2


def test_identical_upload_is_unchanged(services: Services, tmp_path: Path) -> None:
    text = "The same statement, uploaded twice."
    assert [s for s, _ in _upload(services, tmp_path, "same.txt", text)] == ["new"]
    assert [s for s, _ in _upload(services, tmp_path, "same.txt", text)] == ["unchanged"]
    assert len(services.store.statements()) == 1
