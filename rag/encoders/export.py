"""The ONNX export of the sentence-transformers model: written once, while torch is loaded
anyway (an ingest), and read by ``rag.encoders.onnx`` to embed questions without torch.

The export folder holds ``model.onnx`` (the graph), ``model.onnx.data`` (its weights, kept
apart: onnxruntime then takes them as they lie instead of parsing 90 MB out of the graph's
protobuf, half of the session's load in every ``rag ask``), ``tokenizer.json`` and
``manifest.json`` (model name, a fingerprint of the source model files, max sequence length,
dimension, and the size and sha256 of both model files: ``rag.encoders.onnx_files``). The
folder is written atomically (temp folder renamed into place), so a reader never sees half
an export. This module imports torch (and onnx) only
inside ``export_onnx``.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from rag.encoders.onnx_files import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
    file_record,
    read_manifest,
    remember_verified,
    source_fingerprint,
)
from rag.errors import EmbeddingModelError

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
        keep_weights_apart(tmp / MODEL_FILE)
        source_tok = Path(model_path) / TOKENIZER_FILE
        if source_tok.is_file():
            shutil.copyfile(source_tok, tmp / TOKENIZER_FILE)
        else:
            tokenizer.backend_tokenizer.save(str(tmp / TOKENIZER_FILE))
        manifest = {
            "format": FORMAT_VERSION,
            "model": file_record(tmp / MODEL_FILE),  # size checked by every load,
            "weights": WEIGHTS_FILE,  # sha256 once per state of the files
            "weights_file": file_record(tmp / WEIGHTS_FILE),
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
        remember_verified(out_dir, manifest)  # just hashed: the next process need not
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


def keep_weights_apart(model_file: Path) -> None:
    """Rewrite ``model_file`` with its weights in ``WEIGHTS_FILE`` beside it: the same graph
    and the same tensors, byte for byte, so the same vectors."""
    import onnx

    model = onnx.load(str(model_file))
    onnx.save_model(
        model,
        str(model_file),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=WEIGHTS_FILE,
        size_threshold=1024,
    )


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
