"""Parsing in a worker process, within a time budget: PDFs, Word files and fetched web
pages always, uploads whole.

pypdf can spend minutes on a small hostile file (a 67 KB PDF parsed for over 9 minutes),
holding the GIL all the while; in the app that stalls every question. So parsing runs in
one long-lived worker: the caller waits at most ``seconds``, then kills it (a new one
starts for the next file). The worker is a plain ``python -m ingest.worker`` child over
a socket pair, not ``multiprocessing``: its spawn re-runs the caller's main script, which a
script without a ``__name__ == "__main__"`` guard does not survive, and fork is unsafe in a
threaded server.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.metadata import one_line
from rag.errors import IngestError

if TYPE_CHECKING:
    from ingest.document import RawDocument

logger = logging.getLogger(__name__)

UPLOAD_SECONDS = 60.0  # reading one uploaded file, whatever its format
_START_SECONDS = 60.0
IN_WORKER = False  # True inside the worker: ``call_isolated`` then runs its task inline
# What ``call_isolated`` may ask the worker to run: "module:function", imported there.
TASKS = {
    "docx": "ingest.word:parse_docx",
    "web": "ingest.webpage:extract_page",
}


class _Timeout(Exception):
    """The worker did not answer in time and was killed."""


class _Worker:
    """One worker process, started on first use and replaced after a kill or a crash."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        if self._process is not None and self._process.poll() is None and self._conn is not None:
            return self._conn
        self._stop()
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "ingest.worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            ours.close()
            raise IngestError(f"the file reader did not start: {one_line(exc)}") from exc
        finally:
            theirs.close()
        self._conn = conn = Connection(ours.detach())
        # the budget is for parsing, not for starting Python and importing the parsers
        try:
            ready = conn.poll(_START_SECONDS) and conn.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._stop()
            raise IngestError("the file reader did not start", hint="try again")
        return conn

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def call(self, request: tuple[Any, ...], seconds: float, streamed: list[Any]) -> Any:
        """Send ``request``; collect streamed ``("part", x)`` into ``streamed``; return the
        final ``("done", ...)`` message. Raises ``_Timeout`` after ``seconds``."""
        with self._lock:
            conn = self._start()
            deadline = time.monotonic() + seconds
            try:
                conn.send(request)
                while True:
                    if not conn.poll(max(0.0, deadline - time.monotonic())):
                        self._stop()
                        raise _Timeout
                    message = conn.recv()
                    if message[0] == "part":
                        streamed.append(message[1])
                    elif message[0] == "done":
                        for line in message[-1]:  # the worker's warnings, logged here
                            logger.warning("%s", line)
                        return message
                    else:  # ("error", reason)
                        raise IngestError(message[1])
            except (EOFError, OSError) as exc:  # the worker died (memory, a crash)
                self._stop()
                raise IngestError("the file reader crashed on it") from exc


_WORKER = _Worker()


def extract_pdf(
    data: bytes, max_pages: int, max_chars: int, seconds: float
) -> tuple[list[str], dict[str, str], str | None]:
    """Pages of text, declared title/author, and why it stopped early (or ``None``)."""
    pages: list[str] = []
    try:
        _, info, stopped, _ = _WORKER.call(
            ("pdf", data, max_pages, max_chars, seconds), seconds, pages
        )
    except _Timeout:
        return pages, {}, f"stopped after {len(pages)} pages: over {seconds:g} seconds"
    except IngestError as exc:
        if str(exc) == "the file reader crashed on it":
            raise IngestError("unreadable PDF: the PDF reader crashed on it") from exc
        raise
    return pages, info, stopped


def load_isolated(path: Path, max_bytes: int, seconds: float | None = None) -> RawDocument:
    """``load_document`` in the worker: no file can hold this process's GIL for long.

    Raises:
        IngestError: what ``load_document`` raises, or reading took over ``seconds``
            (default ``UPLOAD_SECONDS``).
    """
    seconds = UPLOAD_SECONDS if seconds is None else seconds
    try:
        _, raw, _ = _WORKER.call(("load", str(path), max_bytes), seconds, [])
    except _Timeout:
        raise IngestError(f"took over {seconds:g} seconds to read") from None
    return raw  # type: ignore[no-any-return]


def run_task(kind: str, *args: Any) -> Any:
    """Run one of ``TASKS`` in this process (the worker's side)."""
    import importlib

    module, _, function = TASKS[kind].partition(":")
    return getattr(importlib.import_module(module), function)(*args)


def call_isolated(kind: str, args: tuple[Any, ...], seconds: float) -> Any:
    """``TASKS[kind](*args)`` in the worker, killed after ``seconds``.

    Raises:
        IngestError: what the task raises, a crash of the worker, or over ``seconds``.
    """
    if IN_WORKER:  # already isolated (an upload read whole by the worker)
        return run_task(kind, *args)
    try:
        _, result, _ = _WORKER.call((kind, *args), seconds, [])
    except _Timeout:
        raise IngestError(f"took over {seconds:g} seconds to read") from None
    return result
