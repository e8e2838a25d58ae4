"""Uploads from the Sources tab: Gradio's progress bar around ``ingest.uploads``.

Several files uploaded at once can each carry their own metadata: in their front matter
(read by ingest), or in a ``statements.json`` uploaded with them (an object keyed by
file name, e.g. ``{"a.txt": {"organization": "…", "date": "2020-01-03"}}``). The sidecar
is checked like the CLI's (``ingest.uploads.merge_sidecar``) and merged into the uploads
folder's own ``statements.json``, which ingest reads; the form's fields, when filled,
still apply to every file.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from ingest import paths as stored_paths
from ingest.metadata import SIDECAR, remove_from_sidecar
from ingest.uploads import UPLOAD_TYPES, ingest_uploads, merge_sidecar
from rag.models import StatementMeta
from rag.service import Services
from rag.settings import Settings
from rag.store.chroma import ChromaStore

__all__ = [
    "UPLOAD_TYPES",
    "discard_unused",
    "ingest_with_progress",
    "merge_sidecar",
    "summary",
    "upload_meta",
]

logger = logging.getLogger(__name__)

_COUNTED = ("new", "updated", "unchanged", "skipped")
LOCK_WAIT = 30.0  # seconds an upload waits for another ingest to finish


def split_sidecar(files: Sequence[str]) -> tuple[list[str], list[str]]:
    """(statement files, uploaded ``statements.json`` sidecars)."""
    sidecars = [f for f in files if Path(f).name.lower() == SIDECAR]
    return [f for f in files if f not in sidecars], sidecars


def upload_meta(
    organization: str | None, author: str | None, date: str | None, title: str | None
) -> StatementMeta:
    """The form's metadata (empty fields: what each file declares)."""
    return StatementMeta(
        organization=(organization or "").strip() or None,
        author=(author or "").strip() or None,
        date=(date or "").strip() or None,
        title=(title or "").strip() or None,
    )


def summary(lines: Sequence[tuple[str, str]]) -> str:
    """The toast after an upload: ``1 new, 1 unchanged, 1 skipped`` (only the counts
    that are not zero), or "" when nothing was counted."""
    counts = Counter(status for status, _ in lines)
    return ", ".join(f"{counts[status]} {status}" for status in _COUNTED if counts[status])


def statement_files(settings: Settings) -> set[Path]:
    """The statement files now in the uploads folder."""
    folder = settings.uploads_dir
    if not folder.is_dir():
        return set()
    return {p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in UPLOAD_TYPES}


def discard_unused(settings: Settings, store: ChromaStore, before: set[Path]) -> list[Path]:
    """Remove the copies this upload added that no statement uses (skipped, failed, or the
    same text as a statement already there), with their metadata in the uploads folder's
    ``statements.json``, so the folder keeps only what is ingested. Returns what was
    removed."""
    added = statement_files(settings) - before
    if not added:
        return []
    used = {
        stored_paths.local_path(s.path, settings.home).resolve()
        for s in store.statements()
        if s.path and not stored_paths.is_web(s.path)
    }
    removed = [p for p in sorted(added) if p.resolve() not in used]
    for path in removed:
        path.unlink(missing_ok=True)
        logger.info("removed the unused upload %s", path.name)
    if removed:
        remove_from_sidecar(settings.uploads_dir, [p.name for p in removed])
    return removed


def ingest_with_progress(
    settings: Settings,
    services: Services,
    files: Sequence[str],
    meta: StatementMeta,
    progress: gr.Progress,
) -> list[tuple[str, str]]:
    """Copy and ingest ``files`` (a ``statements.json`` among them gives per-file
    metadata); ``(status, message)`` per file."""

    def step(done: int, total: int, path: Path) -> None:
        progress((done, total), desc=f"Ingested {path.name}")

    statements, sidecars = split_sidecar(files)
    lines = [merge_sidecar(settings, Path(s)) for s in sidecars]
    if any(status == "error" for status, _ in lines):
        return lines  # nothing ingested with metadata the user did not mean
    progress(0, desc="Ingesting")
    if sidecars and not statements:
        return lines
    before = statement_files(settings)
    try:
        return lines + ingest_uploads(
            settings,
            services.store,
            services.embedder,
            statements,
            meta,
            progress=step,
            wait=LOCK_WAIT,
        )
    finally:
        discard_unused(settings, services.store, before)
