"""Word (.docx) statements, from files the tests generate with python-docx (and a few
written as raw XML: tracked changes, a content control, a text box), ingested into a real
store; damaged files and a zip bomb are one skip line each."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml

from ingest.loaders import load_document
from ingest.pipeline import Ingestor
from ingest.word import DOCX_MAX_UNPACKED, parse_docx
from rag.errors import IngestError
from rag.service import Services

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
PARAGRAPHS = [
    "Statement on the Millbrook steelworks",
    "The Northern Workers Alliance condemns the closure of the Millbrook works.",
    "Castell Steel received £48 million in public support — “on the understanding that "
    "the works had a future.”",
    "What we are calling for",
    "Temporary public ownership of the works.",
    "Full pay for every worker until a new owner is found.",
]


def statement_docx(path: Path, created: datetime.datetime | None = None) -> Path:
    """A statement as a party's press office would write it: title, headings, runs in
    bold and italics, a bulleted list, a table, core properties."""
    document = docx.Document()
    core = document.core_properties
    core.title, core.author = "On the Millbrook steelworks", "Daniel Reyes"
    core.created = created or datetime.datetime(2021, 11, 2, 10, 30)
    document.add_heading(PARAGRAPHS[0], level=1)
    body = document.add_paragraph("The Northern Workers Alliance ")
    body.add_run("condemns").bold = True
    body.add_run(" the closure of the ")
    body.add_run("Millbrook works").italic = True
    body.add_run(".")
    document.add_paragraph(PARAGRAPHS[2])
    document.add_heading(PARAGRAPHS[3], level=2)
    document.add_paragraph(PARAGRAPHS[4], style="List Bullet")
    document.add_paragraph(PARAGRAPHS[5], style="List Bullet")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Jobs lost", "1,150"
    document.save(str(path))
    return path


def test_paragraphs_headings_and_core_properties(tmp_path: Path) -> None:
    raw = load_document(statement_docx(tmp_path / "steel.docx"))
    assert raw.text.split("\n\n") == [*PARAGRAPHS, "Jobs lost", "1,150"]
    assert (raw.meta.title, raw.meta.author, raw.meta.date) == (
        "On the Millbrook steelworks",
        "Daniel Reyes",
        "2021-11-02",
    )


def _with_body_xml(path: Path, xml: str) -> Path:
    document = docx.Document()
    document.core_properties.author = "python-docx"  # what the library writes: a placeholder
    body = document.element.body
    for element in parse_xml(f"<w:body {W}>{xml}</w:body>"):
        body.insert(len(body) - 1, element)  # before the section properties
    document.save(str(path))
    return path


def test_tracked_changes_content_controls_and_text_boxes(tmp_path: Path) -> None:
    xml = (
        "<w:p><w:r><w:t>We </w:t></w:r><w:del><w:r><w:delText>never </w:delText></w:r></w:del>"
        "<w:ins><w:r><w:t>always </w:t></w:r></w:ins><w:r><w:t xml:space='preserve'>"
        "stand with strikers.</w:t></w:r></w:p>"
        "<w:sdt><w:sdtContent><w:p><w:r><w:t>Inside a content control.</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
        "<w:p><w:r><w:t>Before</w:t></w:r><w:r><w:tab/><w:t>a tab, a</w:t><w:br/>"
        "<w:t>break and a field</w:t></w:r><w:r><w:fldChar w:fldCharType='begin'/></w:r>"
        "<w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:t>.</w:t></w:r></w:p>"
        "<w:p><w:r><w:pict><w:txbxContent><w:p><w:r><w:t>A pull quote.</w:t></w:r></w:p>"
        "</w:txbxContent></w:pict></w:r><w:r><w:t>Beside a text box.</w:t></w:r></w:p>"
    )
    raw = load_document(_with_body_xml(tmp_path / "changes.docx", xml))
    assert raw.text.split("\n\n") == [
        "We always stand with strikers.",
        "Inside a content control.",
        "Before a tab, a break and a field.",
        "Beside a text box.",
    ]
    assert raw.meta.author is None  # "python-docx" is no one's name


def test_docx_statements_ingest_with_exact_offsets(services: Services, tmp_path: Path) -> None:
    path = statement_docx(tmp_path / "steel.docx")
    report = Ingestor(services.settings, services.store, services.embedder).run([path])
    (outcome,) = report.outcomes
    assert outcome.status == "new", outcome.reason
    statement = services.store.statement(outcome.statement_id or "")
    assert (statement.title, statement.author, statement.date, statement.source) == (
        "On the Millbrook steelworks",
        "Daniel Reyes",
        "2021-11-02",
        "steel.docx",
    )
    text = statement.text or ""
    passages = services.store.statement_passages(statement.statement_id)
    assert passages
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text
    assert "“on the understanding that the works had a future.”" in text
    again = Ingestor(services.settings, services.store, services.embedder, isolate=True).run([path])
    assert again.outcomes[0].status == "unchanged"  # the upload path reads it the same


def _skip_reason(services: Services, path: Path) -> str:
    report = Ingestor(services.settings, services.store, services.embedder).run([path])
    (outcome,) = report.outcomes
    assert outcome.status == "skipped"
    assert outcome.reason and "\n" not in outcome.reason
    return outcome.reason


def test_damaged_files_are_one_line_each(services: Services, tmp_path: Path) -> None:
    good = statement_docx(tmp_path / "good.docx").read_bytes()
    (tmp_path / "truncated.docx").write_bytes(good[: len(good) // 2])
    (tmp_path / "renamed.docx").write_bytes(b"%PDF-1.4 not a word file at all\n" * 20)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    (tmp_path / "no-document.docx").write_bytes(buffer.getvalue())
    assert "not a Word file (damaged or not a .docx" in _skip_reason(
        services, tmp_path / "truncated.docx"
    )
    assert "not a Word file" in _skip_reason(services, tmp_path / "renamed.docx")
    assert "Word" in _skip_reason(services, tmp_path / "no-document.docx")
    good_path = tmp_path / "good.docx"
    report = Ingestor(services.settings, services.store, services.embedder).run([tmp_path])
    assert {Path(o.path).name: o.status for o in report.outcomes}["good.docx"] == "new"
    assert good_path.exists()


def test_a_zip_bomb_is_refused_before_it_is_unpacked(services: Services, tmp_path: Path) -> None:
    """word/document.xml declares 40 MB more than all parts may unpack to (~0.3 MB packed)."""
    bomb = tmp_path / "bomb.docx"
    zeros = b"\0" * (1 << 20)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/media/padding.bin", "w") as member:
            for _ in range(DOCX_MAX_UNPACKED // len(zeros) + 40):
                member.write(zeros)
    assert bomb.stat().st_size < 2 << 20
    assert "over the 200 MB limit (a zip bomb?)" in _skip_reason(services, bomb)


def test_entities_in_the_xml_are_not_expanded(tmp_path: Path) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "ha">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        f"]><w:document {W}><w:body><w:p><w:r><w:t>Laugh: &c;</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>A plain paragraph.</w:t></w:r></w:p></w:body></w:document>"
    )
    path = statement_docx(tmp_path / "laughs.docx")
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["word/document.xml"] = laughs.encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    try:
        paragraphs, _, _ = parse_docx(path.read_bytes(), 100_000)
    except IngestError:
        return  # refused outright: as good
    assert "ha" * 100 not in " ".join(paragraphs)


def test_a_docx_without_text(tmp_path: Path) -> None:
    path = tmp_path / "empty.docx"
    docx.Document().save(str(path))
    with pytest.raises(IngestError, match="Word file has no text"):
        load_document(path)
