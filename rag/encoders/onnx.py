"""Query embeddings without torch: the sentence-transformers model exported to ONNX.

``rag ask`` spends most of its cold start importing torch and sentence-transformers just to
embed one short question. ``export_onnx`` writes the model's transformer to ONNX once (while
torch is loaded anyway, e.g. during ingest), and ``OnnxQueryEmbedder`` embeds with
onnxruntime + tokenizers: the same tokenizer, the same mean pooling over the attention mask
and the same L2 normalisation as sentence-transformers. This module imports neither torch
nor sentence-transformers nor transformers at import time; only ``export_onnx`` does, inside.

The export folder holds ``model.onnx``, ``tokenizer.json`` and ``manifest.json`` (model name,
a fingerprint of the source model files, max sequence length, dimension), and is written
atomically (temp folder renamed into place), so a reader never sees half an export.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.encoders.onnx_files import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    export_dir,
    model_checksum,
    model_is_whole,
    read_manifest,
    remember_verified,
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


def export_onnx(
    model_path: str, out_dir: Path, model_name: str | None = None, model: Any = None
) -> Path:
    """Export a sentence-transformers model (transformer + tokenizer) to ``out_dir``.

    Args:
        model_path: local folder (or hub name already in the cache) of the model.
        out_dir: the export folder; replaced atomically.
        model_name: the name recorded in the manifest (default ``model_path``), the
            ``Settings.embedding_model`` the export stands for.
        model: an already loaded ``SentenceTransformer`` to reuse (saves a second load).

    Returns:
        The path of ``model.onnx``.

    Raises:
        EmbeddingModelError: the model is not a plain transformer + mean pooling model,
            or the export failed.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    if model is None:
        model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
    _check_mean_pooling(model)
    transformer = model[0].auto_model.eval()
    tokenizer = model.tokenizer
    max_len = int(model.max_seq_length or 256)
    accepts_types = "token_type_ids" in _forward_args(transformer)
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if accepts_types else [])

    class _LastHidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: Any) -> Any:
            return self.inner(**dict(zip(names, inputs, strict=True)), return_dict=True)[
                "last_hidden_state"
            ]

    sample = tokenizer(
        ["a short sample", "another one, a little longer"], padding=True, return_tensors="pt"
    )
    args = tuple(sample[n] if n in sample else torch.zeros_like(sample["input_ids"]) for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-onnx-", dir=out_dir.parent))
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shapes: dynamic axes cover them
            torch.onnx.export(
                _LastHidden(transformer),
                args,
                str(tmp / MODEL_FILE),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                do_constant_folding=True,
                dynamo=False,  # the TorchScript exporter needs neither onnx nor onnxscript
            )
        source_tok = Path(model_path) / TOKENIZER_FILE
        if source_tok.is_file():
            shutil.copyfile(source_tok, tmp / TOKENIZER_FILE)
        else:
            tokenizer.backend_tokenizer.save(str(tmp / TOKENIZER_FILE))
        manifest = {
            "format": FORMAT_VERSION,
            "model_bytes": (tmp / MODEL_FILE).stat().st_size,  # checked by every load
            "model_sha256": model_checksum(tmp / MODEL_FILE),  # once per state of the file
            "model_name": model_name or model_path,
            "source": model_path,
            "source_fingerprint": source_fingerprint(model_path),
            "max_seq_length": max_len,
            "dimension": int(transformer.config.hidden_size),
            "inputs": names,
            "torch": torch.__version__,
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if out_dir.is_dir() and not out_dir.is_symlink():
            shutil.rmtree(out_dir)
        elif out_dir.exists() or out_dir.is_symlink():  # a file in its place: only a cache
            out_dir.unlink()
        tmp.rename(out_dir)
        remember_verified(out_dir)  # just hashed: the next process need not
    except OSError as exc:
        if read_manifest(out_dir) is not None:  # another process won the race: fine
            return out_dir / MODEL_FILE
        raise EmbeddingModelError(f"Cannot write the ONNX export to {out_dir}: {exc}") from exc
    except Exception as exc:
        raise EmbeddingModelError(
            f"ONNX export of {model_path!r} failed: {exc}".splitlines()[0]
        ) from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("exported %s to %s", model_path, out_dir)
    return out_dir / MODEL_FILE


def _forward_args(module: Any) -> list[str]:
    import inspect

    return list(inspect.signature(module.forward).parameters)


def _check_mean_pooling(model: Any) -> None:
    """Only transformer -> mean pooling (-> normalize) models are reproduced exactly."""
    modules = list(model)
    pooling = modules[1] if len(modules) > 1 else None
    mode = getattr(pooling, "pooling_mode", None) or (
        "mean" if getattr(pooling, "pooling_mode_mean_tokens", False) else None
    )
    kinds = [type(m).__name__ for m in modules]
    if (
        len(modules) not in (2, 3)
        or mode not in ("mean", "mean_tokens")
        or (len(modules) == 3 and kinds[2] != "Normalize")
    ):
        raise EmbeddingModelError(
            f"ONNX export supports transformer + mean pooling models only, not {kinds}"
        )


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
