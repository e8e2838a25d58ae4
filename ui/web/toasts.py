"""Toasts (``gr.Warning``/``gr.Info``) and error wording for the browser.

Gradio renders a toast's message as (sanitised) HTML, which still lets a form or a
link through, so every message is escaped here: a deep link's statement id or an
uploaded file's organization name shows as text. Hints that name a ``rag`` command
mean nothing in the browser; they are replaced by what to do in the page.
"""

from __future__ import annotations

import gradio as gr

from rag.errors import (
    EmptyStoreError,
    IngestLockedError,
    InvalidFilterError,
    RagError,
    StatementNotFoundError,
)
from ui.web.markup import esc

WEB_HINTS: dict[type[RagError], str] = {
    EmptyStoreError: "add statement files in the Sources tab",
    InvalidFilterError: "the Sources tab lists the ingested statements",
    StatementNotFoundError: "the Sources tab lists the ingested statements",
    IngestLockedError: "it is still adding statements: try again when it has finished",
}


def unknown_statement(statement_id: str) -> str:
    """The web's wording for a statement id that is not in the collection."""
    return (
        f"No statement with the id “{statement_id}” is in this collection "
        "(it may have been removed; the Sources tab lists the ingested statements)."
    )


def for_web(exc: RagError) -> str:
    """The error's one line, with a hint fit for the page instead of a CLI command."""
    if exc.hint and ("`rag " in exc.hint or "--" in exc.hint):
        hint = next((h for kind, h in WEB_HINTS.items() if isinstance(exc, kind)), None)
        return f"{exc.message} ({hint})" if hint else exc.message
    return str(exc)


def warn(message: str) -> None:
    gr.Warning(esc(message))


def info(message: str) -> None:
    gr.Info(esc(message))
