"""Normalisation: markup out, typography in, paragraphs numbered on the one clean text."""

from __future__ import annotations

from itertools import pairwise

import pytest

from ingest.loaders import RawDocument, load_document
from ingest.normalize import CleanText, normalize
from ingest.pipeline import BUNDLED_CORPUS
from rag.models import StatementMeta

SEP_FILE = BUNDLED_CORPUS / "000_750d3f795511808f.txt"
SWP_FILE = BUNDLED_CORPUS / "004_82099dca89624f38.txt"


def clean(text: str, markup: str = "markdown") -> CleanText:
    return normalize(RawDocument(text=text, meta=StatementMeta(), markup=markup))  # type: ignore[arg-type]


def paragraphs(result: CleanText) -> list[str]:
    return [result.text[s:e] for s, e in result.paragraphs]


def assert_spans_consistent(result: CleanText) -> None:
    """Paragraph spans tile the clean text, separated by exactly one blank line."""
    assert "\n\n".join(paragraphs(result)) == result.text
    for (_, end), (start, _) in pairwise(result.paragraphs):
        assert result.text[end:start] == "\n\n"
    for para in paragraphs(result):
        assert para == para.strip() and "\n" not in para and para


# -- inline markup -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("It was a *counterrevolution*, not one.", "It was a counterrevolution, not one."),
        ("**For the immediate withdrawal!**", "For the immediate withdrawal!"),
        ("We are *for* this, and __against__ that.", "We are for this, and against that."),
        ("An _emphasised_ word.", "An emphasised word."),
        ("See [the statement](https://example.org/s) and `code`.", "See the statement and code."),
        ("# A heading", "A heading"),
        ("> A quoted line.", "A quoted line."),
    ],
)  # fmt: skip
def test_markdown_markup_is_removed(raw: str, expected: str) -> None:
    assert clean(raw).text == expected


@pytest.mark.parametrize(
    "raw",
    [
        "snake_case_name stays",
        "2*3*4 = 24 and a * b",
        "file_name_v2.txt",
    ],
)
def test_non_emphasis_asterisks_and_underscores_are_kept(raw: str) -> None:
    assert clean(raw).text == raw


def test_typography_is_kept() -> None:
    raw = "A chant — “Iran out out, Iraq free free” — and ‘single’ quotes, Washington’s war…"
    assert clean(raw).text == raw


def test_curly_quotes_and_dashes_survive_in_the_bundled_statements() -> None:
    swp = normalize(load_document(SWP_FILE)).text
    sep = normalize(load_document(SEP_FILE)).text
    assert "“Iran out out" in swp
    assert " — " in swp
    assert "US government—Democrats and Republicans alike—is" in sep
    for text in (swp, sep):
        assert "**" not in text
        assert "*counterrevolution*" not in text
    assert "part of a counterrevolution, one that" in swp
    assert "We are for whatever helps" in swp


# -- paragraphs --------------------------------------------------------------------


def test_blank_lines_separate_paragraphs_and_wrapped_lines_are_joined() -> None:
    raw = "First paragraph,\nwrapped over\n  three lines.\n\n\nSecond one.\n \nThird\tone.\n"
    result = clean(raw)
    assert paragraphs(result) == [
        "First paragraph, wrapped over three lines.",
        "Second one.",
        "Third one.",
    ]
    assert_spans_consistent(result)


def test_single_newlines_separate_paragraphs_when_there_are_no_blank_lines() -> None:
    result = clean("One paragraph here.\nAnother one here.\nAnd a third.")
    assert paragraphs(result) == ["One paragraph here.", "Another one here.", "And a third."]
    assert_spans_consistent(result)


