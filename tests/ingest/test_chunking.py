"""Passages: paragraph-aware, never cut mid-sentence, exact offsets into the clean text."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest

from ingest.chunking import chunk
from ingest.loaders import RawDocument, load_document
from ingest.normalize import CleanText, normalize
from ingest.pipeline import BUNDLED_CORPUS, statement_id_for
from rag.models import Passage, StatementMeta

BUNDLED_FILES = sorted(p for p in BUNDLED_CORPUS.iterdir() if p.suffix == ".txt")

# Ten sentences of ~130-190 characters with traps for a naive splitter (U.S., Jan. 2,
# Mr., 50,000, quotes): one paragraph of ~1,600 characters.
LONG_SENTENCES = [
    "The U.S. government has sent more troops to the region since Jan. 2, and the "
    "press calls it a measured response to a threat that nobody has been shown.",
    "Working people in Iraq, Syria and Iran pay for every one of these decisions with "
    "their lives, their homes and their livelihoods.",
    "“We did not ask for this war,” a worker in Basra said, “and we will not pay for it.”",
    "There are over 50,000 U.S. troops on the ground, and Mr. Smith of the Pentagon says "
    "the number will grow again before the end of the year.",
    "Both parties voted for the budget that pays for the occupation, and both claim to "
    "speak for the soldiers they send to fight it.",
    "Is this what the voters were promised when they were told the troops would come home?",
    "The unions must organise meetings, marches and strikes against the war in every city "
    "and every town, until the last soldier is home.",
    "Nothing less than the immediate and unconditional withdrawal of all forces will do.",
    "Solidarity across borders is the only answer to a war that divides working people "
    "along the lines their rulers have drawn for them.",
    "Get out now!",
]
LONG_PARAGRAPH = " ".join(LONG_SENTENCES)


def clean_of(path: Path) -> CleanText:
    return normalize(load_document(path))


def clean_text(text: str) -> CleanText:
    return normalize(RawDocument(text=text, meta=StatementMeta(), markup="markdown"))


def assert_passage_invariants(clean: CleanText, passages: list[Passage]) -> None:
    text = clean.text
    assert passages, "no passages"
    assert len({p.passage_id for p in passages}) == len(passages)
    for p in passages:
        # the invariant every quote depends on
        assert text[p.start : p.end] == p.text
        assert p.text == p.text.strip() and p.text
        # inside its paragraph, numbered from 1
        p_start, p_end = clean.paragraphs[p.paragraph - 1]
        assert p_start <= p.start < p.end <= p_end
        # sentence spans cover the passage: first starts it, last ends it, in order,
        # only whitespace between them
        assert p.sentences, "sentence spans missing"
        assert p.sentences[0][0] == p.start and p.sentences[-1][1] == p.end
        for (s, e), (s2, _) in pairwise(p.sentences):
            assert s < e <= s2
            assert text[e:s2].strip() == ""
        for s, e in p.sentences:
            assert text[s:e] == text[s:e].strip() and text[s:e]
    # passages of a paragraph tile it, in reading order
    for number, (p_start, p_end) in enumerate(clean.paragraphs, start=1):
        mine = [p for p in passages if p.paragraph == number]
        assert mine, f"paragraph {number} has no passage"
        assert mine[0].start == p_start and mine[-1].end == p_end
        for a, b in pairwise(mine):
            assert a.end <= b.start and text[a.end : b.start].strip() == ""


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=lambda p: p.stem)
def test_offset_invariant_over_the_bundled_corpus(path: Path) -> None:
    clean = clean_of(path)
    passages = chunk(statement_id_for(path), clean)
    assert_passage_invariants(clean, passages)
    for p in passages:
        assert "full story" not in p.text.lower()
        assert p.statement_id == statement_id_for(path)


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("max_chars", [200, 300])
def test_offset_invariant_when_bundled_paragraphs_are_split(path: Path, max_chars: int) -> None:
    clean = clean_of(path)
    passages = chunk(statement_id_for(path), clean, max_chars=max_chars)
    assert len(passages) > len(clean.paragraphs)  # some paragraphs were really split
    assert_passage_invariants(clean, passages)
    for p in passages:
        assert len(p.text) <= max_chars or len(p.sentences) == 1


def test_passage_ids_are_stable_and_content_derived() -> None:
    clean = clean_of(BUNDLED_FILES[0])
    first = chunk("s1", clean)
    assert [p.passage_id for p in first] == [p.passage_id for p in chunk("s1", clean)]
    assert all(p.passage_id.startswith("s1:") for p in first)
    # another statement id or another text gives other ids
    assert not {p.passage_id for p in first} & {p.passage_id for p in chunk("s2", clean)}
    edited = clean_text(clean.text.replace("war crimes", "crimes of war"))
    kept = {p.passage_id for p in chunk("s1", edited)} & {p.passage_id for p in first}
    assert first[0].passage_id not in kept  # the edited paragraph has a new id
    assert first[-1].passage_id not in kept  # so do the ones whose offsets moved


def test_long_paragraph_splits_at_sentence_boundaries() -> None:
    assert len(LONG_PARAGRAPH) > 900
    clean = clean_text("A short first paragraph.\n\n" + LONG_PARAGRAPH + "\n\nA short last one.")
    passages = chunk("long", clean, max_chars=900)
    assert_passage_invariants(clean, passages)
    long_ones = [p for p in passages if p.paragraph == 2]
    assert len(long_ones) >= 2
    assert [p.paragraph for p in passages] == [1] + [2] * len(long_ones) + [3]
    sentence_starts = {LONG_PARAGRAPH.index(s) for s in LONG_SENTENCES}
    sentence_ends = {LONG_PARAGRAPH.index(s) + len(s) for s in LONG_SENTENCES}
    offset = clean.paragraphs[1][0]
    for p in long_ones:
        assert len(p.text) <= 900
        assert p.start - offset in sentence_starts, f"starts mid-sentence: {p.text[:60]!r}"
        assert p.end - offset in sentence_ends, f"ends mid-sentence: {p.text[-60:]!r}"
    # the sentence splitter found exactly the ten sentences (no split at U.S., Jan., Mr.)
    spans = [span for p in long_ones for span in p.sentences]
    assert [clean.text[s:e] for s, e in spans] == LONG_SENTENCES


def test_short_paragraph_is_one_passage() -> None:
    clean = clean_text(LONG_SENTENCES[0] + " " + LONG_SENTENCES[1])
    passages = chunk("short", clean, max_chars=900)
    assert len(passages) == 1 and passages[0].text == clean.text
    assert len(passages[0].sentences) == 2


def test_a_sentence_longer_than_the_limit_is_never_cut() -> None:
    giant = "The working class " + ", and ".join(["it must organise"] * 80) + "."
    clean = clean_text(f"Short one. {giant} Short two.")
    passages = chunk("giant", clean, max_chars=200)
    assert_passage_invariants(clean, passages)
    assert [p.text for p in passages] == ["Short one.", giant, "Short two."]


def test_every_passage_ends_a_sentence_in_the_bundled_corpus() -> None:
    """With a small limit every passage still ends where a sentence does."""
    for path in BUNDLED_FILES:
        clean = clean_of(path)
        for p in chunk("x", clean, max_chars=200):
            last_paragraph_end = clean.paragraphs[p.paragraph - 1][1]
            assert p.end == last_paragraph_end or re.search(r"[.!?][\"'”’)\]]*$", p.text), p.text
