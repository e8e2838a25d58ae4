"""Deprecation shims: modules of the flat ``rag/`` of before the wings still import.

``import rag.catalog`` gives a module with the names of ``rag.store.catalog`` and a
``DeprecationWarning`` naming the new place. Nothing in the project imports the old names.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType

MOVED = {
    "rag.plan": "rag.stages.plan",
    "rag.conversation": "rag.stages.conversation",
    "rag.speakers": "rag.stages.speakers",
    "rag.rewrite": "rag.stages.rewrite",
    "rag.retrieve": "rag.stages.retrieve",
    "rag.score": "rag.stages.score",
    "rag.rerank": "rag.stages.rerank",
    "rag.select": "rag.stages.select",
    "rag.verify": "rag.stages.verify",
    "rag.compose": "rag.stages.compose",
    "rag.render": "rag.stages.render",
    "rag.context": "rag.stages.context",
    "rag.store_embedded": "rag.store.embedded",
    "rag.store_client": "rag.store.client",
    "rag.store_passages": "rag.store.passages",
    "rag.store_records": "rag.store.records",
    "rag.store_check": "rag.store.check",
    "rag.store_failures": "rag.store.failures",
    "rag.catalog": "rag.store.catalog",
    "rag.keyword": "rag.store.keyword",
    "rag.texts": "rag.store.texts",
    "rag.embeddings": "rag.encoders.embeddings",
    "rag.onnx_embedder": "rag.encoders.onnx",
    "rag.llm_quotes": "rag.llm.quotes",
    "rag.prompt": "rag.llm.prompt",
    "rag.answer": "rag.pipeline",
}


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def exec_module(self, module: ModuleType) -> None:
        new = MOVED[module.__name__]
        warnings.warn(f"{module.__name__} has moved to {new}", DeprecationWarning, stacklevel=2)
        target = importlib.import_module(new)
        public = {k: v for k, v in vars(target).items() if not k.startswith("__")}
        module.__dict__.update(public)


def install() -> None:
    """Put the shim finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
