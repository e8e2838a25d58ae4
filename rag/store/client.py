"""Opening Chroma: an HTTP client for a server (with timeouts), or this process's shared
embedded client for the data directory; and which failures mean "try again"."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rag.errors import StoreUnavailableError, echo
from rag.store.embedded import embedded_handle

logger = logging.getLogger(__name__)


def open_server(address: str, read_timeout: float, connect_timeout: float) -> Any:
    """An HttpClient for the server at ``address`` that answered a heartbeat."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    url = urlparse(address)
    try:
        port = url.port
    except ValueError:
        port = None
        url = url._replace(netloc="")
    if not url.hostname or url.scheme not in ("http", "https"):
        raise StoreUnavailableError(
            f"Not a Chroma server URL: {echo(address)}",
            hint="e.g. RAG_CHROMA_URL=http://127.0.0.1:8000",
        )
    try:
        client = chromadb.HttpClient(
            host=url.hostname,
            port=port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=ChromaSettings(anonymized_telemetry=False),
        )
        bound_http_timeouts(client, read_timeout, connect_timeout)
        client.heartbeat()
    except Exception as exc:
        raise StoreUnavailableError(
            f"Cannot reach the Chroma server at {address}",
            hint="start it with `chroma run --path DIR --port PORT` or unset RAG_CHROMA_URL",
        ) from exc
    return client


def open_embedded(home: Path, chroma_path: Path) -> Any:
    """This process's client for the embedded store at ``chroma_path`` (made if missing)."""
    try:
        chroma_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailableError(
            f"Cannot use the data directory {home}: {exc.strerror or exc}",
            hint="set RAG_HOME to a writable folder",
        ) from exc
    return embedded_handle(chroma_path).client


def bound_http_timeouts(client: Any, read_timeout: float, connect_timeout: float) -> None:
    """Give Chroma's HTTP session timeouts (it is created with none)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    else:  # a chromadb release that builds its client differently: keep its defaults
        logger.info("cannot set timeouts on the Chroma HTTP client")


def server_errors() -> tuple[type[BaseException], ...]:
    import httpx

    return (httpx.TransportError, ConnectionError)


def retryable_errors() -> tuple[type[BaseException], ...]:
    """A lost connection, or a collection the server no longer knows: retried once."""
    from chromadb.errors import NotFoundError

    return (*server_errors(), NotFoundError)
