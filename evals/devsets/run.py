"""Answer a development set through the public API and record what each stage did.

Only ``Answerer.answer`` and ``Answerer.search`` are used (the refactor keeps both stable):
the answer gives the quotes (with scores) or the abstention; ``search`` with ``k=20`` shows
whether the evidence was retrievable at all, so that a failure can be put on a stage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.cases import Case
from evals.devsets import DevSet, split_of
from evals.devsets.results import DevResult, Shown
from evals.devsets.scoring import Located, locate, score, side_rank
from evals.devsets.speakers import Speech, score_speakers
from evals.harness import StatementTexts, ingested_services
from rag.models import Answer, Citation, Filters
from rag.service import Services

logger = logging.getLogger(__name__)

SEARCH_K = 20
WARM_UP = "What do the statements say?"


def devset_services(home: Path, devset: DevSet, embedder: Any = None) -> Services:
    """Services over a fresh ingest of ``devset``'s statements in ``home``."""
    return ingested_services(home, devset.files, embedder)


class _Texts(StatementTexts):
    """Clean statement texts, fetched once: what quotes and evidence are checked against."""

    def shown(self, citations: Sequence[Citation]) -> list[Shown]:
        return [
            Shown(
                c.statement_id,
                c.paragraph,
                c.start,
                c.end,
                c.quote,
                round(float(c.score), 4),
                exact=bool(c.quote) and self.get(c.statement_id)[c.start : c.end] == c.quote,
            )
            for c in citations
        ]


def speeches_of(services: Services) -> dict[str, Speech]:
    """Who said each statement of the store, and when."""
    return {s.statement_id: Speech(s.speaker, s.date) for s in services.store.statements()}


def run_case(
    services: Services,
    devset: str,
    case: Case,
    texts: _Texts,
    speeches: dict[str, Speech] | None = None,
) -> DevResult:
    """Answer the case's history, then its question; search; score."""
    answerer = services.answerer
    filters = Filters(**case.filters)
    history: list[Answer] = []
    for previous in case.history:
        history.append(answerer.answer(previous, filters, history=history))
    started = time.perf_counter()
    answer = answerer.answer(case.question, filters, history=history, compare=case.compare)
    latency_ms = (time.perf_counter() - started) * 1000
    retrieved, side_lists = _retrieve(answerer, case, filters, history)
    quotes = texts.shown(answer.citations)
    nearest = texts.shown(answer.nearest)
    result = DevResult(
        set=devset,
        id=case.id,
        kind=case.kind,
        split=split_of(case),
        question=case.question,
        answerable=case.answerable,
        abstained=answer.abstained,
        resolved_question=answer.resolved_question,
        quotes=quotes,
        nearest=nearest,
        retrieved=retrieved,
        latency_ms=round(latency_ms, 2),
        quotes_exact=sum(q.exact for q in quotes + nearest),
        quotes_total=len(quotes + nearest),
        scope_speakers=list(answer.speakers),
    )
    speeches = speeches if speeches is not None else speeches_of(services)
    if case.kind != "positions":  # positions are scored per speaker only
        located: Located = locate(case, texts.get)
        result = score(case, result, located)
        if side_lists and case.answerable and located.every_side:
            result.retrieval_rank = side_rank(located, side_lists)
    return score_speakers(case, result, speeches, texts.get)


def _shown(found: Sequence[tuple[Any, float]]) -> list[Shown]:
    return [
        Shown(
            s.passage.statement_id,
            s.passage.paragraph,
            s.passage.start,
            s.passage.end,
            s.passage.text,
            round(float(prior), 4),
        )
        for s, prior in found
    ]


def _retrieve(
    answerer: Any, case: Case, filters: Filters, history: Sequence[Answer]
) -> tuple[list[Shown], list[list[Shown]]]:
    """What the answerer retrieves for the case, as ``search`` (k=20) shows it: the
    planned text within the planned scope; a comparison, within each side in turn."""
    plan = answerer.planner.run(case.question, filters, history, case.compare)
    if getattr(plan, "mode", None) == "compare" and len(plan.sides) > 1:
        sides = [
            _shown(
                answerer.search(
                    plan.retrieval_text, k=SEARCH_K, filters=Filters(statement_ids=side.ids)
                )
            )
            for side in plan.sides
        ]
        return [p for side in sides for p in side], sides
    scoped = filters
    if plan.narrowed:
        scoped = Filters(statement_ids=[s.statement_id for s in plan.scope])
    return _shown(answerer.search(plan.retrieval_text, k=SEARCH_K, filters=scoped)), []


def run_devset(services: Services, devset: DevSet, cases: Sequence[Case]) -> list[DevResult]:
    """Every case in order, after one unscored warm-up question."""
    services.answerer.answer(WARM_UP)
    texts = _Texts(services)
    speeches = speeches_of(services)
    results = [run_case(services, devset.name, case, texts, speeches) for case in cases]
    logger.info("ran %d %s cases", len(results), devset.name)
    return results
