"""Statements Q&A's core: answers questions about statements with verbatim, cited quotes.

Wings, imports pointing one way (see docs/architecture.md): ``rag.pipeline`` and
``rag.service`` wire the answering ``stages`` over the ``store`` and the ``encoders``;
``llm`` is optional; the modules at this level are shared by all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.lazy import lazy_exports
from rag.moved import install

install()  # the flat module names of before the wings still import, with a warning

_EXPORTS = {
    "Answer": "models",
    "Citation": "models",
    "Filters": "models",
    "Statement": "models",
    "StatementMeta": "models",
    "Settings": "settings",
    "RagError": "errors",
    "Answerer": "pipeline",
    "Services": "service",
    "build_services": "service",
}
__all__ = [
    "Answer",
    "Answerer",
    "Citation",
    "Filters",
    "RagError",
    "Services",
    "Settings",
    "Statement",
    "StatementMeta",
    "build_services",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from rag.errors import RagError
    from rag.models import Answer, Citation, Filters, Statement, StatementMeta
    from rag.pipeline import Answerer
    from rag.service import Services, build_services
    from rag.settings import Settings
