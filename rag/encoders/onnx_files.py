"""The ONNX export's folder: where it is, what its manifest says, and whether its files are
still the ones written.

The folder holds ``model.onnx`` (the graph), ``model.onnx.data`` (its weights, kept apart:
onnxruntime takes them as they lie instead of parsing 90 MB out of the graph's protobuf),
``tokenizer.json`` and ``manifest.json``. Both model files are checksummed when written
(size and sha256 in the manifest). A damaged one (truncated, overwritten, one flipped byte)
used to fail every question with onnxruntime's raw ``InvalidProtobuf``, or to embed silently
wrong vectors; now it is not used (questions go through sentence-transformers, which then
writes the export again). Hashing 90 MB costs 0.1-0.25 s, too much for every ``rag ask``:
the size, modification time and inode of files found whole are kept in ``verified.json``
beside them, and a process that finds them unchanged only compares those.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# 2: the model file's size and sha256 in the manifest; 3: the weights in their own file,
# checksummed too (an export of another format is written again once)
FORMAT_VERSION = 3
MODEL_FILE = "model.onnx"
WEIGHTS_FILE = "model.onnx.data"
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


def checked_files(manifest: dict[str, Any]) -> dict[str, str]:
    """The checksummed files of an export: file name -> the manifest key of its sizes."""
    files = {MODEL_FILE: "model"}
    if manifest.get("weights"):  # the weights' file name; its record is "weights_file"
        files[str(manifest["weights"])] = "weights_file"
    return files


def file_record(path: Path) -> dict[str, Any]:
    """What the manifest records of a file it checks: its size and sha256."""
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"bytes": path.stat().st_size, "sha256": digest}


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The export's manifest, or None when there is no complete export (or a model file is
    not the size written)."""
    try:
        manifest = json.loads((out_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
            return None
        for name, key in checked_files(manifest).items():
            if (out_dir / name).stat().st_size != manifest.get(key, {}).get("bytes"):
                return None
    except (OSError, ValueError, AttributeError):
        return None
    if not (out_dir / TOKENIZER_FILE).is_file():
        return None
    return dict(manifest)


def _state(out_dir: Path, names: list[str]) -> list[list[int]]:
    states = []
    for name in names:
        info = os.stat(out_dir / name)
        states.append([info.st_size, info.st_mtime_ns, info.st_ino])
    return states


def remember_verified(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Note that the model files are whole as they are now (after writing or hashing them)."""
    try:
        state = _state(out_dir, sorted(checked_files(manifest)))
        temporary = out_dir / f".{VERIFIED_FILE}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(state), encoding="utf-8")
        temporary.replace(out_dir / VERIFIED_FILE)
    except OSError:  # a read-only data directory: hashed again next time
        logger.debug("cannot note the ONNX export as verified", exc_info=True)


def model_is_whole(out_dir: Path, manifest: dict[str, Any]) -> bool:
    """Whether the model files are the ones the manifest was written for: by their noted
    state when unchanged since they were last found whole, else by their sha256."""
    names = sorted(checked_files(manifest))
    try:
        noted = json.loads((out_dir / VERIFIED_FILE).read_text(encoding="utf-8"))
        if noted == _state(out_dir, names):
            return True
    except (OSError, ValueError):
        pass
    try:
        whole = all(
            file_record(out_dir / name)["sha256"] == manifest.get(key, {}).get("sha256")
            for name, key in checked_files(manifest).items()
        )
    except (OSError, AttributeError):
        return False
    if whole:
        remember_verified(out_dir, manifest)
    return whole
