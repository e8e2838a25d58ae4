"""Store writes of one ingest window on a background thread while the next one is embedded.

At most one write is in flight and writes run in submission order, so the crash-safety
order of ``ChromaStore.write_statements`` (a window's passages, then its statement records)
holds across windows too. The caller settles a write (waits for it, re-raising its error)
before it submits the next one, before any store operation of its own, and before its ingest
lock is released: nothing is ever written after ``run`` has returned or raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class WindowWriter(Generic[T]):
    """Runs ``write`` jobs one at a time, on a thread (``overlap``) or inline.

    ``submit(job, tag)`` returns the tag of the previous job once that job has finished
    (``None`` if there was none); ``settle()`` returns the tag of the job in flight once it
    has finished. A failed job's exception is raised by the call that settles it.
    """

    def __init__(self, overlap: bool) -> None:
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
            if overlap
            else None
        )
        self._pending: tuple[Future[None], T] | None = None

    def settle(self) -> T | None:
        """Wait for the write in flight; its tag, or None if there was none."""
        if self._pending is None:
            return None
        future, tag = self._pending
        self._pending = None
        future.result()
        return tag

    def submit(self, write: Callable[[], None], tag: T) -> T | None:
        """Settle the previous write, then start ``write``; the previous write's tag."""
        previous = self.settle()
        if self._pool is None:
            write()
            self._pending = (_done(), tag)
        else:
            self._pending = (self._pool.submit(write), tag)
        return previous

    def close(self) -> None:
        """Wait for any write in flight (its error is logged, not raised: the caller is
        already raising its own) and stop the thread."""
        try:
            self.settle()
        except Exception:
            logger.debug("a store write failed while the ingest was stopping", exc_info=True)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)


def _done() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future
