"""The data directory survives moves, and each statement is stored once (issue 22 F1, F13;
issue 21 item 3): uploads are recorded relative to RAG_HOME and keep their form metadata
in a sidecar; ``--prune`` judges only the paths being ingested; a moved file keeps its id;
content already in the store is never a second statement; ``rag remove`` takes them out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.paths import HOME_PREFIX
from ingest.pipeline import Ingestor
from ingest.remove import missing_statements, remove_statements
from ingest.uploads import ingest_uploads
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.errors import StatementNotFoundError
from rag.models import StatementMeta
from rag.service import Services, build_services
from rag.settings import Settings
from rag.store.chroma import ChromaStore
from rag.store.embedded import close_embedded
from ui.cli import app

from .conftest import assert_no_traceback, run_rag

POSTAL = (
    "Postal workers will strike on Monday unless the contract is signed.\n\n"
    "The union asks every customer to support the carriers."
)
FORM = StatementMeta(organization="Postal Workers Union", author="Ann Carrier", date="2021-03")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _corpus(folder: Path) -> list[Path]:
    return [
        _write(folder / "housing.txt", "Rents must be capped. Housing is a right."),
        _write(folder / "water.md", "---\ntitle: Water\n---\nClean water for every town."),
        _write(folder / "transit.txt", "Buses should be free.\n\nTrains should run at night."),
    ]


def test_moving_rag_home_keeps_uploads_and_their_metadata(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    """Before: after ``mv home home2``, ``RAG_HOME=home2 rag ingest --prune`` removed every
    upload (their absolute paths were gone), and a rebuild lost the form's metadata."""
    home = tmp_path / "home"
    settings = Settings(home=home)
    services = build_services(settings, embedder=embedder)
    upload = _write(tmp_path / "browser" / "postal.txt", POSTAL)
    lines = ingest_uploads(settings, services.store, services.embedder, [upload], FORM)
    assert [status for status, _ in lines] == ["new"], lines
    corpus = tmp_path / "corpus"
    _corpus(corpus)
    Ingestor(settings, services.store, services.embedder).run([corpus])
    stored = services.store.statement("postal")
    assert stored.path == f"{HOME_PREFIX}uploads/postal.txt"
    del services
    close_embedded(settings.chroma_path)  # this process lets go of the folder before it moves

    moved = tmp_path / "home2"
    home.rename(moved)
    result = run_rag(["ingest", str(corpus), "--prune"], moved)
    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 0, result.stderr
    assert not any(line.startswith("removed") for line in result.stdout.splitlines())
    assert result.stdout.splitlines()[-1].startswith(
        "0 new, 0 updated, 3 unchanged, 0 skipped, 0 removed"
    )

    # a prune of the uploads folder itself keeps them too: the files are there
    result = run_rag(["ingest", str(moved / "uploads"), "--prune"], moved)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[:2] == ["unchanged", "postal"], result.stdout

    # the form's metadata is beside the upload, in the same sidecar format as the CLI's
    sidecar = json.loads((moved / "uploads" / "statements.json").read_text(encoding="utf-8"))
    assert sidecar == {
        "postal.txt": {
            "organization": "Postal Workers Union",
            "author": "Ann Carrier",
            "date": "2021-03",
        }
    }
    # so a rebuild of the data directory from its uploads folder keeps it
    rebuilt = tmp_path / "rebuilt"
    result = run_rag(["ingest", str(moved / "uploads")], rebuilt)
    assert result.returncode == 0, result.stderr
    again = ChromaStore.from_settings(Settings(home=rebuilt)).statement("postal")
    assert (again.organization, again.author, again.date) == (
        "Postal Workers Union",
        "Ann Carrier",
        "2021-03",
    )


def test_prune_judges_only_the_paths_it_is_given(services: Services, tmp_path: Path) -> None:
    """Before: any ``--prune`` removed every statement whose file was missing, wherever it
    was (an unmounted drive, a renamed folder of someone else's)."""
    one, two = tmp_path / "one", tmp_path / "two"
    _write(one / "a.txt", "The first folder's only statement.")
    _write(two / "b.txt", "The second folder's only statement.")
    ingestor = Ingestor(services.settings, services.store, services.embedder)
    ingestor.run([one, two])
    shutil.rmtree(two)  # unmounted, say
    report = ingestor.run([one], prune=True)
    assert report.summary()["removed"] == 0
    assert {s.statement_id for s in services.store.statements()} == {"a", "b"}
    report = ingestor.run([two], prune=True)  # the folder is named: now it is judged
    assert [(o.status, o.statement_id) for o in report.outcomes][-1] == ("removed", "b")
    assert {s.statement_id for s in services.store.statements()} == {"a"}


def test_a_suffixed_id_survives_a_folder_move(services: Services, tmp_path: Path) -> None:
    """Before: after a folder move, a file whose id carried a collision suffix got a new
    id (the suffix hashes the path), breaking deep links, conversations and feedback."""
    ingestor = Ingestor(services.settings, services.store, services.embedder)
    _write(tmp_path / "a" / "statement.txt", "The first statement is about the war in Iraq.")
    _write(tmp_path / "b" / "statement.txt", "The second statement is about a strike in Ohio.")
    first = ingestor.run([tmp_path / "a", tmp_path / "b"])
    ids = [o.statement_id for o in first.outcomes]
    assert ids[0] == "statement" and ids[1] and ids[1].startswith("statement-")

    (tmp_path / "b").rename(tmp_path / "c")
    report = ingestor.run([tmp_path / "a", tmp_path / "c"], prune=True)

    assert [(o.status, o.statement_id) for o in report.outcomes] == [
        ("unchanged", ids[0]),
        ("unchanged", ids[1]),
    ]
    stored = {s.statement_id: s.path for s in services.store.statements()}
    assert stored == {
        ids[0]: str((tmp_path / "a" / "statement.txt").resolve()),
        ids[1]: str((tmp_path / "c" / "statement.txt").resolve()),
    }


