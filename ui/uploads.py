"""Uploads from the Sources tab: Gradio's progress bar around ``ingest.uploads``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from ingest.uploads import UPLOAD_TYPES, ingest_uploads
from rag.models import StatementMeta
from rag.service import Services
from rag.settings import Settings

__all__ = ["UPLOAD_TYPES", "ingest_with_progress", "upload_meta"]


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
    """Copy and ingest ``files``; ``(status, message)`` per file."""

    def step(done: int, total: int, path: Path) -> None:
        progress((done, total), desc=f"Ingested {path.name}")

    progress(0, desc="Ingesting")
    return ingest_uploads(settings, services.store, services.embedder, files, meta, progress=step)
