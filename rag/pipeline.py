"""Question in, typed answer out: the answering stages wired together.

In ``rag.stages``: plan → retrieve → score → rerank → select (and decide abstention) →
verify → compose, streamed as typed events. No LLM is involved unless asked for: every
word shown as a quote is a verified span of a statement.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.encoders.cross_encoder import Reranker
from rag.encoders.embeddings import Embedder
from rag.models import (
    Answer,
    AnswerEvent,
    DoneEvent,
    Filters,
    Passage,
    RetrievalEvent,
    Statement,
)
from rag.policy import ScoringPolicy
from rag.priority import FOREGROUND
from rag.settings import Settings
from rag.stages.compose import answer_events, compose, nearest_citations, number_citations
from rag.stages.compose_groups import compose_grouped, number_groups
from rag.stages.context import RequestContext
from rag.stages.group import SpeakerGrouping
from rag.stages.intent import Mode
from rag.stages.plan import Planner, clean_question
from rag.stages.rerank import RerankStage
from rag.stages.retrieve import Retriever, restrict
from rag.stages.score import ScoredSentence, Scorer
from rag.stages.select import QuoteSpan, Selector
from rag.store.catalog import Catalog
from rag.store.chroma import ChromaStore, StoredPassage
from rag.store.texts import StatementTexts

if TYPE_CHECKING:  # langchain is imported only when an LLM is configured
    from rag.llm.answerer import LLMAnswerer

logger = logging.getLogger(__name__)

__all__ = ["Answerer", "clean_question"]


@dataclass
class Found:
    """What retrieval, scoring and selection found for a question."""

    spans: list[QuoteSpan] = field(default_factory=list)
    passages: dict[str, StoredPassage] = field(default_factory=dict)
    scored: list[ScoredSentence] = field(default_factory=list)  # best first


class Answerer:
    """Answers questions from the statements in a store.

    >>> answerer = Answerer(settings, store, embedder, catalog)
    >>> answer = answerer.answer("What is the Quds Force?")
    >>> answer.citations[0].quote
    "He became the leader of the reactionary Revolutionary Guards' international Quds Force."
    """

    def __init__(
        self,
        settings: Settings,
        store: ChromaStore,
        embedder: Embedder,
        catalog: Catalog,
        llm: LLMAnswerer | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.catalog = catalog
        self.llm = llm
        self.policy = ScoringPolicy.from_settings(settings)
        self.texts = StatementTexts(store)
        self.planner = Planner(catalog, settings.max_question_chars)
        self.retriever = Retriever(store, self.policy)
        self.selector = Selector(self.policy)
        self.scorer = Scorer(lambda text: self.embedder.embed_query(text), self.texts, self.policy)
        self.reranker = RerankStage(reranker, self.policy)
        self.grouping = SpeakerGrouping(
            self.retriever, self.scorer, self.texts, reranker, self.policy
        )

    # -- public ------------------------------------------------------------------

    def answer(
        self,
        question: str,
        filters: Filters | None = None,
        history: Sequence[Answer] = (),
        compare: bool | None = None,
        k: int | None = None,
        use_llm: bool = False,
        mode: Mode | None = None,
    ) -> Answer:
        """The complete answer (see ``stream`` for the same as events)."""
        for event in self.stream(question, filters, history, compare, k, use_llm, mode):
            if isinstance(event, DoneEvent):
                return event.answer
        raise AssertionError("stream ended without an answer")  # pragma: no cover

    def stream(
        self,
        question: str,
        filters: Filters | None = None,
        history: Sequence[Answer] = (),
        compare: bool | None = None,
        k: int | None = None,
        use_llm: bool = False,
        mode: Mode | None = None,
    ) -> Iterator[AnswerEvent]:
        """Typed events: retrieval done, each citation, the text, then the answer.

        ``mode`` forces compare, positions or timeline (None: read from the question).
        ``use_llm`` (with an LLM configured): the chat model writes the text from the
        same passages; its quotes are checked, and the extractive answer is the fallback.
        """
        with FOREGROUND.busy():  # an upload ingested meanwhile waits between its slices
            yield from self._stream(question, filters, history, compare, k, use_llm, mode)

    def _stream(
        self,
        question: str,
        filters: Filters | None,
        history: Sequence[Answer],
        compare: bool | None,
        k: int | None,
        use_llm: bool,
        mode: Mode | None,
    ) -> Iterator[AnswerEvent]:
        ctx = self._context(question, filters, history, compare, mode)  # plan
        plan = ctx.plan
        if plan.mode != "answer":
            yield from self._grouped(ctx)
            return
        # retrieve, score and select (per compared statement for a comparison)
        found = self._single(ctx, k)
        yield RetrievalEvent(
            passages=len(found.passages),
            statement_ids=sorted({p.passage.statement_id for p in found.passages.values()}),
        )
        by_id = {s.statement_id: s for s in plan.scope}
        # verify each picked span (numbered in answer order), then answer or abstain
        verified = number_citations(found.spans, by_id, ctx.texts)
        selection = self.selector.decide(found.scored, verified)
        nearest = []
        if selection.abstained:
            nearest = nearest_citations(found.scored, found.passages, by_id, ctx.texts)
        answer = compose(  # the typed answer, its text rendered from its structure
            plan,
            selection,
            total=len(ctx.snapshot.statements),
            nearest=nearest,
            timings=ctx.finish(),
        )
        if use_llm and self.llm is not None:
            passages, statements = self._llm_inputs(ctx, found)
            yield from self.llm.stream(plan.question, answer, passages, statements)
            return
        yield from answer_events(answer)

    def search(
        self, question: str, k: int = 4, filters: Filters | None = None
    ) -> list[tuple[StoredPassage, float]]:
        """Hybrid passage search alone (used by the LangChain retriever)."""
        text = clean_question(question, self.settings.max_question_chars)
        scope = self.catalog.scope(filters or Filters())
        snap = self.catalog.snapshot()
        vector = self.embedder.embed_query(text)
        return self.retriever.run(text, vector, snap, restrict(scope, snap), k)

    # -- stages --------------------------------------------------------------------

    def _context(
        self,
        question: str,
        filters: Filters | None,
        history: Sequence[Answer],
        compare: bool | None,
        mode: Mode | None = None,
    ) -> RequestContext:
        started = time.perf_counter()
        plan = self.planner.run(question, filters or Filters(), history, compare, mode)
        return RequestContext(plan, self.catalog.snapshot(), started=started)

    def _find(
        self, ctx: RequestContext, ids: list[str] | None, k: int, text: str, rerank: int
    ) -> tuple[list[ScoredSentence], dict[str, StoredPassage]]:
        """Retrieve the top ``k`` passages for ``text`` within ``ids`` and score their
        sentences, best first (the group stage's retrieval, then the rerank stage)."""
        scored, passages = self.grouping.find(ctx, text, [(ids, k)])
        with ctx.timed("rerank"):
            scored = self.reranker.run(text, scored, ctx.texts, rerank)
        return scored, passages

    def _grouped(self, ctx: RequestContext) -> Iterator[AnswerEvent]:
        """A compare, positions or timeline answer: the group stage, then the same
        verification and the one abstention decision as any answer."""
        plan = ctx.plan
        topic = plan.retrieval_text
        found = self.grouping.run(ctx, plan.mode, topic, plan.sides)
        yield RetrievalEvent(
            passages=len(found.passages),
            statement_ids=sorted({p.passage.statement_id for p in found.passages.values()}),
        )
        by_id = {s.statement_id: s for s in plan.scope}
        citations, numbers = number_groups(found, by_id, ctx.texts)
        selection = self.selector.decide(found.scored, citations)
        nearest = []
        if selection.abstained:
            nearest = nearest_citations(found.scored, found.passages, by_id, ctx.texts)
        yield from answer_events(
            compose_grouped(
                plan,
                selection,
                found,
                numbers,
                total=len(ctx.snapshot.statements),
                nearest=nearest,
                timings=ctx.finish(),
            )
        )

    def _single(self, ctx: RequestContext, k: int | None) -> Found:
        ids = restrict(ctx.plan.scope, ctx.snapshot)
        k = k or self.policy.passages_k
        scored, stored = self._find(ctx, ids, k, ctx.plan.retrieval_text, self.policy.rerank_top)
        spans = self.selector.run(scored, stored, terms=ctx.terms.get(ctx.plan.retrieval_text))
        return Found(spans, stored, scored)

    def _llm_inputs(
        self, ctx: RequestContext, found: Found
    ) -> tuple[list[Passage], dict[str, Statement]]:
        """The passages for the chat model, most relevant first, and their statements
        with their clean texts (to check its quotes against)."""
        order = dict.fromkeys(s.passage_id for s in found.scored)
        given = [found.passages[pid].passage for pid in order if pid in found.passages]
        by_id = {s.statement_id: s for s in ctx.plan.scope}
        statements = {
            sid: by_id[sid].model_copy(update={"text": ctx.texts[sid]})
            for sid in {p.statement_id for p in given}
            if sid in by_id and sid in ctx.texts
        }
        return given, statements
