"""Group stage: one topic, answered per speaker (compare, positions) or per statement of
one speaker (timeline).

One stage serves the three modes. The topic is embedded once; the passages are retrieved
once over the whole scope (positions: many speakers) or once per side (compare: a few
named speakers; timeline: one speaker's statements, so that each of them gets its
chance); their sentences are scored once; then they are grouped. Each group's best few
sentences are reread by the cross-encoder, best first, stopping at the first that reaches
the floor; a group none of whose sentences reaches it does not address the topic. The
cross-encoder is spent only on each group's best candidates: positions over N speakers
cost one retrieval and about N pairs, not N answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from rag.encoders.cross_encoder import Reranker
from rag.models import Statement
from rag.policy import ScoringPolicy
from rag.stages.context import RequestContext
from rag.stages.retrieve import Retriever, restrict
from rag.stages.score import ScoredSentence, Scorer
from rag.stages.select import QuoteSpan, is_heading, select_quotes
from rag.stages.sides import SpeakerScope
from rag.store.chroma import StoredPassage
from rag.store.texts import StatementTexts

logger = logging.getLogger(__name__)


@dataclass
class Group:
    """One speaker (or one statement of a timeline) and what it says on the topic."""

    key: str  # the speaker, or the statement id of a timeline entry
    scored: list[ScoredSentence] = field(default_factory=list)  # best first
    spans: list[QuoteSpan] = field(default_factory=list)

    @property
    def addresses(self) -> bool:
        return bool(self.spans)


@dataclass
class Candidates:
    """A grouped answer's scored sentences, grouped by key in answer order."""

    scored: list[ScoredSentence]  # all of them, best first
    passages: dict[str, StoredPassage]
    groups: dict[str, list[ScoredSentence]]  # key -> its sentences, best first

    @classmethod
    def of(
        cls,
        scored: list[ScoredSentence],
        passages: dict[str, StoredPassage],
        keys: Sequence[str],
        key_of: Callable[[str], str | None],
    ) -> Candidates:
        groups: dict[str, list[ScoredSentence]] = {key: [] for key in keys}
        for s in scored:
            key = key_of(s.statement_id)
            if key in groups and not is_heading(passages[s.passage_id].passage):
                groups[key].append(s)  # a heading is never read nor quoted
        return cls(scored, passages, groups)


@dataclass
class Grouped:
    """What the group stage found: the groups that address the topic, in answer order
    (the answer names the others as silent), and every passage read."""

    groups: list[Group] = field(default_factory=list)
    passages: dict[str, StoredPassage] = field(default_factory=dict)
    scored: list[ScoredSentence] = field(default_factory=list)  # all of them, best first