def test_uploaded_then_ingested_from_the_folder_is_one_statement_each(
    services: Services, tmp_path: Path
) -> None:
    """Before: uploading a folder's files in the UI, then ``rag ingest`` of that folder,
    stored every statement twice ("20 new", 44 listed)."""
    folder = tmp_path / "debates"
    files = _corpus(folder)
    settings = services.settings
    lines = ingest_uploads(settings, services.store, services.embedder, files, StatementMeta())
    assert [status for status, _ in lines] == ["new"] * 3
    ingestor = Ingestor(settings, services.store, services.embedder)

    report = ingestor.run([folder])

    assert report.summary() == {"new": 0, "updated": 0, "unchanged": 3, "skipped": 0, "removed": 0}
    assert len(services.store.statements()) == 3
    for outcome in report.outcomes:
        assert outcome.reason and outcome.reason.startswith("same content as "), outcome
    # uploading them again is unchanged too, and leaves no second copy in the uploads
    again = ingest_uploads(settings, services.store, services.embedder, files, StatementMeta())
    assert [status for status, _ in again] == ["unchanged"] * 3
    copies = sorted(p.name for p in settings.uploads_dir.iterdir())
    assert copies == ["housing.txt", "transit.txt", "water.md"]

    # the same text under another name (other bytes: Windows line ends) is said, not stored
    _write(
        tmp_path / "other" / "copy.txt", "Buses should be free.\r\n\r\nTrains should run at night."
    )
    report = ingestor.run([tmp_path / "other"])
    (skipped,) = report.skipped
    assert skipped.reason and skipped.reason.startswith("same text as transit"), skipped
    assert len(services.store.statements()) == 3

    # and a copy within one run is one statement
    both = tmp_path / "both"
    _write(both / "x.txt", "A statement that is here twice.")
    _write(both / "y.txt", "A statement that is here twice.")
    report = ingestor.run([both])
    assert [o.status for o in report.outcomes] == ["new", "unchanged"]
    assert len(services.store.statements()) == 4


def test_remove_several_statements_in_one_call(services: Services, tmp_path: Path) -> None:
    """The library call behind ``rag remove`` and the Sources tab's multi-select delete:
    several ids at once; an unknown id removes nothing; an upload's copy goes too."""
    settings = services.settings
    files = _corpus(tmp_path / "corpus")
    ingest_uploads(settings, services.store, services.embedder, files[:1], FORM)
    Ingestor(settings, services.store, services.embedder).run([tmp_path / "corpus"])
    with pytest.raises(StatementNotFoundError, match="nope"):
        remove_statements(settings, services.store, ["water", "nope"])
    assert len(services.store.statements()) == 3

    removed = remove_statements(settings, services.store, ["housing", "water"])

    assert [s.statement_id for s in removed] == ["housing", "water"]
    assert [s.statement_id for s in services.store.statements()] == ["transit"]
    assert services.store.statement_passages("housing") == []
    assert not (settings.uploads_dir / "housing.txt").exists()  # not brought back later
    sidecar = json.loads((settings.uploads_dir / "statements.json").read_text(encoding="utf-8"))
    assert "housing.txt" not in sidecar


def _cli(home: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), input=input, env={"RAG_HOME": str(home)})


def test_rag_remove_asks_first_and_has_a_dry_run(services: Services, tmp_path: Path) -> None:
    """Before: there was no way to remove a statement outside the UI."""
    home = services.settings.home
    corpus = tmp_path / "corpus"
    files = _corpus(corpus)
    Ingestor(services.settings, services.store, services.embedder).run([corpus])

    dry = _cli(home, "remove", "housing", "water", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "2 statement(s) would be removed" in dry.stdout
    declined = _cli(home, "remove", "housing", input="n\n")
    assert declined.exit_code == 1
    assert "Remove these 1 statement(s)?" in declined.stderr
    assert declined.stderr.rstrip().endswith("error: nothing removed (answer y, or pass --yes)")
    unknown = _cli(home, "remove", "nope", "--yes")
    assert unknown.exit_code == 1 and "Unknown statement id: nope" in unknown.stderr
    assert len(services.store.statements()) == 3

    accepted = _cli(home, "remove", "housing", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout.splitlines()[-1] == "removed 1 statement(s)"
    assert {s.statement_id for s in services.store.statements()} == {"transit", "water"}

    files[1].unlink()  # water.md is gone
    assert [s.statement_id for s in missing_statements(services.store, home)] == ["water"]
    gone = _cli(home, "remove", "--missing", "--yes")
    assert gone.exit_code == 0, gone.output
    assert [s.statement_id for s in services.store.statements()] == ["transit"]
    nothing = _cli(home, "remove", "--missing", "--yes")
    assert nothing.exit_code == 0 and nothing.stdout.startswith("Nothing to remove")
