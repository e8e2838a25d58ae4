"""The answering stages, one module each, in the order a question meets them:
plan → retrieve → score → rerank → select → verify → compose (wired by ``rag.pipeline``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.lazy import lazy_exports

_EXPORTS = {
    "Plan": "plan",
    "Planner": "plan",
    "clean_question": "plan",
    "Resolution": "conversation",
    "resolve": "conversation",
    "Speaker": "speakers",
    "find_speakers": "speakers",
    "topic_of": "rewrite",
    "Retriever": "retrieve",
    "Scorer": "score",
    "ScoredSentence": "score",
    "RerankStage": "rerank",
    "Selector": "select",
    "Selection": "select",
    "QuoteSpan": "select",
    "verify": "verify",
    "cite": "verify",
    "compose": "compose",
    "RequestContext": "context",
}
__all__ = [
    "Plan",
    "Planner",
    "QuoteSpan",
    "RequestContext",
    "RerankStage",
    "Resolution",
    "Retriever",
    "ScoredSentence",
    "Scorer",
    "Selection",
    "Selector",
    "Speaker",
    "cite",
    "clean_question",
    "compose",
    "find_speakers",
    "resolve",
    "topic_of",
    "verify",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from rag.stages.compose import compose
    from rag.stages.context import RequestContext
    from rag.stages.conversation import Resolution, resolve
    from rag.stages.plan import Plan, Planner, clean_question
    from rag.stages.rerank import RerankStage
    from rag.stages.retrieve import Retriever
    from rag.stages.rewrite import topic_of
    from rag.stages.score import ScoredSentence, Scorer
    from rag.stages.select import QuoteSpan, Selection, Selector
    from rag.stages.speakers import Speaker, find_speakers
    from rag.stages.verify import cite, verify
