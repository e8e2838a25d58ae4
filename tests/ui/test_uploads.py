"""Per-file metadata for uploads: a ``statements.json`` uploaded with the files."""

from __future__ import annotations

import json
from pathlib import Path

from rag.settings import Settings
from ui.web.uploads import merge_sidecar, split_sidecar


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
