"""Incremental ingest into a real Chroma in temp dirs, with the real bundled model."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from filelock import FileLock

from ingest.chunking import chunk
from ingest.loaders import load_document
from ingest.metadata import check_date, merge, sidecar_meta
from ingest.normalize import normalize
from ingest.pipeline import BUNDLED_CORPUS, Ingestor, IngestReport
from rag.errors import IngestError, IngestLockedError
from rag.models import StatementMeta
from rag.service import Services

logger = logging.getLogger(__name__)

SEP = "000_750d3f795511808f"
SWP = "004_82099dca89624f38"

PARAGRAPHS = [
    "We condemn the bombing of Fallujah. It is a war crime.",
    "The occupation must end now. All troops must come home.",
    "Working people everywhere should join the protests this weekend.",
]


def ingest(services: Services, *paths: Path, **kwargs: object) -> IngestReport:
    report = Ingestor(services.settings, services.store, services.embedder).run(
        list(paths), **kwargs
    )
    services.catalog.invalidate()
    return report


def by_path(report: IngestReport) -> dict[str, tuple[str, str | None]]:
    return {Path(o.path).name: (o.status, o.statement_id) for o in report.outcomes}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def passage_ids(services: Services, statement_id: str) -> set[str]:
    return {p.passage_id for p in services.store.statement_passages(statement_id)}


# -- the bundled corpus ------------------------------------------------------------


def test_bundled_ingest_is_idempotent(services: Services) -> None:
    # run() without paths ingests the bundled statements, with progress per file
    ingestor = Ingestor(services.settings, services.store, services.embedder)
    seen: list[tuple[int, int, str]] = []
    first = ingestor.run(progress=lambda done, total, path: seen.append((done, total, path.name)))
    assert seen == [(1, 2, f"{SEP}.txt"), (2, 2, f"{SWP}.txt")]
    assert first.summary() == {"new": 2, "updated": 0, "unchanged": 0, "skipped": 0, "removed": 0}
    counts = {o.statement_id: o.passages for o in first.outcomes}
    assert counts == {SEP: 13, SWP: 21}
    stored = services.store.count_passages()
    fingerprint = services.store.fingerprint()
    assert stored == 34
    logger.info(
        "bundled ingest: %d passages in %.2fs (%.1f passages/s)",
        stored,
        first.seconds,
        stored / first.seconds,
    )

    second = ingest(services, BUNDLED_CORPUS)
    assert second.summary() == {
        "new": 0,
        "updated": 0,
        "unchanged": 2,
        "skipped": 0,
        "removed": 0,
    }
    assert {o.statement_id: o.passages for o in second.outcomes} == counts
    assert second.passages_written == 0
    assert services.store.count_passages() == stored
    assert services.store.fingerprint() == fingerprint

    # what is stored is exactly the clean text, and every stored passage is a span of it
    for sid in (SEP, SWP):
        statement = services.store.statement(sid)
        assert statement.text is not None
        assert "full story" not in statement.text.lower()
        passages = services.store.statement_passages(sid)
        assert len(passages) == statement.passages
        for p in passages:
            assert statement.text[p.start : p.end] == p.text
            assert p.sentences[0][0] == p.start and p.sentences[-1][1] == p.end
    swp = services.store.statement(SWP)
    assert (swp.organization, swp.author, swp.date) == (
        "Socialist Workers Party",
        "Naomi Craine",
        "2020-01-03",
    )
    sep = services.store.statement(SEP)
    assert (sep.organization, sep.author, sep.date, sep.title) == (
        "Socialist Equality Party",
        None,
        "2004",
        None,
    )
    assert sep.source == f"{SEP}.txt"


# -- metadata ----------------------------------------------------------------------


FRONT = """---
organization: Front Matter Org
author: Front Author
date: 1999-05
title: Front Title
---
The statement body. It says something about the war.
"""


def test_metadata_precedence(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    write(folder / "full.md", FRONT)
    write(folder / "bare.txt", "A statement that declares nothing about itself.")
    write(folder / "sidecar-only.txt", "A statement described only by the sidecar.")
    write(
        folder / "statements.json",
        json.dumps(
            {
                "full.md": {"organization": "Sidecar Org", "date": "2001", "title": None},
                "sidecar-only.txt": {
                    "organization": "Sidecar Org",
                    "source": "https://example.org/s",
                    "notes": "ignored",
                },
            }
        ),
    )
    # sidecar beats front matter; missing sidecar values fall through; None is not a value
    assert merge(sidecar_meta(folder / "full.md"), load_document(folder / "full.md").meta) == (
        StatementMeta(
            organization="Sidecar Org", author="Front Author", date="2001", title="Front Title"
        )
    )

    report = ingest(services, folder)
    assert report.summary()["new"] == 3
    stored = {s.statement_id: s for s in services.store.statements()}
    full, bare, side = stored["full"], stored["bare"], stored["sidecar-only"]
    assert (full.organization, full.author, full.date, full.title) == (
        "Sidecar Org",
        "Front Author",
        "2001",
        "Front Title",
    )
    assert full.source == "full.md"  # nothing gives a source: the file name
    assert (bare.organization, bare.author, bare.date, bare.title) == (None, None, None, None)
    assert bare.source == "bare.txt"
    assert (side.organization, side.source, side.author) == (
        "Sidecar Org",
        "https://example.org/s",
        None,
    )

    # options for this run beat both; a changed option re-writes the statements
    overrides = StatementMeta(organization="CLI Org", date="2010-02-03")
    again = ingest(services, folder, overrides=overrides)
    assert again.summary()["updated"] == 3
    stored = {s.statement_id: s for s in services.store.statements()}
    assert (stored["full"].organization, stored["full"].date) == ("CLI Org", "2010-02-03")
    assert stored["full"].author == "Front Author"
    assert stored["full"].title == "Front Title"
    assert stored["bare"].organization == "CLI Org"
    assert stored["bare"].author is None and stored["bare"].title is None


def test_bad_sidecar_skips_its_folder_with_a_reason(services: Services, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    write(bad / "one.txt", "A statement in a folder with a broken sidecar.")
    write(bad / "statements.json", "{not json")
    good = write(tmp_path / "good" / "two.txt", "A statement in a good folder.")
    report = ingest(services, bad, good)
    outcomes = by_path(report)
    assert outcomes["two.txt"] == ("new", "two")
    assert outcomes["one.txt"][0] == "skipped"
    (skipped,) = report.skipped
    assert "statements.json" in (skipped.reason or "")


def test_hostile_metadata_values_are_ignored_with_a_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "corpus"
    write(folder / "s.md", "---\ntitle: Front Title\ndate: yesterday\nauthor: Front\n---\nB.\n")
    write(
        folder / "statements.json",
        json.dumps({"s.md": {"title": ["x", "y"], "author": "A" * 501, "date": 2004}}),
    )
    with caplog.at_level(logging.WARNING, logger="ingest.metadata"):
        side = sidecar_meta(folder / "s.md")
        meta = merge(side, load_document(folder / "s.md").meta, where="s.md")
    # a list is not text ("['x', 'y']" before); an over-long value falls through to the
    # next source; a number is a year
    assert meta == StatementMeta(title="Front Title", author="Front", date="2004")
    lines = [r.getMessage() for r in caplog.records]
    assert any("title of s.md is a list, not text: ignored" in line for line in lines), lines
    assert any("author is 501 characters, over 500: ignored" in line for line in lines), lines
    # an unparseable date from a file is ignored with a line (it used to be stored)
    only_front = merge(load_document(folder / "s.md").meta, where="s.md")
    assert only_front.date is None
    assert any("date 'yesterday' is not YYYY[-MM[-DD]]" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("value", ["yesterday", "2020-13", "2021-02-30", "20201", "2020/01/02"])
def test_check_date_refuses_what_the_ui_refuses(value: str) -> None:
    with pytest.raises(IngestError, match="Not a date"):
        check_date(value)


def test_check_date_accepts_partial_dates() -> None:
    assert [check_date(v) for v in ("2004", " 2020-01 ", "2020-01-03", None, "")] == [
        "2004",
        "2020-01",
        "2020-01-03",
        None,
        None,
    ]


def test_deeply_nested_sidecar_skips_its_folder(services: Services, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    write(bad / "one.txt", "A statement next to a hostile sidecar.")
    write(bad / "statements.json", "[" * 100_000)
    good = write(tmp_path / "good" / "two.txt", "A statement in a good folder.")
    report = ingest(services, bad, good)
    assert by_path(report)["two.txt"] == ("new", "two")
    (skipped,) = report.skipped
    assert "statements.json" in (skipped.reason or "")


# -- incremental -------------------------------------------------------------------


def test_changed_file_replaces_its_passages(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path / "s" / "changing.txt", "\n\n".join(PARAGRAPHS))
    first = ingest(services, path)
    assert by_path(first)["changing.txt"] == ("new", "changing")
    before = passage_ids(services, "changing")
    assert len(before) == 3
    total_before = services.store.count_passages()

    edited = [
        *PARAGRAPHS[:1],
        "The occupation must end today. Every soldier must come home.",
        PARAGRAPHS[2],
        "A new closing paragraph.",
    ]
    write(path, "\n\n".join(edited))
    second = ingest(services, path)
    assert by_path(second)["changing.txt"] == ("updated", "changing")
    assert second.outcomes[0].passages == 4

    expected = chunk("changing", normalize(load_document(path)))
    after = passage_ids(services, "changing")
    assert after == {p.passage_id for p in expected}
    assert len(after) == 4
    # paragraph 1 is untouched (same text, same offset): same id; the rest are new
    assert expected[0].passage_id in before
    assert not (before - after) & {p.passage_id for p in expected}
    assert len(before - after) == 2
    assert services.store.count_passages() == total_before + 1
    statement = services.store.statement("changing")
    assert statement.passages == 4
    assert statement.text == "\n\n".join(edited)
    assert [p.text for p in services.store.statement_passages("changing")] == edited

    # and the retriever sees the new text, not the old
    hits = services.answerer.search("Every soldier must come home", k=1)
    assert hits[0][0].passage.text == edited[1]


def test_prune_removes_statements_whose_files_are_gone(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    keep = write(folder / "keep.txt", PARAGRAPHS[0])
    gone = write(folder / "gone.txt", "\n\n".join(PARAGRAPHS[1:]))
    ingest(services, folder)
    assert {s.statement_id for s in services.store.statements()} == {"keep", "gone"}
    assert services.store.count_passages() == 3

    gone.unlink()
    without_prune = ingest(services, folder)
    assert without_prune.summary()["removed"] == 0
    assert {s.statement_id for s in services.store.statements()} == {"keep", "gone"}

    pruned = ingest(services, folder, prune=True)
    assert pruned.summary() == {"new": 0, "updated": 0, "unchanged": 1, "skipped": 0, "removed": 1}
    removed = [o for o in pruned.outcomes if o.status == "removed"]
    assert [o.statement_id for o in removed] == ["gone"]
    assert {s.statement_id for s in services.store.statements()} == {"keep"}
    assert services.store.statement_passages("gone") == []
    assert services.store.count_passages() == 1
    assert keep.exists()


def test_a_bad_file_among_good_ones(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    write(folder / "a-good.txt", "\n\n".join(PARAGRAPHS))
    write(folder / "b-good.md", FRONT)
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "empty.txt").write_bytes(b"")
    write(folder / "blank.md", "   \n\n  \n")
    write(folder / "artifact-only.txt", "full story:\n")
    write(folder / "broken.md", "---\ntitle: [unclosed\n---\nBody.\n")
    write(folder / "z-good.txt", "The last good statement, after the bad ones.")
    (folder / "notes.odt").write_bytes(b"ignored: not a statement type")

    report = ingest(services, folder)
    outcomes = by_path(report)
    assert {name for name, (status, _) in outcomes.items() if status == "new"} == {
        "a-good.txt",
        "b-good.md",
        "z-good.txt",
    }
    reasons = {Path(o.path).name: o.reason or "" for o in report.skipped}
    assert set(reasons) == {
        "binary.txt",
        "empty.txt",
        "blank.md",
        "artifact-only.txt",
        "broken.md",
        "notes.odt",
    }
    assert "binary" in reasons["binary.txt"]
    assert "empty" in reasons["empty.txt"]
    assert "empty" in reasons["blank.md"]
    assert "no text" in reasons["artifact-only.txt"]
    assert "front matter" in reasons["broken.md"]
    for reason in reasons.values():
        assert "\n" not in reason
    # other file types in a folder are reported, not silently ignored (issue 13)
    assert reasons["notes.odt"] == ".odt is not supported (use .txt, .md, .html, .pdf, .docx)"

    assert {s.statement_id for s in services.store.statements()} == {"a-good", "b-good", "z-good"}
    assert services.store.count_passages() == 3 + 1 + 1
    # the skipped files are still skipped next time; the good ones are unchanged
    again = ingest(services, folder)
    assert again.summary() == {"new": 0, "updated": 0, "unchanged": 3, "skipped": 6, "removed": 0}


def test_a_file_named_twice_is_ingested_once(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path / "corpus" / "once.txt", PARAGRAPHS[0])
    report = ingest(services, tmp_path / "corpus", path, tmp_path / "corpus" / ".." / "corpus")
    assert [(o.status, o.statement_id) for o in report.outcomes] == [("new", "once")]


def test_missing_path_is_reported(services: Services, tmp_path: Path) -> None:
    good = write(tmp_path / "good.txt", PARAGRAPHS[0])
    report = ingest(services, tmp_path / "nope.txt", good)
    assert by_path(report)["good.txt"][0] == "new"
    assert by_path(report)["nope.txt"] == ("skipped", None)
    assert "no such file" in (report.skipped[0].reason or "")


def test_same_file_name_in_two_folders_gets_two_ids(services: Services, tmp_path: Path) -> None:
    a = write(tmp_path / "a" / "statement.txt", "The first statement is about the war in Iraq.")
    b = write(tmp_path / "b" / "statement.txt", "The second statement is about a strike in Ohio.")
    first = ingest(services, tmp_path / "a", tmp_path / "b")
    ids = [o.statement_id for o in first.outcomes]
    assert first.summary()["new"] == 2
    assert ids[0] == "statement" and ids[1] is not None and ids[1].startswith("statement-")
    texts = {sid: services.store.statement(sid).text for sid in ids if sid}
    assert texts == {ids[0]: a.read_text().strip(), ids[1]: b.read_text().strip()}

    # ids are stable across runs, whatever the order the folders are given in
    again = ingest(services, tmp_path / "b", tmp_path / "a")
    assert {o.statement_id: o.status for o in again.outcomes} == {
        ids[0]: "unchanged",
        ids[1]: "unchanged",
    }

    # the owner of the plain id goes away: the other file keeps its id (no duplicate)
    # (prune judges only the paths it is given: issue 22, F1)
    a.unlink()
    pruned = ingest(services, tmp_path / "a", tmp_path / "b", prune=True)
    assert {o.statement_id: o.status for o in pruned.outcomes} == {
        ids[1]: "unchanged",
        ids[0]: "removed",
    }
    assert [s.statement_id for s in services.store.statements()] == [ids[1]]


def test_a_second_ingest_on_the_same_home_is_refused(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path / "one.txt", PARAGRAPHS[0])
    services.settings.home.mkdir(parents=True, exist_ok=True)
    with FileLock(str(services.settings.lock_path)), pytest.raises(IngestLockedError):
        Ingestor(services.settings, services.store, services.embedder).run([path])
    assert services.store.statements() == []


def test_metadata_removed_from_a_file_is_cleared(services: Services, tmp_path: Path) -> None:
    """Chroma merges metadata on upsert: a field the new version lacks must not linger."""
    from rag.errors import InvalidFilterError
    from rag.models import Filters

    folder = tmp_path / "dated"
    write(folder / "note.txt", "Housing is a right. Rents must be capped.")
    (folder / "statements.json").write_text(
        json.dumps({"note.txt": {"organization": "Tenants Union", "date": "2024-05"}})
    )
    ingest(services, folder)
    assert services.store.statement("note").date == "2024-05"
    (folder / "statements.json").write_text(json.dumps({"note.txt": {}}))
    ingest(services, folder)
    statement = services.store.statement("note")
    assert (statement.date, statement.organization) == (None, None)
    services.catalog.invalidate()
    with pytest.raises(InvalidFilterError):  # no dated statement is left to match
        services.catalog.scope(Filters(since="2024"))


def test_moved_folder_is_the_same_statements(services: Services, tmp_path: Path) -> None:
    """``rag ingest MOVED --prune`` after moving a folder used to remove every statement."""
    old = tmp_path / "old"
    write(old / "a.txt", "\n\n".join(PARAGRAPHS))
    write(old / "b.md", FRONT)
    first = ingest(services, old)
    assert first.summary()["new"] == 2
    ids = passage_ids(services, "a")
    new = tmp_path / "new"
    old.rename(new)

    report = ingest(services, new, prune=True)

    assert report.summary() == {"new": 0, "updated": 0, "unchanged": 2, "skipped": 0, "removed": 0}
    stored = {s.statement_id: s.path for s in services.store.statements()}
    assert stored == {"a": str((new / "a.txt").resolve()), "b": str((new / "b.md").resolve())}
    assert passage_ids(services, "a") == ids  # nothing re-embedded
    again = ingest(services, new, prune=True)
    assert again.summary()["unchanged"] == 2


def test_bad_files_never_abort_the_run(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    write(folder / "a-good.txt", "\n\n".join(PARAGRAPHS))
    write(folder / "alias.md", "---\ntitle: &x [*x]\n---\nBody.\n")  # 40 bytes: was a traceback
    (folder / "caf\xe9.txt".encode("latin-1").decode("utf-8", "surrogateescape")).write_text(
        "A statement whose name is not UTF-8.", encoding="utf-8"
    )
    deep = folder / "deep"
    for _ in range(200):
        deep = deep / "d"
    deep.mkdir(parents=True)
    write(deep / "lost.txt", "Too deep to be read.")
    write(folder / "z-good.md", FRONT)

    report = ingest(services, folder)

    assert {o.statement_id for o in report.outcomes if o.status == "new"} == {"a-good", "z-good"}
    reasons = {o.path.rsplit("/", 1)[-1]: o.reason or "" for o in report.skipped}
    assert "aliases" in reasons["alias.md"]
    assert "not valid UTF-8" in reasons["caf\\xe9.txt"]
    assert "nested deeper than" in reasons["d"]
    assert len(reasons) == 3


class _Recording:
    """The real embedder, recording how many passages each call embeds."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def embed_passages(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> object:
        self.calls.append(len(texts))
        return self.inner.embed_passages(texts, spans)  # type: ignore[attr-defined]


def test_a_big_file_is_embedded_in_slices(services: Services, tmp_path: Path) -> None:
    """Memory stays bounded by ``ingest_batch``, not by one file's size."""
    path = write(tmp_path / "big.txt", "\n\n".join(f"Paragraph {i} says stop." for i in range(11)))
    settings = services.settings.model_copy(update={"ingest_batch": 4})
    embedder = _Recording(services.embedder)
    report = Ingestor(settings, services.store, embedder).run([path])  # type: ignore[arg-type]
    assert report.summary()["new"] == 1
    assert embedder.calls == [4, 4, 3]
    stored = services.store.statement_passages("big")
    assert [p.text for p in stored] == [f"Paragraph {i} says stop." for i in range(11)]
    vectors = services.store.passage_vectors([p.passage_id for p in stored])
    direct, _ = services.embedder.embed_passages([stored[5].text], [[(0, len(stored[5].text))]])
    assert float(vectors[stored[5].passage_id] @ direct[0]) > 0.999