def test_a_title_then_single_newline_paragraphs() -> None:
    """One blank line after a headline must not glue the single-newline paragraphs below it
    into one."""
    sep_lines = load_document(SEP_FILE).text.strip().split("\n")[:-1]  # without the artifact
    result = clean("Stop the war in Iraq\n\n" + "\n".join(sep_lines))
    assert len(result.paragraphs) == 14
    assert paragraphs(result)[0] == "Stop the war in Iraq"
    assert paragraphs(result)[1:] == [line.strip() for line in sep_lines]
    assert_spans_consistent(result)


def test_hard_wrapped_lines_ending_a_sentence_are_still_joined() -> None:
    raw = (
        "A wrapped paragraph whose first line ends a sentence.\n"
        "The second line continues the same paragraph.\n\nNext."
    )
    assert paragraphs(clean(raw)) == [
        "A wrapped paragraph whose first line ends a sentence. The second line continues the "
        "same paragraph.",
        "Next.",
    ]


def test_crlf_line_endings() -> None:
    result = clean("First line\r\nwrapped.\r\n\r\nSecond.\r\n")
    assert paragraphs(result) == ["First line wrapped.", "Second."]


def test_markup_only_lines_are_dropped() -> None:
    result = clean("Intro.\n\n***\n\n---\n\nAfter the rule.")
    assert paragraphs(result) == ["Intro.", "After the rule."]


def test_bundled_paragraph_counts_and_styles() -> None:
    sep = normalize(load_document(SEP_FILE))
    swp = normalize(load_document(SWP_FILE))
    assert len(sep.paragraphs) == 13  # single newlines between paragraphs
    assert len(swp.paragraphs) == 21  # blank lines between paragraphs, wrapped headline
    assert paragraphs(swp)[0] == (
        "Update: Jan. 3 statement by Naomi Craine, Socialist Workers Party candidate for "
        "U.S. Senate from Illinois"
    )
    assert paragraphs(sep)[0].startswith("These attacks against civilian population centers")
    for result in (sep, swp):
        assert_spans_consistent(result)


# -- scraping artifacts ------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "The statement.\nfull story:",
        "The statement.\nfull story:\n",
        "The statement.\n\nFull Story:\n\n",
        "The statement.\n\nfull story\n\nRead more:\n",
        "The statement.\n\n**full story:**\n",
    ],
)
def test_trailing_full_story_artifact_is_dropped(raw: str) -> None:
    assert clean(raw).text == "The statement."


@pytest.mark.parametrize("markup", ["markdown", "plain"])
def test_artifact_right_under_the_last_blank_line_paragraph_is_dropped(markup: str) -> None:
    # blank-line paragraphs join wrapped lines: the artifact must not be joined in
    result = clean("First paragraph.\n\nLast paragraph,\nwrapped.\nfull story:\n", markup)
    assert paragraphs(result) == ["First paragraph.", "Last paragraph, wrapped."]


def test_full_story_inside_a_sentence_is_kept() -> None:
    raw = "We have not heard the full story: the dead are uncounted.\n\nEnd."
    assert clean(raw).text.startswith("We have not heard the full story: the dead")


def test_bundled_sep_statement_loses_its_artifact() -> None:
    raw = load_document(SEP_FILE).text
    assert "full story:" in raw  # the file does end with it
    text = normalize(load_document(SEP_FILE)).text
    assert "full story" not in text.lower()
    assert text.endswith("control the natural resources of their region.")


def test_only_an_artifact_leaves_nothing() -> None:
    assert clean("full story:\n").paragraphs == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("_my_var_ here", "my_var here"),  # a marker between letters neither opens nor closes
        ("*a*b* x", "a*b x"),
        ("snake_case_name stays", "snake_case_name stays"),
        ("2*3*4 = 24", "2*3*4 = 24"),
        ("**bold *and em* inside**", "bold and em inside"),
        ("the [wiki](https://w.org/Foo_(bar)) page", "the wiki page"),
        ("Unclosed [a, **b and _c stay.", "Unclosed [a, **b and _c stay."),
    ],
)  # fmt: skip
def test_inline_markdown_edge_cases(text: str, expected: str) -> None:
    assert clean(text).text == expected
