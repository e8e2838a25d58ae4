"""Statements' clean texts and vocabularies, read from the store once and remembered."""

from __future__ import annotations

from collections.abc import Iterable

from rag.cache import LRUCache
from rag.models import Statement
from rag.sentences import content_terms
from rag.store.catalog import Snapshot
from rag.store.chroma import ChromaStore

TEXT_CACHE_SIZE = 512  # statements' clean texts kept in memory


class StatementTexts:
    """Clean texts (for scoring and verifying quotes) and content terms of statements."""

    def __init__(self, store: ChromaStore, size: int = TEXT_CACHE_SIZE) -> None:
        self.store = store
        self._texts: LRUCache[tuple[str, str], str] = LRUCache(size)
        self._terms: LRUCache[tuple[str, str], set[str]] = LRUCache(size)

    def load(self, snap: Snapshot, texts: dict[str, str], ids: Iterable[str]) -> None:
        """Put the clean texts of ``ids`` (statements of ``snap``) into ``texts``: from the
        cache, or one batch read."""
        keys = {}
        for sid in ids:
            statement = snap.statements.get(sid)
            if sid not in texts and statement is not None:
                keys[(sid, statement.content_hash)] = sid

        def fetch(missing: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
            fetched = self.store.statement_texts([sid for sid, _ in missing])
            wanted = set(missing)
            return {
                key: text
                for sid, text in fetched.items()
                if (key := (sid, snap.statements[sid].content_hash)) in wanted
            }

        for (sid, _), text in self._texts.get_many(snap.fingerprint, keys, fetch).items():
            texts[sid] = text

    def terms(self, snap: Snapshot, statement: Statement, text: str) -> set[str]:
        """The content terms of a statement's text and its who/what metadata."""
        key = (statement.statement_id, statement.content_hash)
        terms = self._terms.get(snap.fingerprint, key)
        if terms is None:
            meta = " ".join(
                filter(None, (statement.organization, statement.author, statement.title))
            )
            terms = set(content_terms(f"{text} {meta}"))
            self._terms.put(snap.fingerprint, {key: terms})
        return terms
