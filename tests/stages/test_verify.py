"""The one verifier: exact offsets for every quote, and finding a loosely written one."""

from __future__ import annotations

import logging

import pytest

from rag.stages.verify import SourceText, cite, normalise, verify
from tests.stages.helpers import TEXT, statement


def test_a_quote_is_verified_only_at_its_exact_offsets() -> None:
    assert verify(TEXT, 16, 62, TEXT[16:62])
    assert not verify(TEXT, 17, 63, TEXT[16:62])
    assert not verify(TEXT, 0, len(TEXT) + 1, TEXT)
    assert not verify(TEXT, 5, 5, "")
    assert not verify(None, 0, 3, "Tro")


def test_a_dropped_quote_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="rag.stages.verify"):
        assert not verify(TEXT, 0, 5, "Nope!")
    assert "not verbatim" in caplog.text


def test_cite_makes_a_citation_only_of_a_verbatim_quote() -> None:
    made = cite(3, statement(), TEXT, 1, 16, 62, TEXT[16:62], 0.5)
    assert made is not None
    assert (made.n, made.statement_id, made.start, made.end, made.score) == (3, "s1", 16, 62, 0.5)
    assert made.organization == "Socialist Equality Party"
    assert cite(1, statement(), TEXT, 1, 16, 62, "The war is a crime") is None
    assert cite(1, statement(), None, 1, 16, 62, TEXT[16:62]) is None


def test_source_text_finds_a_quote_despite_whitespace_and_quote_marks() -> None:
    text = "He said:  \u201cget  out\u201d now.\nThey did."
    source = SourceText(text)
    span = source.find('said: "get out" now')
    assert span is not None
    assert text[span[0] : span[1]] == "said:  \u201cget  out\u201d now"
    assert normalise(" a \u2019b\u2019\n c ") == "a 'b' c"


def test_source_text_matches_whole_words_within_bounds() -> None:
    source = SourceText("warfare and war")
    assert source.find("war") == (12, 15)
    assert source.find("war", 0, 10) is None
    assert source.find("   ") is None
