"""Questions first: background work in the app's process yields to answers in progress.

The app answers questions on worker threads while an upload is ingested on another one.
Both want the same few cores, and a question that waits for an embedding batch feels the
whole batch. So answering marks itself busy (``FOREGROUND.busy()``), and an upload's
ingest, between small slices of work, waits until no answer is in progress (for at most
a bounded time, so that a steady stream of questions cannot starve it).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Foreground:
    """How many answers are in progress in this process."""

    def __init__(self) -> None:
        self._active = 0
        self._changed = threading.Condition()

    @property
    def active(self) -> int:
        return self._active

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Mark one answer in progress for the duration of the block."""
        with self._changed:
            self._active += 1
        try:
            yield
        finally:
            with self._changed:
                self._active -= 1
                self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no answer is in progress, or ``timeout`` seconds; whether idle."""
        with self._changed:
            return self._changed.wait_for(lambda: self._active == 0, timeout)


FOREGROUND = Foreground()
_THREADS = threading.Lock()


@contextmanager
def one_core() -> Iterator[None]:
    """Run the block's torch work on one thread, leaving the other cores to answers
    (onnxruntime has its own threads). Process-wide while it lasts: only background
    work in the app uses it (an upload's embedding); torch is never imported here."""
    torch = sys.modules.get("torch")
    if torch is None or not _THREADS.acquire(blocking=False):
        yield  # not loaded yet (it will be by the block), or another block holds it
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        _THREADS.release()
