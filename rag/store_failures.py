"""What a failed Chroma call means, said plainly: a full disk only when the disk is full."""

from __future__ import annotations

import errno

from rag.errors import StoreUnavailableError

MAX_DETAIL = 200  # characters of Chroma's own message kept in ours
REBUILD_HINT = "if it is damaged, move that folder away and run `rag ingest` to rebuild it"
_DISK_FULL = (
    "no space left on device",
    "database or disk is full",
    "disk is full",
    "disk quota exceeded",
    f"os error {errno.ENOSPC}",
    f"errno {errno.ENOSPC}",
)


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:MAX_DETAIL] or type(exc).__name__


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is an out-of-space error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if disk_full_text(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def disk_full_text(text: str) -> bool:
    """Whether an error message says the disk (or quota) is full."""
    return any(marker in text.lower() for marker in _DISK_FULL)


def open_hint(exc: BaseException) -> str:
    if is_disk_full(exc):
        return "check free disk space, then try again"
    return REBUILD_HINT


def store_failure(exc: BaseException, where: str, server: bool) -> StoreUnavailableError:
    """One clear error for a Chroma call that failed (not a lost connection)."""
    from chromadb.errors import InternalError

    detail = one_line(exc)
    if is_disk_full(exc):
        return StoreUnavailableError(
            f"The Chroma store at {where} ran out of disk space: {detail}",
            hint="check free disk space, then run `rag ingest` again to finish",
        )
    if "dimension" in detail.lower():
        return StoreUnavailableError(
            f"The Chroma store at {where} holds vectors of another size: {detail}",
            hint="use the model it was built with, or move that folder away and re-ingest",
        )
    if server:
        return StoreUnavailableError(
            f"The Chroma server at {where} failed: {detail}", hint="see the server's log"
        )
    if isinstance(exc, InternalError):
        return StoreUnavailableError(
            f"The Chroma store at {where} is damaged or inconsistent: {detail}", hint=REBUILD_HINT
        )
    return StoreUnavailableError(f"The Chroma store at {where} failed: {detail}")
