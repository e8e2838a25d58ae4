"""Entry point for child processes of the reliability tests.

``python child.py ARGS...`` runs the real ``rag`` CLI (``ui.cli.main``) with ARGS, after
installing the hooks that the environment asks for:

- ``RAG_TEST_ANNOUNCE=1``: print ``wrote <statement_id>`` (flushed) after every statement
  record is written, so the parent knows how far an ingest got before it kills it.
- ``RAG_TEST_KILL_BEFORE_RECORD=N``: SIGKILL this process just before the N-th statement
  record is written, i.e. after that statement's passages are in the store: the worst
  moment for crash consistency.
- ``RAG_TEST_NET_LOG=FILE``: record (and refuse) every attempt to resolve or reach a
  non-loopback address, one line per attempt in FILE. Installed before anything else is
  imported. Attempts are recorded, not only refused, because libraries (telemetry above
  all) swallow connection errors.

``python child.py --dump HOME`` prints the store's contents as JSON (``StoreDump``).

``python child.py --library-smoke HOME`` skips the CLI: it ingests the bundled statements
and answers a question through the library in the default configuration, then prints the
answer as JSON.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard, not a lookup
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").lower()
    if host in _LOOPBACK_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a name that needs DNS: a network call


def install_network_guard(log_path: str) -> Callable[[], None]:
    """Record and refuse name lookups and connections to non-loopback addresses (Python
    level: native code is covered by the strace test). Returns the undo function."""

    def record(kind: str, target: Any) -> None:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{kind} {target!r}\n")

    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo
    original_sendto = socket.socket.sendto

    def target_of(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            return address[0]
        return None  # unix sockets and the like are local

    def connect(self: socket.socket, address: Any) -> Any:
        host = target_of(self, address)
        if not _is_loopback(host):
            record("connect", address)
            raise OSError(101, f"network blocked by the test: {address!r}")
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        host = target_of(self, address)
        if not _is_loopback(host):
            record("connect_ex", address)
            return 101
        return original_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> Any:
        address = args[-1]
        if not _is_loopback(target_of(self, address)):
            record("sendto", address)
            raise OSError(101, f"network blocked by the test: {address!r}")
        return original_sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            record("getaddrinfo", host)
            raise socket.gaierror(socket.EAI_NONAME, f"name lookup blocked by the test: {host}")
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[assignment]
    socket.getaddrinfo = getaddrinfo

    def undo() -> None:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
        socket.socket.sendto = original_sendto  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo

    return undo


def _install_store_hooks() -> None:
    from rag.store.chroma import ChromaStore

    announce = os.environ.get("RAG_TEST_ANNOUNCE") == "1"
    kill_at = int(os.environ.get("RAG_TEST_KILL_BEFORE_RECORD", "0"))
    records = 0
    original_op = ChromaStore._op
    original_write = ChromaStore.write_statements

    def op(self: ChromaStore, kind: str, method: str, *args: Any, **kwargs: Any) -> Any:
        nonlocal records
        if kind == "statements" and method == "upsert":
            records += 1
            if records == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return original_op(self, kind, method, *args, **kwargs)

    def write_statements(self: ChromaStore, items: Any) -> None:
        original_write(self, items)
        if announce:
            for item in items:
                print(f"wrote {item.statement.statement_id}", flush=True)

    ChromaStore._op = op  # type: ignore[method-assign]
    ChromaStore.write_statements = write_statements  # type: ignore[method-assign]


def _library_smoke(home: str) -> None:
    import json
    from pathlib import Path

    from ingest.pipeline import Ingestor
    from rag.service import build_services
    from rag.settings import Settings

    settings = Settings(home=Path(home))
    services = build_services(settings)
    report = Ingestor(settings, services.store, services.embedder).run()
    services.catalog.invalidate()
    answer = services.answerer.answer("What is the Quds Force?")
    print(json.dumps({"summary": report.summary(), "answer": answer.to_json_dict()}))


def _dump(home: str) -> None:
    """Print the store's statements and passages as JSON (after checking invariants)."""
    import json
    from pathlib import Path

    from conftest import dump_store  # this folder is sys.path[0]
    from rag.settings import Settings
    from rag.store.chroma import ChromaStore

    store = ChromaStore.from_settings(Settings(home=Path(home)))
    statements, passages = dump_store(store).comparable()
    print(json.dumps({"statements": statements, "passages": passages}))


def main() -> None:
    if sys.argv[1:2] == ["--dump"]:
        _dump(sys.argv[2])
        return
    if os.environ.get("RAG_TEST_NET_LOG"):
        install_network_guard(os.environ["RAG_TEST_NET_LOG"])
    if sys.argv[1:2] == ["--library-smoke"]:
        _library_smoke(sys.argv[2])
        return
    _install_store_hooks()
    from ui.cli import main as cli_main

    sys.argv = ["rag", *sys.argv[1:]]
    cli_main()


if __name__ == "__main__":
    main()
