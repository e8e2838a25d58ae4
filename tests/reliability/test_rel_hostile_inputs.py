"""Hostile statement files: every text path is linear in its input, every bad file is one
clear skip line, and whatever comes in keeps offsets exact (``clean[start:end] == text``).

The concrete payloads from issue 15 are fixtures here; ``test_rel_hostile_properties.py``
throws generated input at the same code."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.chunking import chunk
from ingest.loaders import RawDocument, load_document
from ingest.normalize import CleanText, normalize
from rag.errors import IngestError
from rag.models import StatementMeta
from rag.sentences import MAX_SENTENCE_CHARS, split_sentences

from .conftest import assert_no_traceback, run_rag


def _clean(text: str, markup: str = "markdown") -> CleanText:
    return normalize(RawDocument(text=text, meta=StatementMeta(), markup=markup))  # type: ignore[arg-type]


def _seconds(run: Callable[[str], object], text: str) -> float:
    started = time.perf_counter()
    run(text)
    return time.perf_counter() - started


def assert_linear(run: Callable[[str], object], unit: str, size: int = 50_000) -> None:
    """``run`` on 4x the input takes well under 16x the time (what quadratic would need).

    Generous on purpose (a shared, busy machine): 10x plus a second, best of two runs."""
    small = unit * (size // len(unit))
    big = unit * (4 * size // len(unit))
    t_small = min(_seconds(run, small) for _ in range(2))
    t_big = _seconds(run, big)
    if t_big >= 10 * t_small + 1.0:  # a pause of the machine, or really superlinear?
        t_big = min(t_big, _seconds(run, big))
    assert t_big < 10 * t_small + 1.0, f"{unit!r}: {t_small:.3f}s for {len(small)}, {t_big:.3f}s"


MARKDOWN_RUNS = [
    "[",  # an unclosed link: 40 KB froze the UI for ~25 s
    "![",
    "[a](",
    "[a](b(",
    "**a ",
    "__a ",
    "*a ",
    "_a ",
    "`a",
    "***",
    "- ",
    "# ",
    "> ",
]


@pytest.mark.parametrize("unit", MARKDOWN_RUNS)
def test_markdown_cleaning_is_linear(unit: str) -> None:
    assert_linear(lambda text: _clean("Intro. " + text), unit)


@pytest.mark.parametrize("unit", [".", "!?", ".)", ". ", "… ", '." ', "?' (", "a. "])
def test_sentence_splitting_is_linear(unit: str) -> None:
    # 80 KB of "." took 167 s
    assert_linear(split_sentences, unit)


@pytest.mark.parametrize("unit", ["<article>x ", "<div>x ", "<b>x ", "<p>x ", "<br>", "&amp;"])
def test_html_loading_is_linear(tmp_path: Path, unit: str) -> None:
    # 8,000 nested <article> took 10.7 s (each one's text measured)
    path = tmp_path / "s.html"

    def run(text: str) -> None:
        path.write_text(text + " The end.", encoding="utf-8")
        normalize(load_document(path))

    assert_linear(run, unit, size=20_000)


@pytest.mark.parametrize("unit", ["[", ".", "word ", "a, "])
def test_chunking_is_linear(unit: str) -> None:
    assert_linear(lambda text: chunk("s", _clean(text)), unit)


def test_markdown_still_stripped() -> None:
    text = _clean(
        "**Bold** and *em* and __strong__ and _em_ and `code`, a [link](https://x.org/a_(b)) "
        "and ![an image](i.png). Unclosed [bracket and **star stay."
    ).text
    assert text == (
        "Bold and em and strong and em and code, a link and an image. "
        "Unclosed [bracket and **star stay."
    )


@pytest.mark.parametrize("unit", ["word ", "a, ", "x", "—", "word,word "])
def test_a_paragraph_without_sentence_breaks_gives_short_passages(unit: str) -> None:
    """One 200 KB 'sentence' used to become one 200 KB passage (a 1.24 MB quote)."""
    clean = _clean(unit * (200_000 // len(unit)), markup="plain")
    passages = chunk("s", clean, max_chars=900)
    assert len(passages) >= 100
    for passage in passages:
        assert clean.text[passage.start : passage.end] == passage.text
        assert len(passage.text) <= MAX_SENTENCE_CHARS
        for s, e in passage.sentences:
            assert 0 < e - s <= MAX_SENTENCE_CHARS
    covered = "".join(clean.text[p.start : p.end] for p in passages)
    assert covered.replace(" ", "") == clean.text.replace(" ", "")


def test_nul_after_the_first_8_kb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "late-nul.txt"
    path.write_bytes(b"The war must end. " * 1000 + b"\x00\x00hidden")
    with pytest.raises(IngestError, match="binary file, not text"):
        load_document(path)


@pytest.mark.parametrize("markup", ["markdown", "plain"])
def test_control_characters_never_reach_the_clean_text(markup: str) -> None:
    clean = _clean("Stop\x00 the\x1b[31m war\x7f now\x9b.\n\nAnd\x0b\x1f\x85 then.", markup)
    assert clean.text == "Stop the[31m war now.\n\nAnd then."


def test_control_characters_in_html_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "s.html"
    path.write_text("<p>Stop&#0; the&#27; war\x01 now.</p>", encoding="utf-8")
    clean = normalize(load_document(path))
    # HTML turns &#0; into U+FFFD (visible, harmless); no control character is left
    assert clean.text in ("Stop the war now.", "Stop\ufffd the war now.")


# -- the issue's payloads through the CLI ---------------------------------------------------

FIXTURES = Path(__file__).parents[1] / "fixtures" / "hostile"


def _payload_folder(root: Path) -> tuple[Path, set[str], dict[str, str]]:
    """Good files (their statement ids) and bad ones (name -> expected reason)."""
    from .test_rel_hostile_pdf import text_bomb

    folder = root / "payloads"
    folder.mkdir()
    good = {"brackets", "periods", "no-breaks"}
    (folder / "brackets.md").write_text("Intro. " + "[" * 40_000, encoding="utf-8")
    (folder / "periods.txt").write_text("Start" + "." * 20_000 + " End.", encoding="utf-8")
    (folder / "no-breaks.txt").write_text("word " * 20_000, encoding="utf-8")
    bad: dict[str, str] = {}
    (folder / "laughs.md").write_bytes((FIXTURES / "billion_laughs.md").read_bytes())
    bad["laughs.md"] = "aliases (*name) are not allowed"
    (folder / "self.md").write_text("---\ntitle: &x [*x]\n---\nBody.\n", encoding="utf-8")
    bad["self.md"] = "aliases (*name) are not allowed"
    (folder / "late-nul.txt").write_bytes(b"The war must end. " * 1000 + b"\x00")
    bad["late-nul.txt"] = "binary file, not text"
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    bad["notes.docx"] = "not a Word file (damaged or not a .docx"
    forged = "x.txt: new\nnew       forged (1 passages)\x1b[2K.txt"
    (folder / forged).write_text("A statement with a hostile name.", encoding="utf-8")
    good.add("x.txt-new-new-forged-1-passages-2K")
    (folder / "bomb.pdf").write_bytes(text_bomb(2_000))  # 1 KB -> 60 KB of text
    good.add("bomb")
    sub = folder / "sub"
    sub.mkdir()
    (sub / "statements.json").write_text("[" * 100_000, encoding="utf-8")
    (sub / "one.txt").write_text("A statement next to a hostile sidecar.", encoding="utf-8")
    bad["one.txt"] = "nested too deeply"
    return folder, good, bad


@pytest.mark.slow
def test_issue_payloads_through_the_cli(tmp_path: Path) -> None:
    folder, good, bad = _payload_folder(tmp_path)
    started = time.monotonic()
    result = run_rag(["ingest", str(folder)], tmp_path / "home")
    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 3, result.stderr  # some files were skipped
    lines = result.stderr.splitlines()
    # one line per bad file (a forged name cannot add lines), nothing else
    assert len(lines) == len(bad), lines
    for line in lines:
        name = line.removeprefix("skipped ").partition(": ")[0].rsplit("/", 1)[-1]
        assert bad[name] in line, line
    out = result.stdout.splitlines()
    assert sorted(line.split()[1] for line in out[:-1]) == sorted(good)
    assert time.monotonic() - started < 240
