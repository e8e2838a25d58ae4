"""The scoring policy: every weight and threshold of answering, as data.

Built once from ``Settings``; the stages read it instead of module constants, so a test
(or a fitted model later) can swap the numbers without touching the code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.settings import Settings

FITTED_PATH = Path(__file__).parent / "data" / "fitted_policy.json"


@lru_cache(maxsize=1)
def fitted() -> dict[str, float]:
    """The numbers fitted on the dev halves of the eval sets (``evals/fit_policy.py``)."""
    data = json.loads(FITTED_PATH.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}


@dataclass(frozen=True)
class ScoringPolicy:
    """Weights of the sentence score, the abstention thresholds and the retrieval sizes."""

    # sentence score = dense·DENSE + keyword·KEYWORD + passage prior·PASSAGE + boost
    dense_weight: float = 0.55
    keyword_weight: float = 0.30
    passage_weight: float = 0.15
    # a follow-up's carried-over topic is scored with this share of the weight
    context_weight: float = 0.35
    # a name in the question that no statement in scope mentions scales scores down
    unknown_entity_penalty: float = 0.6
    # abstain unless one of the best ABSTAIN_WINDOW sentences has min_score evidence
    min_score: float = 0.275
    abstain_window: int = 5
    # every quote must itself be nearly as good as the threshold ...
    quote_evidence_factor: float = 0.9
    # ... and have at least this share of the best quote's evidence
    relative_evidence: float = 0.8
    # further quotes must rank at least this fraction of the best quote's score
    relative_cutoff: float = 0.88
    max_quotes: int = 4
    # a shorter sentence takes its neighbour along so that it reads on its own
    short_sentence_words: int = 6
    # retrieval: passages per retriever before fusion, the RRF constant, passages kept
    candidates: int = 20
    rrf_k: int = 60
    passages_k: int = 8
    exact_search_max: int = 1000  # passages; above, Chroma's filtered index search
    # rerank: the cross-encoder reads the best few sentences; its sigmoid adds rerank_weight
    # to their score, and when none of them reaches rerank_floor (a logit) the statements
    # do not address the question
    rerank_top: int = 8
    rerank_weight: float = 0.0
    rerank_floor: float = float("-inf")
    # speaker grouping (compare, positions, timeline): passages retrieved per side (and at
    # most in all), how many of a group's best sentences the cross-encoder reads, the logit
    # one of them must reach for the group to address the topic, the evidence a quote
    # needs, and the quotes per group
    group_passages_per_side: int = 8
    group_passages_max: int = 320
    group_read: int = 2
    group_floor: float = -8.0
    group_by_cross: bool = False  # a group's quote: the best logit of those read
    group_min_score: float = 0.2
    compare_quotes: int = 3
    positions_quotes: int = 1
    timeline_quotes: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> ScoringPolicy:
        numbers = fitted()
        weight = settings.rerank_weight
        floor = settings.rerank_floor
        return cls(
            rerank_top=int(numbers.get("rerank_top", cls.rerank_top)),
            rerank_weight=numbers["rerank_weight"] if weight is None else weight,
            rerank_floor=numbers["rerank_floor"] if floor is None else floor,
            min_score=settings.min_score,
            relative_cutoff=(
                numbers.get("relative_cutoff", cls.relative_cutoff)
                if settings.relative_cutoff is None
                else settings.relative_cutoff
            ),
            relative_evidence=numbers.get("relative_evidence", cls.relative_evidence),
            group_floor=numbers.get("group_floor", cls.group_floor),
            group_min_score=numbers.get("group_min_score", cls.group_min_score),
            group_read=int(numbers.get("group_read", cls.group_read)),
            group_by_cross=bool(numbers.get("group_by_cross", cls.group_by_cross)),
            positions_quotes=int(numbers.get("positions_quotes", cls.positions_quotes)),
            max_quotes=settings.max_quotes,
            candidates=settings.candidates,
            rrf_k=settings.rrf_k,
            passages_k=settings.passages_k,
        )

    def evidence(self, dense: float, keyword: float) -> float:
        """How well a sentence itself matches: the blend that decides abstention."""
        return (self.dense_weight * dense + self.keyword_weight * keyword) / (
            self.dense_weight + self.keyword_weight
        )
