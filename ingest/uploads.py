"""Files handed in through the UI: copied into the data directory under a safe name, then
ingested like any other statement file. No UI imports: the faces call ``ingest_uploads``."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.pipeline import Ingestor
from rag.dates import is_valid_date
from rag.encoders.embeddings import PassageEmbedder
from rag.errors import RagError
from rag.models import StatementMeta
from rag.settings import Settings
from rag.store.chroma import ChromaStore

logger = logging.getLogger(__name__)

UPLOAD_TYPES = tuple(sorted(SUPPORTED_SUFFIXES))  # what ingest reads, from one place
Progress = Callable[[int, int, Path], None]


def upload_name(name: str) -> str:
    """A safe file name for an upload: letters (any script), digits, ``_ . -`` only, no path.

    ``Déclaration.txt`` stays ``Déclaration.txt``: only characters that are not letters or
    digits (spaces, slashes, controls, …) become ``-``."""
    base = Path(unicodedata.normalize("NFC", name).replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    suffix = re.sub(r"[^\w.]+", "", suffix)
    stem = re.sub(r"[^\w.-]+", "-", stem).strip("-.")[:80] or "upload"
    return f"{stem}{suffix}"


def save_upload(folder: Path, source: Path) -> Path:
    """Copy ``source`` into ``folder`` under its safe name and return where it went.

    If a file with other content already has that name (``a b.txt`` after ``a-b.txt``,
    ``x.TXT`` after ``x.txt``, a second ``Заявление.txt``), the name gets a short hash of
    the content: a later upload is a new statement and never replaces an earlier one
    (even another organization's). Identical content keeps the name ("unchanged")."""
    name = upload_name(source.name)
    target = folder / name
    try:
        with source.open("rb") as src, target.open("xb") as dst:  # "x": never overwrite
            shutil.copyfileobj(src, dst)
        return target
    except FileExistsError:
        if _same_content(target, source):
            return target
    hashed = folder / f"{Path(name).stem}-{_digest(source)[:10]}{Path(name).suffix}"
    if not _same_content(hashed, source):  # content-addressed: rewriting it is harmless
        shutil.copyfile(source, hashed)
    return hashed


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _same_content(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_size == b.stat().st_size and _digest(a) == _digest(b)
    except OSError:
        return False


def ingest_uploads(
    settings: Settings,
    store: ChromaStore,
    embedder: PassageEmbedder,
    files: Sequence[str | Path],
    meta: StatementMeta,
    progress: Progress | None = None,
    wait: float = 30.0,
) -> list[tuple[str, str]]:
    """``(status, message)`` per file. Only a sanitised copy of each upload is read."""
    if not files:
        raise RagError("Choose one or more files first")
    if meta.date and not is_valid_date(meta.date):
        raise RagError(f"Not a date: {meta.date!r}", hint="use YYYY, YYYY-MM or YYYY-MM-DD")
    limit = settings.max_upload_mb * 1024 * 1024
    lines: list[tuple[str, str]] = []
    saved: list[Path] = []
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    for item in files:
        source = Path(item)
        name = upload_name(source.name)
        if Path(name).suffix not in UPLOAD_TYPES:
            lines.append(("skipped", f"{name}: only {' '.join(UPLOAD_TYPES)} files"))
        elif source.stat().st_size > limit:
            lines.append(("skipped", f"{name}: larger than {settings.max_upload_mb} MB"))
        else:
            target = save_upload(settings.uploads_dir, source)
            if target not in saved:  # the same file twice in one upload
                saved.append(target)
    if not saved:
        return lines
    ingestor = Ingestor(settings, store, embedder, isolate=True)  # parsed in a worker
    report = ingestor.run(saved, meta, progress=progress, wait=wait)
    logger.info("uploaded: %s", report.summary())
    for o in report.outcomes:
        name = Path(o.path).name
        if o.status == "skipped":
            lines.append(("skipped", f"{name}: {o.reason}"))
        else:
            lines.append((o.status, f"{name} → {o.statement_id} ({o.passages} passages)"))
    return lines
