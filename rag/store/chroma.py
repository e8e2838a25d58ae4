"""The Chroma store: statements (clean text + metadata) and their passages (vectors).

Both live in Chroma so that a Chroma server (``RAG_CHROMA_URL``) is all a second app
instance needs. Writes are ordered so that a crash at any point leaves nothing a
question could be answered wrongly from, and the next ingest repairs it:
passages first, then the statement record (the commit marker with the content hash).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import StatementNotFoundError, echo
from rag.models import Statement
from rag.settings import Settings
from rag.store.client import open_embedded, open_server
from rag.store.connection import FAILED_WRITES, StoreConnection
from rag.store.embedded import (
    VERSION_KEY,
    EmbeddedHandle,
    embedded_handle,
    expect,
)
from rag.store.passages import PassageReads
from rag.store.records import (
    DAMAGED,
    StatementWrite,
    StoredPassage,
    damaged,
    fingerprint_of,
    passage_meta,
    statement_record,
    to_statement,
)

__all__ = [
    "VERSION_KEY",
    "ChromaStore",
    "StatementWrite",
    "StoredPassage",
    "fingerprint_of",
    "make_client",
]

logger = logging.getLogger(__name__)

# A dead server fails at once (connection refused); these bound a hung one, so a stuck
# server cannot hold the UI's workers forever. Chroma's own HTTP client has no timeout.
SERVER_CONNECT_TIMEOUT = 10.0
SERVER_READ_TIMEOUT = 120.0


def make_client(settings: Settings) -> Any:
    """An embedded PersistentClient, or an HttpClient when ``chroma_url`` is set."""
    if settings.chroma_url:
        return open_server(settings.chroma_url, SERVER_READ_TIMEOUT, SERVER_CONNECT_TIMEOUT)
    return open_embedded(settings.home, settings.chroma_path)


class ChromaStore(PassageReads):
    """Statements and passages in two Chroma collections (through ``StoreConnection``).

    An embedded store follows writes made by other processes: see ``rag.store.embedded``
    (its client is reopened when the version token moved, and once after a failed read).
    """

    def __init__(
        self,
        client: Any,
        prefix: str = "statements_qa",
        url: str | None = None,
        path: str | None = None,
        embedded: EmbeddedHandle | None = None,
    ):
        self._conn = StoreConnection(client, prefix, url, path, embedded)

    @classmethod
    def from_settings(cls, settings: Settings) -> ChromaStore:
        client = make_client(settings)
        if settings.chroma_url:
            return cls(client, settings.collection_prefix, settings.chroma_url)
        path = str(settings.chroma_path)
        store = cls(client, settings.collection_prefix, None, path, embedded_handle(Path(path)))
        if path not in FAILED_WRITES:
            store.version()  # the token its caches start from: later moves mean a reopen
        return store

    @classmethod
    def embedded_at(cls, path: Path, prefix: str) -> ChromaStore:
        """The embedded store in the folder ``path`` (made if missing): ``rag repair``
        builds a replacement beside the data directory's."""
        path.mkdir(parents=True, exist_ok=True)
        handle = embedded_handle(path)
        return cls(handle.client, prefix, None, str(path), handle)

    # -- the connection ------------------------------------------------------------

    def _op(self, kind: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``method`` on the ``kind`` collection, with retries and one clear error."""
        return self._conn.op(kind, method, *args, **kwargs)

    @property
    def client(self) -> Any:
        """The Chroma client in use (an embedded one may have been reopened)."""
        return self._conn.client

    @property
    def reopened(self) -> int:
        """How often this process reopened the embedded store (0 for a server)."""
        return self._conn.reopened

    @property
    def passages_collection(self) -> Any:
        return self._conn.passages_collection

    @property
    def statements_collection(self) -> Any:
        return self._conn.statements_collection

    @property
    def max_batch(self) -> int:
        return self._conn.max_batch

    # -- statements --------------------------------------------------------------

    def statements(self) -> list[Statement]:
        """Every statement's metadata (no text), sorted by id."""
        got = self._op("statements", "get", include=["metadatas"])
        items = []
        for sid, meta in zip(got["ids"], got["metadatas"]):
            try:
                items.append(to_statement(sid, meta or {}))
            except DAMAGED as exc:  # left out, not a raw error on every command
                logger.warning("%s", damaged("statement", sid, exc))
        return sorted(items, key=lambda s: s.statement_id)

    def statement(self, statement_id: str) -> Statement:
        """One statement with its clean text."""
        got = self._op("statements", "get", ids=[statement_id], include=["metadatas", "documents"])
        if not got["ids"]:
            raise StatementNotFoundError(
                f"No statement {echo(statement_id)}", hint="`rag sources` lists the ingested ones"
            )
        return to_statement(got["ids"][0], got["metadatas"][0] or {}, got["documents"][0])

    def statement_texts(self, statement_ids: Sequence[str]) -> dict[str, str]:
        """Clean texts of several statements in one read (unknown ids are left out)."""
        if not statement_ids:
            return {}
        got = self._op("statements", "get", ids=list(statement_ids), include=["documents"])
        return {sid: doc or "" for sid, doc in zip(got["ids"], got["documents"])}

    def fingerprint(self) -> str:
        """Changes whenever any statement is added, changed or removed."""
        return fingerprint_of(self.statements())

    def version(self) -> str | None:
        """A token that changes whenever statements are written or removed (by any process
        sharing this store): one small read, where ``fingerprint`` lists every statement.
        None for a store written before the token existed."""
        return self._conn.version()

    def touch(self) -> None:
        """Change ``version``: called after every write, and at the end of every ingest
        (so a run that follows an interrupted one re-announces what that one wrote)."""
        version = uuid.uuid4().hex
        if self._conn.embedded is not None:
            self.version()  # catch up with other writers before claiming the token
            expect(self._conn.embedded, self._conn.prefix, version)
        self._op("statements", "modify", metadata={VERSION_KEY: version})

    def write_statements(self, items: Sequence[StatementWrite]) -> None:
        """Insert or replace statements, in a few Chroma calls for all of them: their new
        passages first, then stale passages go, then the statement records (which carry the
        content hashes) last. Interrupted anywhere, this leaves at most passages without a
        record, which are never answered from and which the next ingest sweeps."""
        if not items:
            return
        if any(item.statement.text is None for item in items):
            raise ValueError("write_statements needs each statement's clean text")
        sids = [item.statement.statement_id for item in items]
        where = {"statement_id": sids[0]} if len(sids) == 1 else {"statement_id": {"$in": sids}}
        old_ids = set(self._op("passages", "get", where=where, include=[])["ids"])
        rows = [
            (p, item.passage_vectors[j], item.sentence_vectors[j])
            for item in items
            for j, p in enumerate(item.passages)
        ]
        batch = self.max_batch
        for i in range(0, len(rows), batch):
            chunk = rows[i : i + batch]
            self._op(
                "passages",
                "upsert",
                ids=[p.passage_id for p, _, _ in chunk],
                embeddings=np.stack([v for _, v, _ in chunk]),
                documents=[p.text for p, _, _ in chunk],
                metadatas=[passage_meta(p, svec) for p, _, svec in chunk],
            )
        self._delete_passages(sorted(old_ids - {p.passage_id for p, _, _ in rows}))
        records = [statement_record(item) for item in items]
        for i in range(0, len(records), batch):
            chunk_records = records[i : i + batch]
            self._op(
                "statements",
                "upsert",
                ids=[r[0] for r in chunk_records],
                embeddings=np.stack([r[1] for r in chunk_records]),
                documents=[r[2] for r in chunk_records],
                metadatas=[r[3] for r in chunk_records],
            )
        self.touch()

    def delete_statement(self, statement_id: str) -> None:
        """Remove a statement: its record first (so it stops being answerable), then passages."""
        self.delete_statements([statement_id])

    def delete_statements(self, statement_ids: Sequence[str]) -> None:
        """Remove several statements in a few calls: their records first (so they stop
        being answerable), then their passages. Unknown ids are ignored."""
        sids = list(dict.fromkeys(statement_ids))
        if not sids:
            return
        self._op("statements", "delete", ids=sids)
        self.touch()
        where = {"statement_id": sids[0]} if len(sids) == 1 else {"statement_id": {"$in": sids}}
        self._delete_passages(self._op("passages", "get", where=where, include=[])["ids"])

    def update_statement(self, statement_id: str, fields: dict[str, Any]) -> None:
        """Change some metadata of a statement's record (its path, say); nothing else."""
        self._op("statements", "update", ids=[statement_id], metadatas=[fields])

    def partial_statements(self, statements: dict[str, Statement]) -> list[str]:
        """Ids of ``statements`` whose records count more passages than the store holds
        (rows lost from the database). One count; the ids are listed only when it is short
        (a passage id starts with its statement's id)."""
        expected = sum(s.passages for s in statements.values())
        if self.count_passages() >= expected:
            return []
        held = Counter(
            pid.rpartition(":")[0] for pid in self._op("passages", "get", include=[])["ids"]
        )
        return sorted(sid for sid, s in statements.items() if held[sid] < s.passages)

    def _delete_passages(self, ids: Sequence[str]) -> None:
        batch = self.max_batch
        for i in range(0, len(ids), batch):
            self._op("passages", "delete", ids=list(ids[i : i + batch]))

    def delete_orphans(self, known: Collection[str] | None = None) -> int:
        """Drop passages whose statement record is missing (left by an interrupted run).

        ``known``: the ids of the statement records, when the caller has just listed them.
        One id-only read finds the orphans; no passage metadata is transferred."""
        if known is None:
            known = [s.statement_id for s in self.statements()]
        where = {"statement_id": {"$nin": sorted(known)}} if known else None
        orphans = self._op("passages", "get", where=where, include=[])["ids"]
        self._delete_passages(orphans)
        return len(orphans)