class SpeakerGrouping:
    """The group stage of compare, positions and timeline answers."""

    def __init__(
        self,
        retriever: Retriever,
        scorer: Scorer,
        texts: StatementTexts,
        reranker: Reranker | None,
        policy: ScoringPolicy,
    ) -> None:
        self.retriever = retriever
        self.scorer = scorer
        self.texts = texts
        self.reranker = reranker
        self.policy = policy

    # -- the three modes -----------------------------------------------------------

    def candidates(
        self, ctx: RequestContext, mode: str, topic: str, sides: Sequence[SpeakerScope]
    ) -> Candidates:
        """The scored sentences of ``mode``'s retrieval, grouped: per speaker (compare,
        positions; the speakers in ``sides``' order) or per statement (timeline, in date
        order)."""
        policy = self.policy
        if mode == "timeline":
            side = sides[0]
            n = min(policy.group_passages_max, 4 * len(side.statements) + 8)
            scored, passages = self.find(ctx, topic, [(side.ids, n)])
            keys = [s.statement_id for s in sorted(side.statements, key=_date_key)]
            return Candidates.of(scored, passages, keys, lambda sid: sid)
        if mode == "compare":  # each side in turn: every side gets its passages
            per = policy.group_passages_per_side
            scored, passages = self.find(ctx, topic, [(side.ids, per) for side in sides])
        else:  # positions: once over the whole scope
            n = min(policy.group_passages_max, policy.group_passages_per_side * len(sides))
            statements = [s for side in sides for s in side.statements]
            scored, passages = self.find(ctx, topic, [(restrict(statements, ctx.snapshot), n)])
        speaker = {s.statement_id: side.speaker for side in sides for s in side.statements}
        return Candidates.of(scored, passages, [s.speaker for s in sides], speaker.get)

    def run(
        self, ctx: RequestContext, mode: str, topic: str, sides: Sequence[SpeakerScope]
    ) -> Grouped:
        """The groups of ``mode`` that address ``topic``, in answer order: positions by
        their best score, compare in the named order, a timeline by date then place."""
        quotes = {
            "compare": self.policy.compare_quotes,
            "timeline": self.policy.timeline_quotes,
        }.get(mode, self.policy.positions_quotes)
        # A named speaker of a comparison is silent on the same grounds as a plain question
        # about them abstains (the single-question floor and evidence); positions and
        # timelines use the numbers fitted on their own dev cases (evals.fit_groups).
        policy = self.policy
        if mode == "compare":
            bar = (policy.rerank_floor, policy.min_score)
        else:
            bar = (policy.group_floor, policy.group_min_score)
        found = self.decide(ctx, topic, self.candidates(ctx, mode, topic, sides), quotes, bar)
        if mode == "positions":
            found.groups.sort(key=lambda g: -g.scored[0].score)
        if mode == "timeline":
            for group in found.groups:
                group.spans.sort(key=lambda span: span.start)
        return found

    # -- shared steps -------------------------------------------------------------------

    def find(
        self, ctx: RequestContext, topic: str, scopes: Sequence[tuple[list[str] | None, int]]
    ) -> tuple[list[ScoredSentence], dict[str, StoredPassage]]:
        """Retrieve passages for ``topic`` within each of ``scopes`` (``(statement ids, or
        None for everything; how many)``) and score all their sentences once, best first."""
        with ctx.timed("embed"):
            queries = self.scorer.queries(ctx, topic)
            ctx.terms[topic] = queries[0][0].terms
        candidates: dict[str, tuple[StoredPassage, float]] = {}
        with ctx.timed("retrieve"):
            vector = queries[0][0].vector
            ignore = ctx.plan.resolution.ignore_terms
            for ids, k in scopes:
                found_here = self.retriever.run(topic, vector, ctx.snapshot, ids, k, ignore)
                for stored, prior in found_here:
                    candidates.setdefault(stored.passage.passage_id, (stored, prior))
            found = list(candidates.values())
            self.texts.load(ctx.snapshot, ctx.texts, {p.passage.statement_id for p, _ in found})
        with ctx.timed("score"):
            scored = self.scorer.run(ctx, queries, found, topic)
        return scored, {pid: stored for pid, (stored, _) in candidates.items()}

    def decide(
        self,
        ctx: RequestContext,
        topic: str,
        candidates: Candidates,
        quotes: int,
        bar: tuple[float, float],
    ) -> Grouped:
        """The groups whose best sentences the cross-encoder reads as addressing
        ``topic`` with ``bar`` (its floor and evidence), with at most ``quotes`` quotes each."""
        passages = candidates.passages
        found = Grouped(passages=passages, scored=candidates.scored)
        floor, min_score = bar
        policy = replace(self.policy, rerank_floor=floor, min_score=min_score)
        terms = ctx.terms.get(topic)
        with ctx.timed("rerank"):
            for key, scored in candidates.groups.items():
                group = Group(key, list(scored))
                if group.scored:
                    group.scored = self._reread(topic, group.scored, ctx.texts, floor)
                    group.spans = select_quotes(group.scored, passages, quotes, policy, terms)
                if group.addresses:
                    found.groups.append(group)
        return found

    def _reread(
        self, topic: str, scored: list[ScoredSentence], texts: Mapping[str, str], floor: float
    ) -> list[ScoredSentence]:
        """The cross-encoder's logit on a group's best sentences, best first, stopping at
        the first that reaches the floor (the decision needs no more)."""
        if self.reranker is None:
            return scored
        read: dict[tuple[str, int], float] = {}
        by_cross = self.policy.group_by_cross
        for s in scored[: self.policy.group_read]:
            text = texts.get(s.statement_id)
            if text is None:
                continue
            logit = float(self.reranker.score(topic, [text[s.start : s.end]])[0])
            read[(s.passage_id, s.index)] = logit
            if logit >= floor and not by_cross:
                break
        reread = [
            replace(s, features=replace(s.features, cross=read[(s.passage_id, s.index)]))
            if (s.passage_id, s.index) in read
            else s
            for s in scored
        ]
        if by_cross:  # the sentences read, best logit first, before the rest
            head = sorted(reread[: len(read)], key=lambda s: -(s.features.cross or 0.0))
            reread = head + reread[len(read) :]
        return reread


def _date_key(statement: Statement) -> tuple[str, str]:
    return (statement.date or "9999", statement.statement_id)
