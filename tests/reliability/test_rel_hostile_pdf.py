"""Hostile PDFs: parsing runs in a worker process within a time budget, and the text a
small file may expand to is capped; each limit reached is one line, never a hang."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF

from ingest.loaders import load_document
from ingest.pdf import load_pdf
from rag.errors import IngestError

LINE = b"BT /F1 12 Tf 72 700 Td (All troops must come home now.) Tj ET\n"


def text_bomb(repeats: int) -> bytes:
    """A one-page PDF whose compressed content stream repeats one line of text: for
    200,000 repeats, 36 KB of file, 6 MB of text and 35 s of pypdf (one page: only a kill
    can stop it)."""
    stream = zlib.compress(LINE * repeats, 9)
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d/Filter/FlateDecode>>stream\n" % len(stream) + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pages_pdf(count: int) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for number in range(1, count + 1):
        pdf.add_page()
        pdf.multi_cell(0, 8, f"Page {number} says the war must end.")
    return bytes(pdf.output())


def test_slow_pdf_is_stopped_within_its_budget(caplog: pytest.LogCaptureFixture) -> None:
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="ingest.pdf"),
        pytest.raises(IngestError, match="no text read within 1 seconds"),
    ):
        load_pdf(text_bomb(200_000), max_chars=10**8, seconds=1)
    assert time.monotonic() - started < 20  # 1 s + the worker's start, on a busy machine
    assert not caplog.records  # the skip is the file's one line
    # the killed worker is replaced: the next PDF reads normally
    text, _ = load_pdf(pages_pdf(1), max_chars=10**6)
    assert text == "Page 1 says the war must end."


def test_pdf_text_is_capped(caplog: pytest.LogCaptureFixture) -> None:
    data = text_bomb(2_000)
    assert len(data) < 2_000
    with caplog.at_level(logging.WARNING, logger="ingest.pdf"):
        text, _ = load_pdf(data, max_chars=5_000, where="bomb.pdf")
    assert 0 < len(text) <= 5_000
    (record,) = caplog.records
    assert record.getMessage() == (
        "bomb.pdf: stopped at 5,000 characters of text, on page 1 of 1; the text before it is kept"
    )


def test_pdf_pages_are_capped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ingest.pdf"):
        text, _ = load_pdf(pages_pdf(5), max_chars=10**6, max_pages=2)
    # (one paragraph: each page's only line is its longest, so none visibly ends one)
    assert text == "Page 1 says the war must end. Page 2 says the war must end."
    assert "stopped at page 2 of 5 (the page limit)" in caplog.text


def test_pdf_bomb_file_within_the_byte_limit(tmp_path: Path) -> None:
    """The 8 KB file that expanded to 4.9 MB: capped at the file's byte limit."""
    path = tmp_path / "bomb.pdf"
    path.write_bytes(text_bomb(2_000))
    doc = load_document(path, max_bytes=20_000)
    assert len(doc.text) <= 20_000


def test_a_script_without_a_main_guard_can_read_pdfs(tmp_path: Path) -> None:
    """multiprocessing's spawn re-ran such a script in the worker, which then crashed."""
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(pages_pdf(1))
    script = tmp_path / "script.py"
    script.write_text(
        "from pathlib import Path\n"
        "from ingest.loaders import load_document\n"
        f"print(load_document(Path({str(pdf)!r})).text)\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "Page 1 says the war must end.\n",
        "",
    )


def test_isolated_load_reads_any_format_and_keeps_the_budget(tmp_path: Path) -> None:
    """Uploads are read whole in the worker: a PDF within budget reads normally, a slow
    one is one skip line, and the worker's warnings are logged here."""
    from ingest.isolation import load_isolated

    good = tmp_path / "s.md"
    good.write_text("---\ntitle: T\n---\nThe war must end.\n", encoding="utf-8")
    raw = load_isolated(good, max_bytes=10**6)
    assert (raw.text, raw.meta.title, raw.markup) == ("The war must end.\n", "T", "markdown")
    slow = tmp_path / "slow.pdf"
    slow.write_bytes(text_bomb(200_000))
    with pytest.raises(IngestError, match="took over 1 seconds to read"):
        load_isolated(slow, max_bytes=10**6, seconds=1)
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: &x [*x]\n---\nBody.\n", encoding="utf-8")
    with pytest.raises(IngestError, match="aliases"):
        load_isolated(bad, max_bytes=10**6)
