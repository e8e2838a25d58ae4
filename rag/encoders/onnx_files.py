"""The ONNX export's folder: where it is, what its manifest says, and whether its model
file is still the one written.

``model.onnx`` is checksummed when it is written (size and sha256 in the manifest). A
damaged one (truncated, overwritten, one flipped byte) used to fail every question with
onnxruntime's raw ``InvalidProtobuf``, or to embed silently wrong vectors, and nothing
wrote it again; now it is not used (questions go through sentence-transformers, which
then writes the export again). Hashing 90 MB costs 0.1-0.25 s, too much for every ``rag
ask``: the size and modification time of a file found whole are kept in ``verified.json``
beside it, and a process that finds them unchanged only compares sizes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: the model file's size and sha256 in the manifest
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
VERIFIED_FILE = "verified.json"
_FINGERPRINT_FILES = ("config.json", "tokenizer.json", "sentence_bert_config.json", "modules.json")
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


def export_dir(home: Path, model_name: str) -> Path:
    """Where the export of ``model_name`` lives under a data directory."""
    return home / "onnx" / hashlib.sha256(model_name.encode()).hexdigest()[:16]


def source_fingerprint(model_path: str) -> str:
    """Changes when the model files on disk change (config contents, weight sizes)."""
    root = Path(model_path)
    if not root.is_dir():  # a hub name: the export is keyed by name alone
        return "name:" + model_path
    digest = hashlib.sha256()
    for name in _FINGERPRINT_FILES:
        path = root / name
        if path.is_file():
            digest.update(name.encode() + b"\x00" + path.read_bytes() + b"\x01")
    for path in sorted(root.iterdir()):
        if path.suffix in _WEIGHT_SUFFIXES:
            digest.update(f"{path.name}\x00{path.stat().st_size}\x01".encode())
    return digest.hexdigest()[:20]


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The export's manifest, or None when there is no complete export (or its model file
    is not the size written)."""
    try:
        manifest = json.loads((out_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        size = (out_dir / MODEL_FILE).stat().st_size
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        return None
    if size != manifest.get("model_bytes") or not (out_dir / TOKENIZER_FILE).is_file():
        return None
    return dict(manifest)


def model_checksum(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _state(path: Path) -> list[int]:
    info = os.stat(path)
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def remember_verified(out_dir: Path) -> None:
    """Note that ``model.onnx`` is whole as it is now (after writing or hashing it)."""
    try:
        state = _state(out_dir / MODEL_FILE)
        temporary = out_dir / f".{VERIFIED_FILE}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(state), encoding="utf-8")
        temporary.replace(out_dir / VERIFIED_FILE)
    except OSError:  # a read-only data directory: hashed again next time
        logger.debug("cannot note the ONNX export as verified", exc_info=True)


def model_is_whole(out_dir: Path, manifest: dict[str, Any]) -> bool:
    """Whether ``model.onnx`` is the file the manifest was written for: by its noted
    state when unchanged since it was last found whole, else by its sha256."""
    path = out_dir / MODEL_FILE
    try:
        noted = json.loads((out_dir / VERIFIED_FILE).read_text(encoding="utf-8"))
        if noted == _state(path):
            return True
    except (OSError, ValueError):
        pass
    try:
        whole = model_checksum(path) == manifest.get("model_sha256")
    except OSError:
        return False
    if whole:
        remember_verified(out_dir)
    return whole
