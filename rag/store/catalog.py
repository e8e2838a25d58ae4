"""What is in the store right now: the statements, the keyword index, the vocabulary.

Held in memory and refreshed when the store changes: at most every ``ttl`` seconds the
store's version token is read (one small read; every write changes it), and only when it
moved are the statements listed again and their fingerprint compared (at once after an
in-process ingest calls ``invalidate``). Several app instances sharing one Chroma server
each notice the others' ingests this way.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.dates import date_range, overlaps
from rag.errors import EmptyStoreError, InvalidFilterError, echo, shorten, shorten_list
from rag.models import Filters, Statement
from rag.sentences import content_terms
from rag.store.chroma import ChromaStore, fingerprint_of
from rag.store.keyword import KeywordIndex, clear_in_the_way

logger = logging.getLogger(__name__)


@dataclass
class Snapshot:
    fingerprint: str
    statements: dict[str, Statement]
    keywords: KeywordIndex
    vocabulary: set[str] = field(default_factory=set)
    version: str | None = None  # the store's version token when this was listed

    def known_term(self, term: str) -> bool:
        return term in self.keywords.doc_freq or term in self.vocabulary


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[:1].isalpha()).lower()


def org_matches(organization: str | None, wanted: str) -> bool:
    """Case-insensitive match on the full name, a prefix of it, or its initials (SWP)."""
    if not organization:
        return False
    org, want = organization.lower(), wanted.strip().lower()
    return org == want or org.startswith(want) or _initials(organization) == want


def author_matches(author: str | None, wanted: str) -> bool:
    """Case-insensitive match on the full name, its surname, or a prefix of the name."""
    if not author:
        return False
    name, want = author.lower(), " ".join(wanted.split()).lower()
    return name == want or name.startswith(want) or name.split()[-1] == want


def _narrow(
    chosen: list[Statement],
    snap: Snapshot,
    key: str,
    wanted: str,
    matches: Callable[[str | None, str], bool],
) -> list[Statement]:
    """The ``chosen`` statements whose ``key`` (organization, author) matches ``wanted``;
    a clear error naming the known values when no statement in the store has it."""
    known = sorted({v for s in snap.statements.values() if (v := getattr(s, key))})
    if not any(matches(v, wanted) for v in known):
        raise InvalidFilterError(
            f"Unknown {key}: {echo(wanted)}",
            hint=f"known: {shorten_list(known, 10, '; ')}" if known else "no statement has one",
        )
    return [s for s in chosen if matches(getattr(s, key), wanted)]


class Catalog:
    """Current statements and keyword index, rebuilt only when the store changes."""

    def __init__(self, store: ChromaStore, keyword_dir: Path, ttl: float = 5.0) -> None:
        self._store = store
        self._dir = keyword_dir
        self._ttl = ttl
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._checked = 0.0
        if self._snapshot is not None:
            self._snapshot.version = None  # list again, whatever the token says

    def snapshot(self) -> Snapshot:
        with self._lock:
            now = time.monotonic()
            if self._snapshot is not None and now - self._checked < self._ttl:
                return self._snapshot
            version = self._store.version()  # read before listing: a write after it moves it
            if (
                self._snapshot is not None
                and version is not None
                and version == self._snapshot.version
            ):
                self._checked = now
                return self._snapshot
            listed = self._store.statements()
            statements = {s.statement_id: s for s in listed}
            fingerprint = fingerprint_of(listed)  # of this very list: one round trip
            if self._snapshot is None or self._snapshot.fingerprint != fingerprint:
                self._snapshot = self._load(fingerprint, statements)
            else:
                self._snapshot.statements = statements
            self._snapshot.version = version
            self._checked = now
            return self._snapshot

    def _load(self, fingerprint: str, statements: dict[str, Statement]) -> Snapshot:
        clear_in_the_way(self._dir)
        folder = self._dir / fingerprint
        passages = sum(s.passages for s in statements.values())
        keywords = None
        if folder.exists():
            try:
                keywords = KeywordIndex.load(folder, fingerprint, passages)
            except Exception as exc:  # a damaged cache is rebuilt, never trusted
                logger.warning("keyword index at %s is damaged (%s); rebuilding", folder, exc)
        if keywords is None:
            started = time.perf_counter()
            keywords = KeywordIndex.build(self._store.iter_passages())
            if keywords.size == passages:  # else a write is under way: do not keep it
                try:
                    keywords.save(folder, fingerprint)
                except OSError as exc:
                    logger.warning("could not save the keyword index: %s", exc)
            logger.info(
                "keyword index: %d passages in %.2fs", keywords.size, time.perf_counter() - started
            )
            self._remove_stale(keep=folder)
        vocabulary: set[str] = set()
        for s in statements.values():
            for value in (s.organization, s.author, s.title, s.date):
                if value:
                    vocabulary.update(content_terms(value))
        return Snapshot(fingerprint, statements, keywords, vocabulary)

    def _remove_stale(self, keep: Path) -> None:
        try:
            children = list(self._dir.iterdir())
        except OSError:  # not there, or not a folder: nothing stale to remove
            return
        for child in children:
            if child != keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)

    def scope(self, filters: Filters) -> list[Statement]:
        """The statements a question may be answered from; a clear error for bad filters."""
        snap = self.snapshot()
        if not snap.statements:
            raise EmptyStoreError(
                "No statements have been ingested yet", hint="run `rag ingest` first"
            )
        chosen = list(snap.statements.values())
        if filters.statement_ids:
            unknown = [i for i in filters.statement_ids if i not in snap.statements]
            if unknown:
                raise InvalidFilterError(
                    f"Unknown statement id: {shorten_list(unknown)}",
                    hint="`rag sources` lists the ingested statements",
                )
            chosen = [snap.statements[i] for i in dict.fromkeys(filters.statement_ids)]
        if filters.organization:
            chosen = _narrow(chosen, snap, "organization", filters.organization, org_matches)
        if filters.author:
            chosen = _narrow(chosen, snap, "author", filters.author, author_matches)
        if filters.since or filters.until:
            for value in (filters.since, filters.until):
                if value:
                    date_range(value)  # raises InvalidFilterError when malformed
            chosen = [s for s in chosen if overlaps(s.date, filters.since, filters.until)]
        if not chosen:
            raise InvalidFilterError("No statement matches these filters", hint=describe(filters))
        return chosen


def describe(filters: Filters) -> str:
    parts = []
    if filters.statement_ids:
        parts.append("statement " + shorten_list(filters.statement_ids))
    if filters.organization:
        parts.append(f"organization {shorten(filters.organization)}")
    if filters.author:
        parts.append(f"author {shorten(filters.author)}")
    if filters.since:
        parts.append(f"since {shorten(filters.since)}")
    if filters.until:
        parts.append(f"until {shorten(filters.until)}")
    return "; ".join(parts)
