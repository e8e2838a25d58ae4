"""Room on the disk for an ingest window, checked before anything is written.

Embedded Chroma that meets a full disk mid-write fails with messages that do not always
say so, and then refuses every further write in that process (``rag.store.connection``);
after it, even questions can fail until space is freed well beyond the need. So each
window's growth of the store is estimated first and refused when it does not fit: the
store stays as it was, answering, and the error says how much room is needed where.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from rag.errors import DiskFullError
from rag.models import Passage

# Growth of an embedded store per passage, measured: the 764 passages of evals/devsets/
# debates2019 (270 KB of text) grew it by 10.5 MB, 13.7 KB each (the vector and the
# sentence vectors twice, in the write-ahead log and the record segment; the text three
# times, with its full-text index). Budgeted with half again for SQLite's journal.
BYTES_PER_PASSAGE = 16_000
BYTES_PER_TEXT_BYTE = 6
MARGIN_BYTES = 256 * 1024  # left free after the window: SQLite needs room to commit
_MB = 1024 * 1024


def needed_bytes(passages: Sequence[Passage]) -> int:
    """The most one window's ``passages`` are expected to add to the store."""
    text = sum(len(p.text.encode("utf-8", "surrogatepass")) for p in passages)
    return len(passages) * BYTES_PER_PASSAGE + text * BYTES_PER_TEXT_BYTE + MARGIN_BYTES


def disk_full(needed: int, folder: Path, free: int | None = None) -> DiskFullError:
    """``disk full: N MB needed at PATH``, one line with what to do."""
    have = f" ({free / _MB:.1f} MB free)" if free is not None else ""
    return DiskFullError(
        f"disk full: {max(needed / _MB, 0.1):.1f} MB needed at {folder}{have}",
        hint="check free disk space, then run the ingest again; the statements written "
        "so far are kept and still answer",
    )


def check_space(folder: Path, needed: int) -> None:
    """Raise :class:`DiskFullError` unless ``needed`` bytes fit on ``folder``'s disk."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # cannot tell (the folder is made by the first write): let the write say
    if free < needed:
        raise disk_full(needed, folder, free)
