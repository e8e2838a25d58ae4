"""Web pages added from the Sources tab (or its ``/ingest_urls`` API): Gradio's progress
around ``ingest.urls.ingest_urls``, the same path as ``rag ingest URL``."""

from __future__ import annotations

import gradio as gr

from ingest.urls import ingest_urls
from rag.models import StatementMeta
from rag.service import Services
from rag.settings import Settings


def fetch_with_progress(
    settings: Settings, services: Services, text: str, meta: StatementMeta, progress: gr.Progress
) -> list[tuple[str, str]]:
    """Fetch and ingest the URLs in ``text`` (one per line); ``(status, message)`` per URL,
    and a progress line per URL as it is fetched."""
    progress(0, desc="Fetching")
    return ingest_urls(
        settings,
        services.store,
        services.embedder,
        text,
        meta,
        report=lambda line: progress(None, desc=line[:120]),
    )
