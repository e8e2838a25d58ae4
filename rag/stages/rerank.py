"""Rerank stage: the cross-encoder (``rag.encoders.cross_encoder``) rereads the best sentences.

Its logits sharpen their order a little and, above all, tell a question that the
statements do not address (every candidate far below ``rerank_floor``) from one they do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from rag.encoders.cross_encoder import Reranker
from rag.policy import ScoringPolicy
from rag.stages.score import ScoredSentence


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


class RerankStage:
    """The rerank stage: the cross-encoder reads the question with each of the ``top``
    best-scored sentences; its logit is kept as a feature (``features.cross``, which the
    select stage's abstention reads) and adds ``rerank_weight · sigmoid(logit)`` to the
    score. Sentences below the top keep their score: they stay below.

    At weight 0 (the fitted policy) the logits only decide abstention: the answer abstains
    when *none* of the top reaches ``rerank_floor``. The sentences are read one at a time,
    best first, and then reading stops at the first that reaches the floor: the decision
    is the same as reading all of them, at a quarter of the cost for most questions that
    are answered (``read_all`` turns the stop off, for fitting)."""

    def __init__(
        self, model: Reranker | None, policy: ScoringPolicy, *, read_all: bool = False
    ) -> None:
        self.model = model
        self.policy = policy
        self.read_all = read_all

    def _logits(self, question: str, texts: Sequence[str]) -> list[float]:
        """One pair at a time: cheaper than a padded batch, and a sentence's logit does not
        depend on what it is batched with (the int8 model quantizes activations with one
        scale per batch: batched, a logit moved by up to ~0.2)."""
        assert self.model is not None
        stop = not self.read_all and self.policy.rerank_weight == 0.0
        logits: list[float] = []
        for text in texts:
            logits.append(float(self.model.score(question, [text])[0]))
            if stop and logits[-1] >= self.policy.rerank_floor:
                break
        return logits

    def run(
        self, question: str, scored: Sequence[ScoredSentence], texts: Mapping[str, str], top: int
    ) -> list[ScoredSentence]:
        if self.model is None or not scored or top <= 0:
            return list(scored)
        head = [s for s in scored[:top] if s.statement_id in texts]
        logits = self._logits(question, [texts[s.statement_id][s.start : s.end] for s in head])
        weight = self.policy.rerank_weight
        reread = {
            (s.passage_id, s.index): replace(
                s,
                score=s.score + weight * _sigmoid(logit),
                features=replace(s.features, cross=logit),
            )
            for s, logit in zip(head, logits)
        }
        result = [reread.get((s.passage_id, s.index), s) for s in scored]
        result.sort(key=lambda s: -s.score)
        return result
