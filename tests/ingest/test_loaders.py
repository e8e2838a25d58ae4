"""Loading statement files: real files on disk, one per format, and every way a file is skipped."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from fpdf import FPDF

from ingest.loaders import SUPPORTED_SUFFIXES, RawDocument, load_document
from rag.errors import IngestError
from rag.models import StatementMeta

FIXTURES = Path(__file__).parents[1] / "fixtures" / "loaders"
CORPUS = Path(__file__).parents[2] / "ingest" / "data" / "statements"

LONG_PARAGRAPH = (
    "Working people in every country share an interest in ending this occupation, and the "
    "unions must organise meetings, marches and strikes against it in every city and town, so "
    "that the soldiers come home now and the money goes to schools instead."
)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


def make_pdf(path: Path, *, title: str = "Statement on the war") -> Path:
    """A one-page PDF: a short paragraph, a long wrapped one, a hyphenated one, a page number."""
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_author("Jane Doe")
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 6, "We condemn the bombing of Fallujah.")
    pdf.ln(4)
    pdf.multi_cell(0, 6, LONG_PARAGRAPH)
    pdf.ln(4)
    pdf.multi_cell(
        0,
        6,
        "This is an inter-\nnational campaign of solidarity that has won support across the "
        "continent\nin a few weeks.",
    )
    pdf.ln(4)
    pdf.multi_cell(0, 6, "Join us!")
    pdf.set_y(-20)
    pdf.cell(0, 10, "1", align="C")
    pdf.output(str(path))
    return path


def skip_reason(path: Path, **kwargs: int) -> str:
    """The one-line message a skipped file gets."""
    with pytest.raises(IngestError) as info:
        load_document(path, **kwargs)
    message = str(info.value)
    assert message and "\n" not in message
    return message


# --- txt ---------------------------------------------------------------------------------------


def test_txt_utf8_keeps_curly_quotes_and_newlines(tmp_path: Path) -> None:
    text = "He said: “Withdraw now.”\nIt’s the workers’ fight — not theirs.\n"
    doc = load_document(write(tmp_path, "s.txt", text))
    assert doc == RawDocument(text=text, meta=StatementMeta(), markup="markdown")


def test_txt_bom_is_dropped(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "s.txt", "\ufeffFirst line.\n".encode()))
    assert doc.text == "First line.\n"


def test_txt_latin1_is_decoded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, "s.txt", "Le café est fermé à Noël.\n".encode("latin-1"))
    with caplog.at_level(logging.INFO, logger="ingest.loaders"):
        doc = load_document(path)
    assert doc.text == "Le café est fermé à Noël.\n"
    assert "cp1252" in caplog.text


def test_txt_cp1252_smart_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, "s.txt", "“No war” – they said.".encode("cp1252"))
    assert load_document(path).text == "“No war” – they said."


def test_txt_crlf_and_cr_become_lf(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "s.txt", b"One.\r\n\r\nTwo.\rThree.\r\n"))
    assert doc.text == "One.\n\nTwo.\nThree.\n"


def test_txt_utf16_with_bom(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "s.txt", "Café “now”.".encode("utf-16")))
    assert doc.text == "Café “now”."


def test_txt_front_matter_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "s.txt", "---\norganisation: ANSWER\ndate: 2003\n---\nNo war.\n")
    doc = load_document(path)
    assert doc.text == "No war.\n"
    assert doc.meta == StatementMeta(organization="ANSWER", date="2003")


def test_txt_leading_rule_without_front_matter_is_kept(tmp_path: Path) -> None:
    text = "---\nNote: not metadata, just text\n---\nNo war.\n"
    assert load_document(write(tmp_path, "s.txt", text)).text == text


# --- markdown ----------------------------------------------------------------------------------


def test_md_front_matter_fixture() -> None:
    doc = load_document(FIXTURES / "statement.md")
    assert doc.markup == "markdown"
    assert doc.meta == StatementMeta(
        organization="Socialist Workers Party",
        author="Naomi Craine, John Smith",
        date="2020-01-03",
        title="Withdraw the troops",
        source="https://example.org/2020/01/withdraw",
    )
    assert doc.text.startswith("**Update: Jan. 3 statement**\n\nThe Socialist Workers Party")
    assert "Washington’s assassination of Qassem Soleimani.\nWe call" in doc.text
    assert "tags" not in doc.text and "iraq, iran" not in doc.text


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("date: 2004", StatementMeta(date="2004")),
        ("date: 2020-01-03 10:30:00", StatementMeta(date="2020-01-03")),
        ("date: Jan. 3, 2020", StatementMeta(date="Jan. 3, 2020")),
        ("author: Jane Doe\nlink: https://x.org/a", StatementMeta(author="Jane Doe", source="https://x.org/a")),
        ("Organization: IAC\nsource: ''\nurl: https://x.org", StatementMeta(organization="IAC", source="https://x.org")),
        ("", StatementMeta()),
    ],
)  # fmt: skip
def test_md_front_matter_values(tmp_path: Path, front: str, expected: StatementMeta) -> None:
    doc = load_document(write(tmp_path, "s.md", f"---\n{front}\n---\nBody.\n"))
    assert (doc.meta, doc.text) == (expected, "Body.\n")


def test_md_without_front_matter(tmp_path: Path) -> None:
    text = "# Statement\n\nWe **demand** an end to the war.\n"
    doc = load_document(write(tmp_path, "s.markdown", text))
    assert doc == RawDocument(text=text, meta=StatementMeta(), markup="markdown")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ntitle: [unclosed\n---\nBody.\n", "invalid front matter"),
        ("---\ntitle: a: b\n---\nBody.\n", "(line 2)"),
        ("---\n- just\n- a list\n---\nBody.\n", "key: value"),
        ("---\ntitle: Never closed\nBody.\n", "no closing '---'"),
        ("---\ntitle: Only metadata\n---\n\n", "empty file"),
    ],
)
def test_md_bad_front_matter(tmp_path: Path, text: str, reason: str) -> None:
    assert reason in skip_reason(write(tmp_path, "s.md", text))


# --- html --------------------------------------------------------------------------------------


def test_html_fixture_main_text_and_meta() -> None:
    doc = load_document(FIXTURES / "statement.html")
    assert doc.markup == "plain"
    assert doc.text.split("\n\n") == [
        "Stop the war",
        "The occupation of Iraq is a crime against the Iraqi people & it must end.",
        "As the statement put it, “the troops must come home now” — not later.",
        "Bring them home.",
        "End the occupation.",
        "Withdraw all troops.",
        "Signed by the executive committee.",
    ]
    for chrome in ("HEADER", "NAV", "BANNER", "FOOTER", "ASIDE", "SCRIPT", "teaser", "red"):
        assert chrome not in doc.text
    assert doc.meta == StatementMeta(
        organization="Example Party",
        author="Jane Doe",
        date="2004-04-09",
        title="Stop the war on Iraq",
        source="https://example.org/statements/stop-the-war",
    )


def test_html_fallbacks_without_article(tmp_path: Path) -> None:
    html = """<html><head><title> Plain   page </title>
    <meta property="article:author" content="https://example.org/staff/jane"></head>
    <body><div>Direct text<br>on two lines.<br><br>After a gap.<p>A paragraph
    with   a  break.</p></div><time datetime="2019-11">Nov 2019</time>
    <table><tr><td>Cell one.</td><td>Cell two.</td></tr></table></body></html>"""
    doc = load_document(write(tmp_path, "s.htm", html))
    assert doc.text.split("\n\n") == [
        "Direct text on two lines.",
        "After a gap.",
        "A paragraph with a break.",
        "Nov 2019",
        "Cell one.",
        "Cell two.",
    ]
    assert doc.meta == StatementMeta(title="Plain page", date="2019-11")


def test_html_title_from_first_h1(tmp_path: Path) -> None:
    html = "<main><h1>Hands off Iran</h1><p>Text.</p></main>"
    assert load_document(write(tmp_path, "s.html", html)).meta.title == "Hands off Iran"


def test_html_without_main_text(tmp_path: Path) -> None:
    html = "<html><body><nav>Home</nav><script>x()</script><footer>(c)</footer></body></html>"
    assert skip_reason(write(tmp_path, "s.html", html)) == "HTML has no main text"


# --- pdf ---------------------------------------------------------------------------------------


def test_pdf_paragraphs_and_meta(tmp_path: Path) -> None:
    doc = load_document(make_pdf(tmp_path / "s.pdf"))
    assert doc.markup == "plain"
    assert doc.text.split("\n\n") == [
        "We condemn the bombing of Fallujah.",
        LONG_PARAGRAPH,
        "This is an international campaign of solidarity that has won support across the "
        "continent in a few weeks.",
        "Join us!",
    ]
    assert doc.meta == StatementMeta(title="Statement on the war", author="Jane Doe")


def test_pdf_junk_title_is_dropped(tmp_path: Path) -> None:
    doc = load_document(make_pdf(tmp_path / "s.pdf", title="Microsoft Word - draft3.docx"))
    assert doc.meta == StatementMeta(author="Jane Doe")


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50)  # a drawing, as a scan would be an image: no text
    pdf.output(str(tmp_path / "scan.pdf"))
    assert skip_reason(tmp_path / "scan.pdf").startswith("PDF has no text layer (scanned?)")


def test_truncated_pdf(tmp_path: Path) -> None:
    data = make_pdf(tmp_path / "full.pdf").read_bytes()
    path = write(tmp_path, "half.pdf", data[: len(data) // 2])
    assert skip_reason(path).startswith("unreadable PDF: ")


# --- skipped files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b" \n\t\r\n  \n", "empty file"),
        ("blank.html", b"\xef\xbb\xbf\n\n", "empty file"),
        ("nul.txt", b"text\x00with\x00nuls\x00", "binary file, not text"),
        ("controls.txt", bytes(range(1, 9)) * 20 + b"some text", "binary file, not text"),
        ("bad.txt", b"caf\xe9 \x01 bad", "cannot decode text: not UTF-8"),
        ("empty.pdf", b"", "empty file"),
        ("garbage.pdf", b"%PDF-1.4\nthis is not really a pdf", "unreadable PDF: "),
    ],
)  # fmt: skip
def test_skipped_content(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    assert skip_reason(write(tmp_path, name, data)).startswith(reason)


def test_unsupported_suffix(tmp_path: Path) -> None:
    message = skip_reason(write(tmp_path, "s.odt", "text"))
    assert message.startswith("unsupported file type '.odt'")
    assert all(suffix in message for suffix in SUPPORTED_SUFFIXES)
    assert "'(none)'" in skip_reason(write(tmp_path, "README", "text"))


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    assert load_document(write(tmp_path, "S.TXT", "Text.")).text == "Text."


def test_over_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "s.txt", "x" * 2000)
    assert skip_reason(path, max_bytes=1024) == "file is 2 KB, over the 1 KB limit"
    assert load_document(path, max_bytes=2000).text == "x" * 2000


def test_over_size_limit_in_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as f:  # sparse: the size check must come before reading
        f.truncate(int(61.2 * 1024 * 1024))
    assert skip_reason(path) == "file is 61.2 MB, over the 50 MB limit"


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "folder.txt").mkdir()
    assert skip_reason(tmp_path / "folder.txt") == "is a directory, not a file"


def test_missing_file(tmp_path: Path) -> None:
    assert skip_reason(tmp_path / "gone.txt").startswith("cannot read file: ")


def test_symlink_loop(tmp_path: Path) -> None:
    os.symlink(tmp_path / "b.txt", tmp_path / "a.txt")
    os.symlink(tmp_path / "a.txt", tmp_path / "b.txt")
    assert skip_reason(tmp_path / "a.txt").startswith("cannot read file: ")


def test_broken_symlink(tmp_path: Path) -> None:
    os.symlink(tmp_path / "nowhere.txt", tmp_path / "link.txt")
    assert skip_reason(tmp_path / "link.txt").startswith("cannot read file: ")


# --- bundled corpus ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name)
def test_bundled_statements_load(path: Path) -> None:
    doc = load_document(path)
    assert doc.markup == "markdown"
    assert doc.text.strip()


def test_bundled_corpus_mentions_soleimani() -> None:
    texts = [load_document(path).text for path in sorted(CORPUS.glob("*.txt"))]
    assert len(texts) >= 2
    assert any("Qassem Soleimani" in text for text in texts)


# --- hostile front matter (issue 15) -----------------------------------------------------------

# 430 bytes that a plain safe YAML loader expands to 9**9 "lol"s (a 24 MB title was cut short)
BILLION_LAUGHS = (FIXTURES.parent / "hostile" / "billion_laughs.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        (BILLION_LAUGHS, "aliases (*name) are not allowed"),  # was a 24 MB title in 79 s
        ("---\ntitle: &x [*x]\n---\nBody.\n", "aliases (*name) are not allowed"),  # a traceback
        ("---\ntitle: " + "[" * 50_000 + "\n---\nBody.\n", "nested deeper than"),
        ("---\ntitle: " + "{a: " * 5_000 + "\n---\nBody.\n", "nested deeper than"),
    ],
)
def test_md_hostile_front_matter_is_refused(tmp_path: Path, front: str, reason: str) -> None:
    assert reason in skip_reason(write(tmp_path, "s.md", front))


def test_txt_hostile_front_matter_is_kept_as_text(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "s.txt", BILLION_LAUGHS))
    assert (doc.meta, doc.text) == (StatementMeta(), BILLION_LAUGHS)


def test_front_matter_anchor_without_alias_is_fine(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "s.md", "---\ntitle: &t A title\n---\nBody.\n"))
    assert doc.meta == StatementMeta(title="A title")
