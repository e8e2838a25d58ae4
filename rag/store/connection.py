"""One store's Chroma client and its two collection handles, and the one way to call them.

Every call goes through ``StoreConnection.op``: a lost server or a replaced collection is
retried once, an embedded store catches up with other processes' writes and reopens after
a failed read, and a failure becomes one clear ``RagError`` (``rag.store.failures``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rag.errors import StoreUnavailableError
from rag.store.client import retryable_errors, server_errors
from rag.store.embedded import EmbeddedHandle, observe, read_version, reopen
from rag.store.failures import disk_full_text, one_line, store_failure

logger = logging.getLogger(__name__)

RETRY_PAUSE = 0.25
_WRITES = frozenset({"add", "upsert", "update", "delete", "modify"})
# Embedded stores whose write failed in this process (path -> reason); see ``op``.
FAILED_WRITES: dict[str, str] = {}


class StoreConnection:
    """The client of one store (embedded or a server) and its collection handles.

    An embedded store follows writes made by other processes: see ``rag.store.embedded``
    (its client is reopened when the version token moved, and once after a failed read).
    """

    def __init__(
        self,
        client: Any,
        prefix: str,
        url: str | None = None,
        path: str | None = None,
        embedded: EmbeddedHandle | None = None,
    ):
        self._client = client
        self.prefix = prefix
        self.url = url
        self.path = path  # of the embedded store, for messages
        self.embedded = embedded  # the shared, reopenable client of an embedded store
        self._generation = embedded.generation if embedded else 0
        self._passages: Any = None
        self._statements: Any = None

    @property
    def client(self) -> Any:
        """The Chroma client in use (an embedded one may have been reopened)."""
        handle = self.embedded
        if handle is None:
            return self._client
        if handle.generation != self._generation:
            self._passages = self._statements = None  # handles of the old client
            self._generation = handle.generation
        return handle.client

    @property
    def reopened(self) -> int:
        """How often this process reopened the embedded store (0 for a server)."""
        return self.embedded.generation if self.embedded else 0

    def op(self, kind: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``method`` on the ``kind`` collection ("passages" or "statements").

        A lost connection or a collection the server no longer knows (restarted, or
        replaced) drops the cached collection handles and is retried once, which is safe
        because every write here is an idempotent upsert or delete. An embedded store
        first catches up with other processes' writes before writing, and reopens once
        after a failed read (its caches may predate a write that no token announced yet,
        such as an interrupted ingest's). A second failure is one clear
        :class:`StoreUnavailableError`.
        """
        from chromadb.errors import ChromaError, InternalError

        writes = method in _WRITES
        if writes and self.write_key in FAILED_WRITES:
            reason = FAILED_WRITES[self.write_key]
            raise StoreUnavailableError(
                f"Writing to the Chroma store at {self.where} failed earlier in this "
                f"process ({reason})",
                hint=("free disk space, then " if disk_full_text(reason) else "")
                + "restart to write again (questions still work)",
            )
        if writes and method != "modify" and self.embedded is not None:
            self.version()  # reopens first if another process wrote since (touch: itself)
        for attempt in range(2):
            generation = self.embedded.generation if self.embedded else 0
            try:
                return getattr(self._handle(kind), method)(*args, **kwargs)
            except retryable_errors() as exc:
                self._passages = self._statements = None  # re-resolve on the next try
                if attempt:
                    raise self.unavailable() from exc
                logger.warning("Chroma at %s: %s; retrying", self.where, one_line(exc))
                time.sleep(RETRY_PAUSE)
            except ChromaError as exc:  # a full disk, a damaged file, another model's vectors
                handle = self.embedded
                retry = not writes and not attempt and self.path not in FAILED_WRITES
                if handle is not None and isinstance(exc, InternalError) and retry:
                    logger.info("Chroma at %s: %s", self.where, one_line(exc))
                    reopen(handle, generation)  # its caches may be stale: read from disk
                    continue
                if writes and not self.url and isinstance(exc, InternalError):
                    # After a failed write (e.g. ENOSPC during compaction) embedded Chroma
                    # 1.5 hangs on the next write in the same process: refuse instead.
                    FAILED_WRITES[self.write_key] = one_line(exc)
                raise store_failure(exc, self.where, server=bool(self.url)) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def write_key(self) -> str:
        return self.url or self.path or f"client-{id(self._client)}"

    @property
    def where(self) -> str:
        return self.url or self.path or "the data directory"

    def unavailable(self) -> StoreUnavailableError:
        if self.url:
            return StoreUnavailableError(
                f"Lost the Chroma server at {self.url}", hint="is `chroma run` still running?"
            )
        return StoreUnavailableError(f"The Chroma store at {self.where} is not usable")

    def _handle(self, kind: str) -> Any:
        return self.passages_collection if kind == "passages" else self.statements_collection

    def _collection(self, suffix: str) -> Any:
        from chromadb.errors import ChromaError

        name = f"{self.prefix}_{suffix}"
        try:
            if self.write_key in FAILED_WRITES:  # creating would hang: see _op
                return self.client.get_collection(name, embedding_function=None)
            return self.client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except server_errors() as exc:
            raise self.unavailable() from exc
        except ChromaError as exc:  # a full disk, a damaged file
            raise store_failure(exc, self.where, server=bool(self.url)) from exc

    @property
    def passages_collection(self) -> Any:
        self.client  # noqa: B018 - drops the handles of a client that was reopened
        if self._passages is None:
            self._passages = self._collection("passages")
        return self._passages

    @property
    def statements_collection(self) -> Any:
        self.client  # noqa: B018 - drops the handles of a client that was reopened
        if self._statements is None:
            self._statements = self._collection("statements")
        return self._statements

    @property
    def max_batch(self) -> int:
        try:
            return int(self.client.get_max_batch_size())
        except Exception:
            return 1000

    def version(self) -> str | None:
        """A token that changes whenever statements are written or removed (by any process
        sharing this store): one small read, where ``fingerprint`` lists every statement.
        None for a store written before the token existed.

        An embedded store whose token moved without this process writing reopens its
        client here, so what another process wrote is read from disk, not stale caches."""
        for attempt in range(2):
            try:
                version = read_version(self.client, self.prefix)
            except server_errors() as exc:
                if attempt:
                    raise self.unavailable() from exc
                time.sleep(RETRY_PAUSE)
                continue
            if self.embedded is not None:
                observe(self.embedded, self.prefix, version)
            return version
        raise AssertionError("unreachable")  # pragma: no cover
