"""PDF statements: text extracted in a worker process, within a time and size budget.

pypdf can spend minutes on a small hostile file (a 67 KB PDF parsed for over 9 minutes)
and expand 8 KB into megabytes of text, holding the GIL all the while. So the parsing runs
in one long-lived worker process: the caller waits at most ``seconds``, then kills it; and
the worker stops at ``max_pages`` pages or ``max_chars`` characters of text. Each limit
reached is one warning line; the text read up to it is kept.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from ingest.metadata import collapse, one_line
from rag.errors import IngestError
from rag.models import StatementMeta

logger = logging.getLogger(__name__)

PDF_SECONDS = 30.0  # per file
PDF_MAX_PAGES = 2000
_START_SECONDS = 60.0
PDF_MAX_CHARS = 2_000_000  # a book; a statement is rarely a hundredth of it
_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:/|of)\s*\d{1,4})?$", re.I
)
_BULLET = re.compile(r"^[•●▪◦‣∙·*-]\s")  # not – or —: a wrapped line may start with a dash
_PARAGRAPH_END = (".", "!", "?", ":", "”", '"', "’", "'")


def load_pdf(
    data: bytes,
    *,
    max_chars: int,
    max_pages: int = PDF_MAX_PAGES,
    seconds: float = PDF_SECONDS,
    where: str = "PDF",
) -> tuple[str, StatementMeta]:
    """Text (paragraphs joined by a blank line) and declared metadata of a PDF.

    Raises:
        IngestError: unreadable, password-protected, no text layer, or nothing read
            within ``seconds``.
    """
    pages, info, stopped = _WORKER.extract(data, max_pages, max_chars, seconds)
    paragraphs = _pdf_paragraphs(pages)
    if not paragraphs:  # the skip line is the file's one line
        if stopped and "seconds" in stopped:
            raise IngestError(f"PDF: no text read within {seconds:g} seconds")
        raise IngestError("PDF has no text layer (scanned?)", hint="run OCR on it first")
    if stopped:
        logger.warning("%s: %s; the text before it is kept", where, stopped)
    title = info.get("title")
    if title and (
        title.startswith("Microsoft Word -") or title.endswith((".doc", ".docx", ".pdf"))
    ):
        title = None
    meta = StatementMeta(title=title, author=info.get("author"))
    return "\n\n".join(paragraphs), meta


class _Worker:
    """One parsing process, started on first use and replaced after a kill or a crash.

    A plain ``python -m ingest.pdf`` child over a socket pair, not ``multiprocessing``:
    its spawn re-runs the caller's main script, which a script without a
    ``__name__ == "__main__"`` guard does not survive, and fork is unsafe in a threaded
    server."""

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
                [sys.executable, "-m", "ingest.pdf", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            ours.close()
            raise IngestError(f"PDF reader did not start: {one_line(exc)}") from exc
        finally:
            theirs.close()
        self._conn = conn = Connection(ours.detach())
        # the budget is for parsing, not for starting Python and importing pypdf
        try:
            ready = conn.poll(_START_SECONDS) and conn.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._stop()
            raise IngestError("PDF reader did not start", hint="try again")
        return conn

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def extract(
        self, data: bytes, max_pages: int, max_chars: int, seconds: float
    ) -> tuple[list[str], dict[str, str], str | None]:
        with self._lock:
            conn = self._start()
            deadline = time.monotonic() + seconds
            pages: list[str] = []
            try:
                conn.send((data, max_pages, max_chars, seconds))
                while True:
                    if not conn.poll(max(0.0, deadline - time.monotonic())):
                        self._stop()
                        stopped = f"stopped after {len(pages)} pages: over {seconds:g} seconds"
                        return pages, {}, stopped
                    message = conn.recv()
                    if message[0] == "page":
                        pages.append(message[1])
                    elif message[0] == "done":
                        return pages, message[1], message[2]
                    else:  # ("error", reason)
                        raise IngestError(message[1])
            except (EOFError, OSError) as exc:  # the worker died (memory, a crash)
                self._stop()
                raise IngestError("unreadable PDF: the PDF reader crashed on it") from exc


_WORKER = _Worker()


def _serve(conn: Connection) -> None:  # pragma: no cover (runs in the worker process)
    import pypdf  # noqa: F401 (imported before "ready": not part of any file's budget)

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    conn.send(("ready",))
    while True:
        try:
            data, max_pages, max_chars, seconds = conn.recv()
        except EOFError:
            return
        try:
            _extract(conn, data, max_pages, max_chars, seconds)
        except IngestError as exc:
            conn.send(("error", str(exc)))
        except Exception as exc:  # pypdf raises many exception types on damaged files
            conn.send(("error", f"unreadable PDF: {one_line(exc) or type(exc).__name__}"))


def _extract(conn: Connection, data: bytes, max_pages: int, max_chars: int, seconds: float) -> None:
    from pypdf import PdfReader

    started = time.monotonic()
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise IngestError("PDF is password-protected")
    total = len(reader.pages)
    chars, stopped = 0, None
    for number, page in enumerate(reader.pages, start=1):
        if number > max_pages:
            stopped = f"stopped at page {max_pages} of {total} (the page limit)"
            break
        text = page.extract_text() or ""
        if chars + len(text) > max_chars:
            conn.send(("page", text[: max_chars - chars]))
            stopped = f"stopped at {max_chars:,} characters of text, on page {number} of {total}"
            break
        chars += len(text)
        conn.send(("page", text))
        if time.monotonic() - started > seconds:
            stopped = f"stopped after page {number} of {total}: over {seconds:g} seconds"
            break
    info = {field: value for field in ("title", "author") if (value := _info(reader, field))}
    conn.send(("done", info, stopped))


def _info(reader: Any, field: str) -> str | None:
    try:
        value = getattr(reader.metadata, field, None)
    except Exception:  # a damaged info dictionary is no reason to skip the text
        return None
    return (collapse(str(value))[:500] or None) if value else None


def _pdf_paragraphs(pages: list[str]) -> list[str]:
    """Rebuild paragraphs from the lines of each page (pypdf gives no paragraph breaks).

    A line closes its paragraph when a blank line or a bullet follows, or when it ends like a
    sentence and is clearly shorter than the page's longest line. A paragraph left open at the
    bottom of a page continues on the next.
    """
    paragraphs: list[str] = []
    current: list[str] = []  # the open paragraph's lines, joined once (no quadratic +=)
    for page in pages:
        lines = [collapse(line) for line in page.replace("\r", "\n").split("\n")]
        lines = [line for line in lines if not _PAGE_NUMBER.match(line)]
        longest = max(map(len, lines), default=0)
        for index, line in enumerate(lines):
            if line:
                _join_line(current, line)
            following = lines[index + 1] if index + 1 < len(lines) else None
            ends = line.endswith(_PARAGRAPH_END) and len(line) < 0.85 * longest
            if not line or ends or (following and _BULLET.match(following)):
                if current:
                    paragraphs.append(" ".join(current))
                current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _join_line(current: list[str], line: str) -> None:
    """Append ``line``; a word hyphenated across the line break is rejoined."""
    last = current[-1] if current else ""
    if len(last) > 1 and last[-1] == "-" and last[-2].isalpha() and line[0].islower():
        current[-1] = last[:-1] + line
    else:
        current.append(line)


if __name__ == "__main__":  # the worker: python -m ingest.pdf FD
    _serve(Connection(int(sys.argv[1])))
