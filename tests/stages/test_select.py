"""Quote selection and the one abstention decision."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rag.models import Citation, Passage
from rag.policy import ScoringPolicy
from rag.stages.score import SentenceFeatures
from rag.stages.select import (
    NOT_ADDRESSED,
    NOT_VERBATIM,
    NOTHING_FOUND,
    WEAK_EVIDENCE,
    QuoteSpan,
    Selector,
    decide,
    select_quotes,
    without_stage_directions,
)
from rag.store.chroma import StoredPassage
from tests.stages.helpers import TEXT, sentence, statement, stored

POLICY = ScoringPolicy(min_score=0.3)
PASSAGES = {"s1-p1": stored()}


def citation() -> Citation:
    return Citation.of(1, statement(), 1, 16, 62, TEXT[16:62])


def test_answers_exactly_when_a_quote_was_verified() -> None:
    selection = decide([sentence(1, 0.9, 0.9)], [citation()], POLICY)
    assert not selection.abstained and selection.reason is None
    assert [c.n for c in selection.quotes] == [1]


def test_abstains_with_its_reason() -> None:
    assert decide([], [], POLICY).reason == NOTHING_FOUND
    weak = decide([sentence(1, 0.9, 0.29)], [], POLICY)
    assert weak.abstained and weak.reason == WEAK_EVIDENCE and weak.quotes == []
    assert decide([sentence(1, 0.9, 0.9)], [], POLICY).reason == NOT_VERBATIM


def test_weak_evidence_selects_nothing() -> None:
    assert select_quotes([sentence(1, 0.9, 0.29)], PASSAGES, 4, POLICY) == []
    assert select_quotes([], PASSAGES, 4, POLICY) == []


def test_only_the_abstain_window_counts() -> None:
    window = ScoringPolicy(min_score=0.3, abstain_window=1)
    scored = [sentence(1, 0.9, 0.1), sentence(2, 0.85, 0.9)]
    assert select_quotes(scored, PASSAGES, 4, window) == []
    assert decide(scored, [], window).reason == WEAK_EVIDENCE


def test_picks_above_the_relative_cutoff_and_evidence_floor() -> None:
    scored = [sentence(1, 1.0, 0.9), sentence(2, 0.95, 0.5), sentence(0, 0.5, 0.9)]
    spans = select_quotes(scored, PASSAGES, 4, POLICY)
    # sentence 2's evidence is below 0.8 x the best; sentence 0 ranks below 0.88 x best
    assert spans == [QuoteSpan("s1", 1, 16, 62, 1.0, TEXT[16:62])]


def test_a_short_sentence_takes_its_neighbour_along() -> None:
    spans = Selector(POLICY).run([sentence(0, 1.0, 0.9)], PASSAGES)
    assert [(s.start, s.end) for s in spans] == [(0, 62)]
    assert spans[0].quote == TEXT[0:62]


def test_max_quotes_caps_the_picks() -> None:
    scored = [sentence(1, 1.0, 0.9), sentence(2, 0.99, 0.9)]
    assert len(select_quotes(scored, PASSAGES, 1, POLICY)) == 1
    merged = select_quotes(scored, PASSAGES, 2, POLICY)
    assert [(s.start, s.end) for s in merged] == [(16, 83)]  # adjacent picks merge


def test_a_neighbour_that_completes_the_answer_is_taken_along() -> None:
    # the best sentence lacks "voted"; the next one has it, so it reads as part of the quote
    terms = {"war": 1.0, "vote": 2.0}
    spans = select_quotes([sentence(1, 1.0, 0.9)], PASSAGES, 4, POLICY, terms)
    assert [(s.start, s.end) for s in spans] == [(16, 83)]
    assert select_quotes([sentence(1, 1.0, 0.9)], PASSAGES, 4, POLICY, {"war": 1.0})[0].end == 62


def test_a_heading_alone_is_never_quoted() -> None:
    heading = Passage(
        passage_id="h",
        statement_id="s1",
        paragraph=1,
        start=0,
        end=25,
        text="Free buses for every city",
        sentences=((0, 25),),
    )
    passages = {"h": StoredPassage(heading, np.eye(1, 4, dtype=np.float32)), **PASSAGES}
    scored = [sentence(0, 1.0, 0.9, pid="h"), sentence(1, 0.95, 0.9)]
    spans = select_quotes(scored, passages, 4, POLICY)
    assert [s.quote for s in spans] == [TEXT[16:62]]


def test_the_same_words_in_two_statements_are_quoted_once() -> None:
    twin = {"s2-p1": stored("s2", "s2-p1"), **PASSAGES}
    scored = [sentence(1, 1.0, 0.9), sentence(1, 0.99, 0.9, sid="s2", pid="s2-p1")]
    spans = select_quotes(scored, twin, 4, POLICY)
    assert [s.statement_id for s in spans] == ["s1"]


def test_the_cross_encoder_floor_abstains_as_not_addressed() -> None:
    floor = ScoringPolicy(min_score=0.3, rerank_floor=-5.0)
    off = replace(sentence(1, 1.0, 0.9), features=SentenceFeatures(0.9, 0.0, 1.0, cross=-8.0))
    on = replace(off, features=SentenceFeatures(0.9, 0.0, 1.0, cross=2.0))
    assert select_quotes([off], PASSAGES, 4, floor) == []
    assert decide([off], [], floor).reason == NOT_ADDRESSED
    assert select_quotes([on], PASSAGES, 4, floor)


def test_a_transcribers_note_is_never_quoted() -> None:
    """Issue 21: quotes held "(APPLAUSE)" or "(CROSSTALK)" as if the speaker said it."""
    text = "(APPLAUSE) We will win this. (CROSSTALK) And we will [inaudible] keep going."
    span = QuoteSpan("s1", 1, 100, 100 + len(text), 0.9, text)
    parts = without_stage_directions(span)
    assert [p.quote for p in parts] == ["We will win this.", "And we will", "keep going."]
    for p in parts:  # offsets stay exact slices of the original
        assert text[p.start - 100 : p.end - 100] == p.quote
    assert without_stage_directions(QuoteSpan("s1", 1, 0, 10, 0.5, "(LAUGHTER)")) == []
    plain = QuoteSpan("s1", 1, 0, 9, 0.5, "Iraq (the")
    assert without_stage_directions(plain) == [plain]
