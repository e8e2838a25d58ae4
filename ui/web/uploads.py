"""Uploads from the Sources tab: Gradio's progress bar around ``ingest.uploads``.

Several files uploaded at once can each carry their own metadata: in their front matter
(read by ingest), or in a ``statements.json`` uploaded with them (an object keyed by
file name, e.g. ``{"a.txt": {"organization": "…", "date": "2020-01-03"}}``). The sidecar
is checked like the CLI's (``ingest.uploads.merge_sidecar``) and merged into the uploads
folder's own ``statements.json``, which ingest reads; the form's fields, when filled,
still apply to every file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from ingest.metadata import SIDECAR
from ingest.uploads import UPLOAD_TYPES, ingest_uploads, merge_sidecar
from rag.models import StatementMeta
from rag.service import Services
from rag.settings import Settings

__all__ = ["ACCEPTED", "UPLOAD_TYPES", "ingest_with_progress", "merge_sidecar", "upload_meta"]

ACCEPTED = (*UPLOAD_TYPES, ".json")  # .json: only a statements.json sidecar


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
    return lines + ingest_uploads(
        settings, services.store, services.embedder, statements, meta, progress=step
    )
