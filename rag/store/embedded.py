"""Embedded Chroma shared by several processes: open it once per process, and reopen it
when another process has written to the same folder.

Embedded Chroma keeps each collection's vector index (HNSW) and segment state in memory,
per process. A second process writing the folder (``rag ingest`` while ``rag ui`` runs)
leaves those copies stale: reads then fail with "Error finding id" or miss what was
written, until the process restarts. Chroma has no call to drop those caches, so the
client is reopened instead: a new one built from disk, shared by every store of this
process on that folder. Every write ends by changing the store's version token
(``ChromaStore.touch``), so a token this process did not write means another one wrote.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.store.check import check_vector_indexes
from rag.store.failures import open_failure

logger = logging.getLogger(__name__)

OPEN_BUSY_SECONDS = 10.0  # how long opening waits while SQLite is busy elsewhere
VERSION_KEY = "rag_version"  # statements collection metadata: changes on every write


@dataclass
class EmbeddedHandle:
    """This process's client for one embedded store folder."""

    path: Path
    client: Any
    generation: int = 0  # bumped on every reopen: stores drop their collection handles
    # per collection prefix: the version token the client's caches are known to match
    versions: dict[str, str | None] = field(default_factory=dict)
    # per prefix: the token this process's latest write replaces (still read while it lands)
    replaced: dict[str, str | None] = field(default_factory=dict)


_HANDLES: dict[str, EmbeddedHandle] = {}
_LOCK = threading.RLock()


def embedded_handle(path: Path) -> EmbeddedHandle:
    """The shared handle for the store at ``path``, opening it on first use."""
    with _LOCK:
        handle = _HANDLES.get(str(path))
        if handle is None:
            handle = EmbeddedHandle(path, open_client(path))
            _HANDLES[str(path)] = handle
        return handle


def close_embedded(path: Path) -> None:
    """Forget this process's client for ``path`` (its folder was swapped by a repair):
    the next store opened there reads the new folder from disk."""
    from chromadb.api.shared_system_client import SharedSystemClient

    with _LOCK:
        _HANDLES.pop(str(path), None)
        systems = getattr(SharedSystemClient, "_identifier_to_system", None)
        system = systems.pop(str(path), None) if isinstance(systems, dict) else None
        if system is not None:
            try:
                system.stop()  # its files are closed before the folder moves
            except Exception:
                logger.debug("stopping the Chroma system of %s", path, exc_info=True)


def read_version(client: Any, prefix: str) -> str | None:
    """The store's version token (None: no statements collection, or none written yet)."""
    from chromadb.errors import ChromaError

    try:
        metadata = client.get_collection(f"{prefix}_statements", embedding_function=None).metadata
    except ChromaError:  # no such collection yet
        return None
    value = (metadata or {}).get(VERSION_KEY)
    return str(value) if value is not None else None


def observe(handle: EmbeddedHandle, prefix: str, version: str | None) -> None:
    """Note the token just read; reopen when another process changed it."""
    with _LOCK:
        if prefix not in handle.versions:
            handle.versions[prefix] = version  # the first look: nothing cached yet to judge
            return
        own = prefix in handle.replaced and version == handle.replaced[prefix]
        if version == handle.versions[prefix] or own:
            return  # unchanged, or read just before this process's own write landed
        logger.info("the store at %s was written by another process; reopening it", handle.path)
        _reopen(handle)


def expect(handle: EmbeddedHandle, prefix: str, version: str) -> None:
    """This process is about to write ``version``: its own write is no reason to reopen."""
    with _LOCK:
        handle.replaced[prefix] = handle.versions.get(prefix)
        handle.versions[prefix] = version


def reopen(handle: EmbeddedHandle, generation: int) -> None:
    """Reopen after a read failed, unless another thread already did since ``generation``."""
    with _LOCK:
        if handle.generation == generation:
            logger.info("reopening the Chroma store at %s after a failed read", handle.path)
            _reopen(handle)


def _reopen(handle: EmbeddedHandle) -> None:
    # tokens first: the new client's caches are then at least as new as them
    versions = {prefix: read_version(handle.client, prefix) for prefix in handle.versions}
    forget_system(str(handle.path))
    handle.client = open_client(handle.path)
    handle.versions = versions
    handle.replaced = {}
    handle.generation += 1


def open_client(path: Path) -> Any:
    """A new embedded PersistentClient (the folder must exist)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    check_vector_indexes(path)  # a damaged one would crash the process, not raise
    deadline = time.monotonic() + OPEN_BUSY_SECONDS
    while True:
        try:
            return chromadb.PersistentClient(
                path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
            )
        except Exception as exc:  # a damaged or foreign sqlite file, a newer Chroma's data, ...
            forget_system(str(path))
            if "database is locked" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.2)  # another process is creating or migrating the same store
                continue
            raise open_failure(exc, path) from exc


def forget_system(path: str) -> None:
    """Drop Chroma's cached system for ``path``, so that the next client is built anew.

    Chroma caches the system per path *before* starting it, so without this a retry in
    the same process would get the half-started one back. Clients still using the old
    system keep it until they are dropped."""
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", None)
    if isinstance(systems, dict):
        systems.pop(path, None)
