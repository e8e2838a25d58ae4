"""Quote selection and the one abstention decision."""

from __future__ import annotations

from rag.models import Citation
from rag.policy import ScoringPolicy
from rag.select import (
    NOT_VERBATIM,
    NOTHING_FOUND,
    WEAK_EVIDENCE,
    QuoteSpan,
    Selector,
    decide,
    select_quotes,
)
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
