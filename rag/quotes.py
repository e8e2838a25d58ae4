"""Pick the sentences that answer a question, and prove every quote is verbatim.

Sentences of the retrieved passages are scored against the question by their own
(contextual) embedding and by keyword overlap weighted by rarity, plus a little of their
passage's retrieval rank. The best ones become quotes; adjacent picks merge into one
span; a very short sentence takes its neighbour along so that it reads on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rag.keyword import KeywordIndex
from rag.sentences import content_terms
from rag.store import StoredPassage

logger = logging.getLogger(__name__)

DENSE_WEIGHT = 0.55
KEYWORD_WEIGHT = 0.30
PASSAGE_WEIGHT = 0.15
SHORT_SENTENCE_WORDS = 6
ABSTAIN_WINDOW = 5  # the best evidence among the top-ranked sentences decides abstention
QUOTE_EVIDENCE_FACTOR = 0.9  # every quote must itself be nearly as good as the threshold
RELATIVE_EVIDENCE = 0.8  # ... and have at least this share of the best quote's evidence


@dataclass(frozen=True)
class Query:
    """A question prepared for scoring: its vector and weighted content terms."""

    text: str
    vector: np.ndarray
    terms: dict[str, float]  # stemmed term -> idf weight

    @classmethod
    def make(
        cls,
        text: str,
        vector: np.ndarray,
        keywords: KeywordIndex,
        ignore: frozenset[str] = frozenset(),
    ) -> Query:
        terms = {t: keywords.idf(t) for t in dict.fromkeys(content_terms(text)) if t not in ignore}
        return cls(text, vector, terms)


@dataclass(frozen=True)
class ScoredSentence:
    statement_id: str
    passage_id: str
    paragraph: int
    index: int  # position of the sentence in its passage
    start: int
    end: int
    score: float  # ranking: evidence plus the passage's retrieval prior and any boost
    dense: float
    keyword: float
    evidence: float  # how well the sentence itself matches: decides answer vs abstain


def keyword_overlap(terms: Mapping[str, float], sentence_terms: set[str]) -> float:
    total = sum(terms.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in terms.items() if t in sentence_terms) / total


def score_sentences(
    query: Query,
    passages: Sequence[tuple[StoredPassage, float]],
    texts: Mapping[str, str],
    boosts: Mapping[str, float] | None = None,
) -> list[ScoredSentence]:
    """Every sentence of the given passages, scored; ``passages`` carry a 0..1 prior."""
    scored: list[ScoredSentence] = []
    for stored, prior in passages:
        p = stored.passage
        text = texts.get(p.statement_id)
        if text is None:
            continue
        vectors = stored.sentence_vectors
        dense_all = vectors @ query.vector if len(vectors) == len(p.sentences) else None
        boost = (boosts or {}).get(p.statement_id, 0.0)
        for i, (s, e) in enumerate(p.sentences):
            dense = float(dense_all[i]) if dense_all is not None else 0.0
            keyword = keyword_overlap(query.terms, set(content_terms(text[s:e])))
            score = DENSE_WEIGHT * dense + KEYWORD_WEIGHT * keyword + PASSAGE_WEIGHT * prior + boost
            evidence = (DENSE_WEIGHT * dense + KEYWORD_WEIGHT * keyword) / (
                DENSE_WEIGHT + KEYWORD_WEIGHT
            )
            scored.append(
                ScoredSentence(
                    p.statement_id,
                    p.passage_id,
                    p.paragraph,
                    i,
                    s,
                    e,
                    score,
                    dense,
                    keyword,
                    evidence,
                )
            )
    scored.sort(key=lambda x: -x.score)
    return scored


@dataclass(frozen=True)
class QuoteSpan:
    statement_id: str
    paragraph: int
    start: int
    end: int
    score: float
    quote: str  # taken from the stored passage; checked against the statement's text


def select_quotes(
    scored: Sequence[ScoredSentence],
    passages: Mapping[str, StoredPassage],
    max_quotes: int,
    min_score: float,
    relative_cutoff: float,
    per_statement: int | None = None,
) -> list[QuoteSpan]:
    """The best sentences as quote spans, best first; adjacent picks are merged."""
    if not scored or max(s.evidence for s in scored[:ABSTAIN_WINDOW]) < min_score:
        return []
    floor = scored[0].score * relative_cutoff
    best_evidence = max(s.evidence for s in scored[:ABSTAIN_WINDOW])
    evidence_floor = max(min_score * QUOTE_EVIDENCE_FACTOR, best_evidence * RELATIVE_EVIDENCE)
    picked: list[ScoredSentence] = []
    counts: dict[str, int] = {}
    for sentence in scored:
        if sentence.score < floor or len(picked) >= max_quotes:
            break
        if sentence.evidence < evidence_floor:
            continue
        if per_statement and counts.get(sentence.statement_id, 0) >= per_statement:
            continue
        picked.append(sentence)
        counts[sentence.statement_id] = counts.get(sentence.statement_id, 0) + 1
    return _merge(picked, passages)


def _merge(
    picked: Sequence[ScoredSentence], passages: Mapping[str, StoredPassage]
) -> list[QuoteSpan]:
    by_passage: dict[str, list[ScoredSentence]] = {}
    for s in picked:
        by_passage.setdefault(s.passage_id, []).append(s)
    spans: list[QuoteSpan] = []
    for pid, sentences in by_passage.items():
        p = passages[pid].passage
        indices = sorted({s.index for s in sentences})
        best = {s.index: s.score for s in sentences}
        # a very short sentence ("Get out now!") takes its neighbour along, and a
        # (rhetorical) question takes the sentence that answers it
        for i in list(indices):
            lo, hi = p.sentences[i]
            sentence = p.text[lo - p.start : hi - p.start]
            asks = sentence.rstrip("\"'”’) ").endswith("?") and i + 1 < len(p.sentences)
            if asks or len(sentence.split()) < SHORT_SENTENCE_WORDS:
                neighbour = i + 1 if i + 1 < len(p.sentences) else i - 1
                if neighbour >= 0 and neighbour not in best:
                    indices.append(neighbour)
                    best[neighbour] = best[i]
        indices = sorted(set(indices))
        runs: list[list[int]] = [[indices[0]]]
        for i in indices[1:]:
            if i == runs[-1][-1] + 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            start, end = p.sentences[run[0]][0], p.sentences[run[-1]][1]
            spans.append(
                QuoteSpan(
                    p.statement_id,
                    p.paragraph,
                    start,
                    end,
                    max(best[i] for i in run),
                    p.text[start - p.start : end - p.start],
                )
            )
    spans.sort(key=lambda q: -q.score)
    return spans


def verify(text: str | None, start: int, end: int, quote: str) -> bool:
    """The one check every shown quote passes: it is exactly ``text[start:end]``."""
    ok = (
        text is not None
        and 0 <= start < end <= len(text)
        and bool(quote.strip())
        and text[start:end] == quote
    )
    if not ok:
        logger.error("dropped a quote that is not verbatim at [%d:%d]: %r", start, end, quote[:80])
    return ok
