"""The ``rag`` command: a thin face over ``rag/`` and ``ingest/``.

Every command builds one ``Settings`` (env ``RAG_*``), calls library functions, and
translates ``RagError`` into one line on stderr with a non-zero exit. Each module holds
a few commands and imports what they need only when they run (``rag ask`` stays quick).
"""

from __future__ import annotations

from ui.cli import questions, repair, serve, statements
from ui.cli.app import (
    EXIT_ERROR,
    EXIT_SKIPPED,
    READS_ONLY,
    app,
    config_error,
    exit_now,
    quiet_libraries,
)

__all__ = [
    "EXIT_ERROR",
    "EXIT_SKIPPED",
    "app",
    "config_error",
    "main",
    "questions",
    "quiet_libraries",
    "repair",
    "serve",
    "statements",
]


def main() -> None:
    """The console script. A command that only reads (``ask``, ``sources``, ``show``) ends
    its process as soon as its output is flushed (``exit_now``); any other command, and
    ``app`` as the tests call it, ends as usual."""
    try:
        app()
    except SystemExit as exc:
        if not READS_ONLY.is_set():
            raise
        exit_now(exc.code)
    if READS_ONLY.is_set():
        exit_now(0)
