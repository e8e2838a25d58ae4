"""Files handed in through the UI: copied into the data directory under a safe name, then
ingested like any other statement file. No UI imports: the faces call ``ingest_uploads``."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.pipeline import Ingestor
from rag.dates import is_valid_date
from rag.embeddings import PassageEmbedder
from rag.errors import RagError
from rag.models import StatementMeta
from rag.settings import Settings
from rag.store import ChromaStore

logger = logging.getLogger(__name__)

UPLOAD_TYPES = (".txt", ".md", ".html", ".pdf")
Progress = Callable[[int, int, Path], None]


def upload_name(name: str) -> str:
    """A safe file name for an upload: letters, digits, ``_ . -`` only, no path."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.")[:80] or "upload"
    return f"{stem}{suffix}"


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
            target = settings.uploads_dir / name
            shutil.copyfile(source, target)
            saved.append(target)
    if not saved:
        return lines
    ingestor = Ingestor(settings, store, embedder)
    report = ingestor.run(saved, meta, progress=progress, wait=wait)
    logger.info("uploaded: %s", report.summary())
    for o in report.outcomes:
        name = Path(o.path).name
        if o.status == "skipped":
            lines.append(("skipped", f"{name}: {o.reason}"))
        else:
            lines.append((o.status, f"{name} → {o.statement_id} ({o.passages} passages)"))
    return lines
