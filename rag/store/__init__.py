"""The store: statements and passages in Chroma (embedded or a server), and what is read
from it for answering — the catalog of statements, the keyword index, the clean texts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.lazy import lazy_exports

_EXPORTS = {
    "ChromaStore": "chroma",
    "make_client": "chroma",
    "StoredPassage": "records",
    "StatementWrite": "records",
    "fingerprint_of": "records",
    "Catalog": "catalog",
    "Snapshot": "catalog",
    "KeywordIndex": "keyword",
    "StatementTexts": "texts",
}
__all__ = [
    "Catalog",
    "ChromaStore",
    "KeywordIndex",
    "Snapshot",
    "StatementTexts",
    "StatementWrite",
    "StoredPassage",
    "fingerprint_of",
    "make_client",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from rag.store.catalog import Catalog, Snapshot
    from rag.store.chroma import ChromaStore, make_client
    from rag.store.keyword import KeywordIndex
    from rag.store.records import StatementWrite, StoredPassage, fingerprint_of
    from rag.store.texts import StatementTexts
