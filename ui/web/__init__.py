"""The Gradio face: the chat page, its API routes (``/ask``, ``/chat``) and the Sources
tab, over the same ``rag`` core as the CLI; ``app.launch`` serves it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.lazy import lazy_exports

_EXPORTS = {"build_app": "app", "launch": "app", "prepare": "app", "serve": "app"}
__all__ = [
    "build_app",
    "launch",
    "prepare",
    "serve",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ui.web.app import build_app, launch, prepare, serve
