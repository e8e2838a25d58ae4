"""The parsing worker process that ``ingest.isolation`` starts and kills.

It runs ``python -m ingest.worker FD``: reads requests from the socket, parses (PDF pages,
or a whole file with ``load_document``) and sends the results back. Only this process
imports the loaders on the worker's side, so the callers import one way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from multiprocessing.connection import Connection
from pathlib import Path

from ingest.metadata import one_line
from rag.errors import IngestError

WORKER_NICENESS = 10  # added to the app's: a hostile PDF may take its whole time budget


class _Collect(logging.Handler):
    """The worker's warnings, sent back with the result (its stderr goes nowhere)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


_FAILED = {
    "pdf": "unreadable PDF",
    "docx": "unreadable Word file",
    "web": "cannot read the page's text",
}


def _serve(conn: Connection) -> None:  # pragma: no cover (runs in the worker process)
    import pypdf  # noqa: F401 (imported before "ready": not part of any file's budget)

    import ingest.isolation
    from ingest.loaders import load_document

    ingest.isolation.IN_WORKER = True
    with contextlib.suppress(OSError):  # parsing yields the CPU to the app's answers
        os.nice(WORKER_NICENESS)
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    collect = _Collect()
    logging.getLogger("ingest").addHandler(collect)
    logging.getLogger("ingest").setLevel(logging.WARNING)
    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        collect.lines = []
        try:
            if request[0] == "pdf":
                send = lambda text: conn.send(("part", text))  # noqa: E731
                info, stopped = ingest.pdf.extract_pages(send, *request[1:])
                conn.send(("done", info, stopped, collect.lines))
            elif request[0] in ingest.isolation.TASKS:  # ("docx" | "web", *args)
                result = ingest.isolation.run_task(request[0], *request[1:])
                conn.send(("done", result, collect.lines))
            else:  # ("load", path, max_bytes)
                raw = load_document(Path(request[1]), max_bytes=request[2])
                conn.send(("done", raw, collect.lines))
        except IngestError as exc:
            conn.send(("error", str(exc)))
        except Exception as exc:  # parsers raise many exception types on damaged files
            kind = _FAILED.get(request[0], "cannot be read")
            conn.send(("error", f"{kind}: {one_line(exc) or type(exc).__name__}"))


if __name__ == "__main__":  # python -m ingest.worker FD
    _serve(Connection(int(sys.argv[1])))
