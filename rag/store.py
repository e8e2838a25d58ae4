"""The Chroma store: statements (clean text + metadata) and their passages (vectors).

Both live in Chroma so that a Chroma server (``RAG_CHROMA_URL``) is all a second app
instance needs. Writes are ordered so that a crash at any point leaves nothing a
question could be answered wrongly from, and the next ingest repairs it:
passages first, then the statement record (the commit marker with the content hash).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlparse

import numpy as np

from rag.dates import date_range, is_valid_date
from rag.embeddings import decode_int8, encode_int8
from rag.errors import StatementNotFoundError, StoreUnavailableError
from rag.models import Passage, Statement
from rag.settings import Settings

logger = logging.getLogger(__name__)

_STATEMENT_FIELDS = ("organization", "author", "date", "title", "source", "path")
# A dead server fails at once (connection refused); these bound a hung one, so a stuck
# server cannot hold the UI's workers forever. Chroma's own HTTP client has no timeout.
SERVER_CONNECT_TIMEOUT = 10.0
SERVER_READ_TIMEOUT = 120.0
RETRY_PAUSE = 0.25
OPEN_BUSY_SECONDS = 10.0  # how long opening waits while SQLite is busy elsewhere
_WRITES = frozenset({"add", "upsert", "update", "delete", "modify"})
VERSION_KEY = "rag_version"  # statements collection metadata: changes on every write
# Embedded stores whose write failed in this process (path -> reason); see ChromaStore._op.
_FAILED_WRITES: dict[str, str] = {}


@dataclass(frozen=True)
class StoredPassage:
    """A passage with what quote selection needs: its sentence vectors."""

    passage: Passage
    sentence_vectors: np.ndarray  # (len(passage.sentences), dim), unit rows


def make_client(settings: Settings) -> Any:
    """An embedded PersistentClient, or an HttpClient when ``chroma_url`` is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            port = url.port
        except ValueError:
            port = None
            url = url._replace(netloc="")
        if not url.hostname or url.scheme not in ("http", "https"):
            raise StoreUnavailableError(
                f"Not a Chroma server URL: {settings.chroma_url!r}",
                hint="e.g. RAG_CHROMA_URL=http://127.0.0.1:8000",
            )
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            _bound_http_timeouts(client)
            client.heartbeat()
        except Exception as exc:
            raise StoreUnavailableError(
                f"Cannot reach the Chroma server at {settings.chroma_url}",
                hint="start it with `chroma run --path DIR --port PORT` or unset RAG_CHROMA_URL",
            ) from exc
        return client
    try:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailableError(
            f"Cannot use the data directory {settings.home}: {exc.strerror or exc}",
            hint="set RAG_HOME to a writable folder",
        ) from exc
    deadline = time.monotonic() + OPEN_BUSY_SECONDS
    while True:
        try:
            return chromadb.PersistentClient(
                path=str(settings.chroma_path), settings=chroma_settings
            )
        except Exception as exc:  # a damaged or foreign sqlite file, a newer Chroma's data, ...
            _forget_system(str(settings.chroma_path))
            if "database is locked" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.2)  # another process is creating or migrating the same store
                continue
            raise StoreUnavailableError(
                f"Cannot open the Chroma store at {settings.chroma_path}: {_one_line(exc)}",
                hint="if it is damaged, move that folder away and run `rag ingest` to rebuild it",
            ) from exc


def _forget_system(path: str) -> None:
    """Drop Chroma's cached system for ``path`` after a failed open.

    Chroma caches the system per path *before* starting it, so without this a retry in
    the same process would get the half-started one back."""
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", None)
    if isinstance(systems, dict):
        systems.pop(path, None)


def fingerprint_of(statements: Iterable[Statement]) -> str:
    """A digest of the statements' ids and content hashes (``ChromaStore.fingerprint``)."""
    digest = hashlib.sha256()
    for s in sorted(statements, key=lambda s: s.statement_id):
        digest.update(f"{s.statement_id}\x00{s.content_hash}\x01".encode())
    return digest.hexdigest()[:20]


