"""What a failed Chroma call means, said plainly: a full disk only when the disk is full."""

from __future__ import annotations

import errno
import shutil

from rag.errors import DiskFullError, StoreUnavailableError

MAX_DETAIL = 200  # characters of Chroma's own message kept in ours
REBUILD_HINT = "run `rag repair`, or move that folder away and run `rag ingest` again"
READ_ONLY_HINT = (
    "Chroma writes even to answer: make it writable or set RAG_HOME to a writable folder"
)
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
    for current in _caused(exc):
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if disk_full_text(str(current)):
            return True
    return False


LOW_SPACE_BYTES = 1024 * 1024  # less free than this under the store: a write's failure is that


def _nearly_full(folder: str) -> bool:
    """Whether the disk under an embedded store is (nearly) full. Chroma does not always
    say so when a write meets a full disk ("Error executing plan …"), and calling that
    damage sent users to move their store away."""
    try:
        return shutil.disk_usage(folder).free < LOW_SPACE_BYTES
    except OSError:
        return False


_READ_ONLY = ("readonly database", "read-only file system", "permission denied")


def _caused(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def is_read_only(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the store's files cannot be written."""
    for current in _caused(exc):
        if isinstance(current, OSError) and current.errno in (errno.EROFS, errno.EACCES):
            return True
        if any(marker in str(current).lower() for marker in _READ_ONLY):
            return True
    return False


def disk_full_text(text: str) -> bool:
    """Whether an error message says the disk (or quota) is full."""
    return any(marker in text.lower() for marker in _DISK_FULL)


def open_failure(exc: BaseException, path: object) -> StoreUnavailableError:
    """One clear error for a Chroma store that cannot be opened."""
    if is_read_only(exc):
        return StoreUnavailableError(
            f"The Chroma store at {path} is read-only",
            hint=READ_ONLY_HINT,
        )
    hint = "check free disk space, then try again" if is_disk_full(exc) else REBUILD_HINT
    return StoreUnavailableError(
        f"Cannot open the Chroma store at {path}: {one_line(exc)}", hint=hint
    )


def store_failure(exc: BaseException, where: str, server: bool) -> StoreUnavailableError:
    """One clear error for a Chroma call that failed (not a lost connection)."""
    from chromadb.errors import InternalError

    detail = one_line(exc)
    if is_disk_full(exc) or (not server and _nearly_full(where)):
        return DiskFullError(
            f"The Chroma store at {where} ran out of disk space: {detail}",
            hint="check free disk space, then run `rag ingest` again to finish",
        )
    if is_read_only(exc):
        return StoreUnavailableError(
            f"The Chroma store at {where} is read-only", hint=READ_ONLY_HINT
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
