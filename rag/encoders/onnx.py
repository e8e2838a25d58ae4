"""Query embeddings without torch: the sentence-transformers model exported to ONNX.

``rag ask`` spends most of its cold start importing torch and sentence-transformers just to
embed one short question. ``export_onnx`` (``rag.encoders.export``) writes the model's
transformer to ONNX once (while torch is loaded anyway, e.g. during ingest), and
``OnnxQueryEmbedder`` embeds with onnxruntime + tokenizers: the same tokenizer, the same mean
pooling over the attention mask and the same L2 normalisation as sentence-transformers. This
module imports neither torch nor sentence-transformers nor transformers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.encoders.export import export_onnx
from rag.encoders.onnx_files import (
    MODEL_FILE,
    TOKENIZER_FILE,
    export_dir,
    model_is_whole,
    read_manifest,
    source_fingerprint,
)
from rag.errors import EmbeddingModelError

__all__ = [
    "HybridEmbedder",
    "OnnxQueryEmbedder",
    "export_dir",
    "export_onnx",
    "read_manifest",
    "source_fingerprint",
]

logger = logging.getLogger(__name__)


class OnnxQueryEmbedder:
    """Embeds with an ``export_onnx`` folder: onnxruntime + tokenizers, no torch.

    >>> emb = OnnxQueryEmbedder(export_dir(settings.home, settings.embedding_model))
    >>> emb.embed_query("Who was killed?").shape
    (384,)
    """

    def __init__(self, out_dir: Path, threads: int = 2, batch_size: int = 32) -> None:
        manifest = read_manifest(out_dir)
        if manifest is None:
            raise EmbeddingModelError(
                f"No ONNX export in {out_dir}", hint="run `rag ingest` once to create it"
            )
        self._dir = out_dir
        self._manifest = manifest
        self._threads = threads
        self._batch_size = batch_size
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return str(self._manifest["model_name"])

    @property
    def dimension(self) -> int:
        return int(self._manifest["dimension"])

    @property
    def manifest(self) -> dict[str, Any]:
        return dict(self._manifest)

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(
                str(self._dir / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(self._dir / TOKENIZER_FILE))
        except Exception as exc:  # InvalidProtobuf, a garbled tokenizer.json, ...
            raise EmbeddingModelError(
                f"The ONNX export in {self._dir} cannot be loaded: {exc}".splitlines()[0]
            ) from exc
        tokenizer.enable_truncation(int(self._manifest["max_seq_length"]))
        tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0)
        self._tokenizer, self._session = tokenizer, session

    @property
    def loaded(self) -> bool:
        """Whether the session is loaded (by a first use or ``preload``)."""
        return self._session is not None

    def preload(self) -> None:
        """Load the session now (it loads on first use otherwise)."""
        self._ready()

    def _ready(self) -> tuple[Any, Any]:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._load()
        return self._tokenizer, self._session

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        tokenizer, session = self._ready()
        texts = list(texts)
        result = np.empty((len(texts), self.dimension), dtype=np.float32)
        # sort by length so each batch pads little, like sentence-transformers does
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for b in range(0, len(texts), self._batch_size):
            idx = order[b : b + self._batch_size]
            encodings = tokenizer.encode_batch([texts[i] for i in idx])
            feeds = {
                "input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.asarray([e.type_ids for e in encodings], dtype=np.int64),
            }
            feeds = {k: v for k, v in feeds.items() if k in self._manifest["inputs"]}
            (hidden,) = session.run(["last_hidden_state"], feeds)
            mask = feeds["attention_mask"][:, :, None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            result[idx] = pooled / np.maximum(norms, 1e-12)
        return result

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


class HybridEmbedder:
    """Queries through the ONNX export when one matches the model, passages through
    sentence-transformers (ingest needs its token outputs for the sentence vectors).

    Whenever this process has the sentence-transformers model loaded anyway (an ingest, or
    a query before any export existed) and there is no matching export, it writes one, so
    the next process embeds its questions without importing torch. An export that cannot
    be written or read only costs speed: queries then go through sentence-transformers.

    >>> emb = HybridEmbedder(SentenceTransformerEmbedder(), export_dir(home, BUNDLED_MODEL))
    """

    def __init__(self, inner: Any, out_dir: Path, threads: int = 2) -> None:
        self._inner = inner
        self._dir = out_dir
        self._threads = threads
        self._onnx: OnnxQueryEmbedder | None = None
        self._checked = False
        self._exported = False
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return str(self._inner.model_name)

    @property
    def inner(self) -> Any:
        return self._inner

    def query_backend(self) -> str:
        return "onnx" if self._query_embedder() is not None else "sentence-transformers"

    def preload(self) -> None:
        """Open the export and load its session now, if there is one; sentence-transformers
        (torch) is never loaded ahead of use."""
        onnx = self._query_embedder()
        if onnx is not None:
            onnx.preload()

    def _query_embedder(self) -> OnnxQueryEmbedder | None:
        if not self._checked:
            with self._lock:
                if not self._checked:
                    self._onnx = self._open_export()
                    self._checked = True
        return self._onnx

    def _open_export(self) -> OnnxQueryEmbedder | None:
        manifest = read_manifest(self._dir)
        if manifest is None or manifest.get("model_name") != self.model_name:
            return None
        try:
            from rag.encoders.embeddings import resolve_model_path

            current = source_fingerprint(resolve_model_path(self.model_name))
        except (EmbeddingModelError, OSError):
            return None
        if manifest.get("source_fingerprint") != current:
            logger.info("the ONNX export in %s is stale; ignoring it", self._dir)
            return None
        if not model_is_whole(self._dir, manifest):
            logger.warning("the ONNX export in %s is damaged; it is written again", self._dir)
            return None
        try:
            embedder = OnnxQueryEmbedder(self._dir, threads=self._threads)
        except EmbeddingModelError:
            return None
        logger.info("questions are embedded with the ONNX export in %s", self._dir)
        return embedder

    def _export_once(self) -> None:
        """Write the export with the already loaded model (never more than once a process)."""
        if self._exported or self._query_embedder() is not None:
            return
        self._exported = True
        try:
            from rag.encoders.embeddings import resolve_model_path

            export_onnx(
                resolve_model_path(self.model_name),
                self._dir,
                self.model_name,
                model=self._inner.model,
            )
        except EmbeddingModelError as exc:
            logger.warning("no ONNX export for fast queries: %s", exc)
            return
        self._checked = False  # open it on the next query

    def embed_query(self, text: str) -> np.ndarray:
        onnx = self._query_embedder()
        if onnx is not None:
            try:
                return onnx.embed_query(text)
            except EmbeddingModelError as exc:
                self._unusable(exc)
        vector: np.ndarray = self._inner.embed_query(text)
        self._export_once()
        return vector

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        onnx = self._query_embedder()
        if onnx is not None:
            try:
                return onnx.embed_documents(texts)
            except EmbeddingModelError as exc:
                self._unusable(exc)
        return np.asarray(self._inner.embed_documents(texts))

    def _unusable(self, exc: EmbeddingModelError) -> None:
        """An export that passed its checks and still does not load: queries go through
        sentence-transformers from now on, and the export is written again."""
        logger.warning("%s; questions use sentence-transformers and it is written again", exc)
        with self._lock:
            self._onnx, self._checked = None, True

    def embed_passages(
        self, texts: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        result: tuple[np.ndarray, list[np.ndarray]] = self._inner.embed_passages(
            texts, sentence_spans
        )
        self._export_once()
        return result
