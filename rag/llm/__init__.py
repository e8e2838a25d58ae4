"""Optional answers written by a chat model (LangChain), whose every quote is checked
against the statement like an extractive one; langchain is imported only when asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.lazy import lazy_exports

_EXPORTS = {"LLMAnswerer": "answerer"}
__all__ = [
    "LLMAnswerer",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from rag.llm.answerer import LLMAnswerer
