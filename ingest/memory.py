"""Give freed heap memory back to the operating system between ingest windows.

Embedding a window allocates and frees large torch and numpy buffers, while the Chroma
client keeps growing its vector index between them; glibc's malloc then keeps most of the
freed pages (its mmap threshold adapts upwards, so the buffers come from the heap, and
free pages in the middle of a heap are not returned on their own). ``malloc_trim`` returns
them. Anywhere but glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from collections.abc import Callable
from functools import cache

logger = logging.getLogger(__name__)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim  # glibc only (not musl)
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]  # type: ignore[attr-defined]
    trim.restype = ctypes.c_int  # type: ignore[attr-defined]
    return trim


def release_free_memory() -> None:
    """Return the heap's free pages to the OS (a few ms; never raises)."""
    trim = _malloc_trim()
    if trim is not None:
        try:
            trim(0)
        except Exception:  # pragma: no cover - a libc without a working malloc_trim
            logger.debug("malloc_trim failed", exc_info=True)