def _bound_http_timeouts(client: Any) -> None:
    """Give Chroma's HTTP session timeouts (it is created with none)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(SERVER_READ_TIMEOUT, connect=SERVER_CONNECT_TIMEOUT)
    else:  # a chromadb release that builds its client differently: keep its defaults
        logger.info("cannot set timeouts on the Chroma HTTP client")


def _server_errors() -> tuple[type[BaseException], ...]:
    import httpx

    return (httpx.TransportError, ConnectionError)


def _retryable_errors() -> tuple[type[BaseException], ...]:
    from chromadb.errors import NotFoundError

    return (*_server_errors(), NotFoundError)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


class StatementWrite(NamedTuple):
    """One statement to write, with its passages and their vectors."""

    statement: Statement
    passages: Sequence[Passage]
    passage_vectors: np.ndarray
    sentence_vectors: Sequence[np.ndarray]


class ChromaStore:
    """Statements and passages in two Chroma collections."""

    def __init__(
        self,
        client: Any,
        prefix: str = "statements_qa",
        url: str | None = None,
        path: str | None = None,
    ):
        self._client = client
        self._prefix = prefix
        self._url = url
        self._path = path  # of the embedded store, for messages
        self._passages: Any = None
        self._statements: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ChromaStore:
        path = None if settings.chroma_url else str(settings.chroma_path)
        return cls(make_client(settings), settings.collection_prefix, settings.chroma_url, path)

    # -- collections -------------------------------------------------------------

    def _op(self, kind: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``method`` on the ``kind`` collection ("passages" or "statements").

        A lost connection or a collection the server no longer knows (restarted, or
        replaced) drops the cached collection handles and is retried once, which is safe
        because every write here is an idempotent upsert or delete. A second failure is
        one clear :class:`StoreUnavailableError`.
        """
        from chromadb.errors import ChromaError, InternalError

        writes = method in _WRITES
        if writes and self._write_key in _FAILED_WRITES:
            raise StoreUnavailableError(
                f"Writing to the Chroma store at {self._where} failed earlier in this "
                f"process ({_FAILED_WRITES[self._write_key]})",
                hint="free disk space, then restart to write again (questions still work)",
            )
        for attempt in range(2):
            try:
                return getattr(self._handle(kind), method)(*args, **kwargs)
            except _retryable_errors() as exc:
                self._passages = self._statements = None  # re-resolve on the next try
                if attempt:
                    raise self._unavailable() from exc
                logger.warning("Chroma at %s: %s; retrying", self._where, _one_line(exc))
                time.sleep(RETRY_PAUSE)
            except ChromaError as exc:  # a full disk, a damaged file, another model's vectors
                if writes and not self._url and isinstance(exc, InternalError):
                    # After a failed write (e.g. ENOSPC during compaction) embedded Chroma
                    # 1.5 hangs on the next write in the same process: refuse instead.
                    _FAILED_WRITES[self._write_key] = _one_line(exc)
                raise StoreUnavailableError(
                    f"The Chroma store failed: {_one_line(exc)}",
                    hint=f"check free disk space and {self._where}",
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def _write_key(self) -> str:
        return self._url or self._path or f"client-{id(self._client)}"

    @property
    def _where(self) -> str:
        return self._url or self._path or "the data directory"

    def _unavailable(self) -> StoreUnavailableError:
        if self._url:
            return StoreUnavailableError(
                f"Lost the Chroma server at {self._url}", hint="is `chroma run` still running?"
            )
        return StoreUnavailableError(f"The Chroma store at {self._where} is not usable")

    def _handle(self, kind: str) -> Any:
        return self.passages_collection if kind == "passages" else self.statements_collection

    def _collection(self, suffix: str) -> Any:
        from chromadb.errors import ChromaError

        name = f"{self._prefix}_{suffix}"
        try:
            if self._write_key in _FAILED_WRITES:  # creating would hang: see _op
                return self._client.get_collection(name, embedding_function=None)
            return self._client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except _server_errors() as exc:
            raise self._unavailable() from exc
        except ChromaError as exc:  # a full disk, a damaged file
            raise StoreUnavailableError(
                f"The Chroma store failed: {_one_line(exc)}",
                hint=f"check free disk space and {self._where}",
            ) from exc

    @property
    def passages_collection(self) -> Any:
        if self._passages is None:
            self._passages = self._collection("passages")
        return self._passages

    @property
    def statements_collection(self) -> Any:
        if self._statements is None:
            self._statements = self._collection("statements")
        return self._statements

    @property
    def max_batch(self) -> int:
        try:
            return int(self._client.get_max_batch_size())
        except Exception:
            return 1000

    # -- statements --------------------------------------------------------------

    @staticmethod
    def _to_statement(sid: str, meta: dict[str, Any], text: str | None = None) -> Statement:
        return Statement(
            statement_id=sid,
            organization=meta.get("organization"),
            author=meta.get("author"),
            date=meta.get("date"),
            title=meta.get("title"),
            source=meta.get("source") or sid,
            path=meta.get("path"),
            content_hash=meta.get("content_hash", ""),
            passages=int(meta.get("passages", 0)),
            text=text,
        )

    def statements(self) -> list[Statement]:
        """Every statement's metadata (no text), sorted by id."""
        got = self._op("statements", "get", include=["metadatas"])
        items = [self._to_statement(i, m or {}) for i, m in zip(got["ids"], got["metadatas"])]
        return sorted(items, key=lambda s: s.statement_id)

    def statement(self, statement_id: str) -> Statement:
        """One statement with its clean text."""
        got = self._op("statements", "get", ids=[statement_id], include=["metadatas", "documents"])
        if not got["ids"]:
            raise StatementNotFoundError(
                f"No statement {statement_id!r}", hint="`rag sources` lists the ingested ones"
            )
        return self._to_statement(got["ids"][0], got["metadatas"][0] or {}, got["documents"][0])

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
        from chromadb.errors import ChromaError

        name = f"{self._prefix}_statements"
        for attempt in range(2):
            try:
                metadata = self._client.get_collection(name, embedding_function=None).metadata
                value = (metadata or {}).get(VERSION_KEY)
                return str(value) if value is not None else None
            except _server_errors() as exc:
                if attempt:
                    raise self._unavailable() from exc
                time.sleep(RETRY_PAUSE)
            except ChromaError:  # no such collection yet
                return None
        raise AssertionError("unreachable")  # pragma: no cover

    def touch(self) -> None:
        """Change ``version``: called after every write, and at the end of every ingest
        (so a run that follows an interrupted one re-announces what that one wrote)."""
        self._op("statements", "modify", metadata={VERSION_KEY: uuid.uuid4().hex})

    def write_statement(
        self,
        statement: Statement,
        passages: Sequence[Passage],
        passage_vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray],
    ) -> None:
        """Insert or replace one statement (see ``write_statements``)."""
        item = StatementWrite(statement, passages, passage_vectors, sentence_vectors)
        self.write_statements([item])

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
                metadatas=[_passage_meta(p, svec) for p, _, svec in chunk],
            )
        self._delete_passages(sorted(old_ids - {p.passage_id for p, _, _ in rows}))
        records = [_statement_record(item) for item in items]
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
        self._op("statements", "delete", ids=[statement_id])
        self.touch()
        ids = self._op("passages", "get", where={"statement_id": statement_id}, include=[])["ids"]
        self._delete_passages(ids)

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

    # -- passages ----------------------------------------------------------------

    def count_passages(self) -> int:
        return int(
            self._op(
                "passages",
                "count",
            )
        )

    def iter_passages(self, page: int = 5000) -> Iterator[Passage]:
        """All passages (text and offsets), in pages."""
        offset = 0
        while True:
            got = self._op(
                "passages",
                "get",
                include=["metadatas", "documents"],
                limit=page,
                offset=offset,
            )
            if not got["ids"]:
                return
            for pid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"]):
                yield _to_passage(pid, meta, doc)
            offset += len(got["ids"])

    def passages(self, ids: Sequence[str]) -> dict[str, StoredPassage]:
        """Passages by id, with their sentence vectors."""
        if not ids:
            return {}
        got = self._op("passages", "get", ids=list(ids), include=["metadatas", "documents"])
        result = {}
        for pid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"]):
            passage = _to_passage(pid, meta, doc)
            dim = int(meta.get("dim", 0)) or 1
            vectors = decode_int8(meta["svec"], dim) if meta.get("svec") else np.zeros((0, dim))
            result[pid] = StoredPassage(passage, vectors)
        return result

    def statement_passages(self, statement_id: str) -> list[Passage]:
        got = self._op(
            "passages",
            "get",
            where={"statement_id": statement_id},
            include=["metadatas", "documents"],
        )
        items = [
            _to_passage(i, m, d) for i, m, d in zip(got["ids"], got["metadatas"], got["documents"])
        ]
        return sorted(items, key=lambda p: p.start)

    def query(
        self, vector: np.ndarray, n: int, statement_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest passages as ``(passage_id, cosine similarity)``, best first."""
        where = None
        if statement_ids is not None:
            if not statement_ids:
                return []
            where = (
                {"statement_id": statement_ids[0]}
                if len(statement_ids) == 1
                else {"statement_id": {"$in": list(statement_ids)}}
            )
        got = self._op(
            "passages",
            "query",
            query_embeddings=[vector],
            n_results=n,
            where=where,
            include=["distances"],
        )
        return [(pid, 1.0 - float(d)) for pid, d in zip(got["ids"][0], got["distances"][0])]

    def passage_vectors(self, passage_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored (unit) vectors of ``passage_ids``; unknown ids are left out."""
        if not passage_ids:
            return {}
        got = self._op("passages", "get", ids=list(passage_ids), include=["embeddings"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        return {pid: vectors[i] for i, pid in enumerate(got["ids"])}


def _statement_record(item: StatementWrite) -> tuple[str, np.ndarray, str, dict[str, Any]]:
    """A statement's record: id, centroid of its passage vectors, clean text, metadata."""
    statement, vectors = item.statement, np.asarray(item.passage_vectors)
    # Every key is written, None for a missing one: Chroma merges metadata on upsert,
    # so a field the new version lacks (a date, say) must be cleared explicitly.
    meta: dict[str, Any] = {k: getattr(statement, k) or None for k in _STATEMENT_FIELDS}
    meta.update(content_hash=statement.content_hash, passages=len(item.passages))
    meta["date_lo"] = meta["date_hi"] = None
    if statement.date and is_valid_date(statement.date):
        meta["date_lo"], meta["date_hi"] = date_range(statement.date)
    centroid = vectors.mean(axis=0) if len(item.passages) else None
    if centroid is None or not np.isfinite(centroid).all() or not centroid.any():
        centroid = np.full(vectors.shape[1] if vectors.ndim == 2 else 1, 1.0)
    return statement.statement_id, centroid / np.linalg.norm(centroid), statement.text or "", meta


def _passage_meta(passage: Passage, sentence_vectors: np.ndarray) -> dict[str, Any]:
    return {
        "statement_id": passage.statement_id,
        "paragraph": passage.paragraph,
        "start": passage.start,
        "end": passage.end,
        "sentences": [x for span in passage.sentences for x in span],
        "svec": encode_int8(sentence_vectors),
        "dim": int(sentence_vectors.shape[1]),
    }


def _to_passage(pid: str, meta: dict[str, Any], text: str) -> Passage:
    flat = list(meta.get("sentences") or [])
    spans = tuple((int(flat[i]), int(flat[i + 1])) for i in range(0, len(flat) - 1, 2))
    return Passage(
        passage_id=pid,
        statement_id=str(meta["statement_id"]),
        paragraph=int(meta["paragraph"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        sentences=spans or ((int(meta["start"]), int(meta["end"])),),
    )
