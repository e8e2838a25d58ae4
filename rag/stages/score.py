"""Score stage: every sentence of the retrieved passages, scored against the question.

A sentence's score is made of explicit features (``SentenceFeatures``): its own
(contextual) embedding's similarity to the question, its keyword overlap weighted by
rarity, its passage's retrieval prior, a follow-up's boost and the penalty for a question
naming someone the statements never mention. The weights are the ``ScoringPolicy``'s.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.models import Statement
from rag.policy import ScoringPolicy
from rag.sentences import content_terms
from rag.stages.context import RequestContext
from rag.store.catalog import Snapshot
from rag.store.chroma import StoredPassage
from rag.store.keyword import KeywordIndex
from rag.store.texts import StatementTexts


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
class SentenceFeatures:
    """The inputs of a sentence's score (what a fitted model would read instead)."""

    dense: float  # cosine similarity of the sentence's vector and the question's
    keyword: float  # rarity-weighted share of the question's terms the sentence has
    prior: float  # its passage's fused retrieval rank, 0..1 (1: the best passage)
    boost: float = 0.0  # a follow-up's preference for the statements just cited
    penalty: float = 1.0  # < 1 when the question names someone absent from the scope
    cross: float | None = None  # the cross-encoder's logit, for the few it reads (rerank)


@dataclass(frozen=True)
class ScoredSentence:
    statement_id: str
    passage_id: str
    paragraph: int
    index: int  # position of the sentence in its passage
    start: int
    end: int
    score: float  # ranking: evidence plus the passage's retrieval prior and any boost
    evidence: float  # how well the sentence itself matches: decides answer vs abstain
    features: SentenceFeatures


def keyword_overlap(terms: Mapping[str, float], sentence_terms: set[str]) -> float:
    total = sum(terms.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in terms.items() if t in sentence_terms) / total


def score_sentences(
    query: Query,
    passages: Sequence[tuple[StoredPassage, float]],
    texts: Mapping[str, str],
    policy: ScoringPolicy,
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
            score = (
                policy.dense_weight * dense
                + policy.keyword_weight * keyword
                + policy.passage_weight * prior
                + boost
            )
            features = SentenceFeatures(dense, keyword, prior, boost)
            evidence = policy.evidence(dense, keyword)
            scored.append(
                ScoredSentence(
                    p.statement_id, p.passage_id, p.paragraph, i, s, e, score, evidence, features
                )
            )
    scored.sort(key=lambda x: -x.score)
    return scored


def combine(
    rankings: Sequence[tuple[Sequence[ScoredSentence], float]], penalty: float = 1.0
) -> list[ScoredSentence]:
    """Sentences scored for several weighted queries, as one weighted sum, best first.

    A sentence keeps the features of the first query that scored it.
    """
    totals: dict[tuple[str, int], ScoredSentence] = {}
    scores: dict[tuple[str, int], float] = {}
    evidence: dict[tuple[str, int], float] = {}
    for ranking, weight in rankings:
        for s in ranking:
            key = (s.passage_id, s.index)
            scores[key] = scores.get(key, 0.0) + weight * s.score
            evidence[key] = evidence.get(key, 0.0) + weight * s.evidence
            totals.setdefault(key, s)
    combined = [
        replace(
            s,
            score=scores[key] * penalty,
            evidence=evidence[key] * penalty,
            features=replace(s.features, penalty=penalty),
        )
        for key, s in totals.items()
    ]
    combined.sort(key=lambda s: -s.score)
    return combined


def question_names(question: str) -> list[str]:
    """Capitalised names and numbers in the question (not its first word, not initials)."""
    words = re.findall(r"[A-Za-z0-9][\w'’-]*", question)[1:]
    words = [re.sub(r"['’]s$", "", w) for w in words]
    return [
        w
        for w in words
        if (w[0].isupper() or w.isdigit())
        and len(w) > 1
        and not (w.isupper() or w[:-1].isupper())  # SWP, GIs: initials, checked elsewhere
        and content_terms(w)  # not a stopword ("Party")
    ]


def unknown_names(names: Sequence[str], known: Callable[[str], bool]) -> list[str]:
    """The names none of whose content terms is ``known``."""
    return [w for w in names if all(not known(t) for t in content_terms(w))]


class Scorer:
    """Queries for a plan, and the sentences of retrieved passages scored against them."""

    def __init__(
        self, embed: Callable[[str], np.ndarray], texts: StatementTexts, policy: ScoringPolicy
    ) -> None:
        self.embed = embed
        self.texts = texts
        self.policy = policy

    def vector(self, ctx: RequestContext, text: str) -> np.ndarray:
        """The vector of ``text``, computed once per request (a comparison scores the
        same topic against each statement in turn)."""
        if text not in ctx.vectors:
            ctx.vectors[text] = self.embed(text)
        return ctx.vectors[text]

    def queries(self, ctx: RequestContext, text: str) -> list[tuple[Query, float]]:
        """The question, and a follow-up's carried-over topic with less weight."""
        resolution = ctx.plan.resolution
        keywords = ctx.snapshot.keywords
        ignore = resolution.ignore_terms
        queries = [(Query.make(text, self.vector(ctx, text), keywords, ignore), 1.0)]
        context = resolution.context_text
        if context and context != text:
            weight = self.policy.context_weight
            queries = [
                (queries[0][0], 1.0 - weight),
                (Query.make(context, self.vector(ctx, context), keywords, ignore), weight),
            ]
        return queries

    def run(
        self,
        ctx: RequestContext,
        queries: Sequence[tuple[Query, float]],
        candidates: Sequence[tuple[StoredPassage, float]],
        text: str,
    ) -> list[ScoredSentence]:
        """Every sentence of ``candidates`` (their texts loaded), best first."""
        boosts = ctx.plan.resolution.boosts
        rankings = [
            (score_sentences(query, candidates, ctx.texts, self.policy, boosts), weight)
            for query, weight in queries
        ]
        # names are read in the question as asked (its topic may start with one); a
        # follow-up's are in the text it was resolved to
        asked_in = text if ctx.plan.resolution.context_text else ctx.plan.question
        unknown = self.unknown_entities(ctx, asked_in)
        return combine(rankings, self.policy.unknown_entity_penalty if unknown else 1.0)

    def unknown_entities(self, ctx: RequestContext, question: str) -> list[str]:
        """Capitalised names in the question that no statement in scope mentions."""
        names = question_names(question)
        if not names:
            return []
        snap, scope = ctx.snapshot, ctx.plan.scope
        if len(scope) == len(snap.statements) or len(scope) > 50:
            return unknown_names(names, snap.known_term)
        self.texts.load(ctx.snapshot, ctx.texts, [s.statement_id for s in scope])
        vocabulary = self._vocabulary(ctx, snap, scope)
        return unknown_names(names, vocabulary.__contains__)

    def _vocabulary(
        self, ctx: RequestContext, snap: Snapshot, scope: Sequence[Statement]
    ) -> set[str]:
        vocabulary: set[str] = set()
        for statement in scope:
            text = ctx.texts.get(statement.statement_id, "")
            vocabulary |= self.texts.terms(snap, statement, text)
        return vocabulary
