"""Files handed in through the UI: copied into the data directory under a safe name, then
ingested like any other statement file. No UI imports: the faces call ``ingest_uploads``."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.metadata import (
    SIDECAR,
    SidecarError,
    one_line,
    parse_sidecar,
    remove_from_sidecar,
    update_sidecar,
)
from ingest.pipeline import Ingestor
from rag.dates import is_valid_date
from rag.encoders.embeddings import PassageEmbedder
from rag.errors import RagError
from rag.models import StatementMeta
from rag.settings import Settings
from rag.store.chroma import ChromaStore

logger = logging.getLogger(__name__)

UPLOAD_TYPES = tuple(sorted(SUPPORTED_SUFFIXES))  # what ingest reads, from one place
Progress = Callable[[int, int, Path], None]


def upload_name(name: str) -> str:
    """A safe file name for an upload: letters (any script), digits, ``_ . -`` only, no path.

    ``Déclaration.txt`` stays ``Déclaration.txt``: only characters that are not letters or
    digits (spaces, slashes, controls, …) become ``-``."""
    base = Path(unicodedata.normalize("NFC", name).replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    suffix = re.sub(r"[^\w.]+", "", suffix)
    stem = re.sub(r"[^\w.-]+", "-", stem).strip("-.")[:80] or "upload"
    return f"{stem}{suffix}"


def save_upload(folder: Path, source: Path) -> Path:
    """Copy ``source`` into ``folder`` under its safe name and return where it went.

    If a file with other content already has that name (``a b.txt`` after ``a-b.txt``,
    ``x.TXT`` after ``x.txt``, a second ``Заявление.txt``), the name gets a short hash of
    the content: a later upload is a new statement and never replaces an earlier one
    (even another organization's). Identical content keeps the name ("unchanged")."""
    name = upload_name(source.name)
    target = folder / name
    try:
        with source.open("rb") as src, target.open("xb") as dst:  # "x": never overwrite
            shutil.copyfileobj(src, dst)
        return target
    except FileExistsError:
        if _same_content(target, source):
            return target
    hashed = folder / f"{Path(name).stem}-{_digest(source)[:10]}{Path(name).suffix}"
    if not _same_content(hashed, source):  # content-addressed: rewriting it is harmless
        shutil.copyfile(source, hashed)
    return hashed


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _same_content(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_size == b.stat().st_size and _digest(a) == _digest(b)
    except OSError:
        return False


def merge_sidecar(settings: Settings, sidecar: Path) -> tuple[str, str]:
    """Merge an uploaded ``statements.json`` into the uploads folder's; ``(status, note)``.

    Checked by the same validator as a folder's sidecar in ``rag ingest``
    (``ingest.metadata.parse_sidecar``): only text values that pass its checks are kept,
    keys that are not plain file names are refused, and each refusal is named in the
    note. Its keys become the names the files are saved under."""
    try:
        parsed = parse_sidecar(Path(sidecar).read_text(encoding="utf-8"), SIDECAR)
    except (OSError, UnicodeDecodeError) as exc:
        return "error", f"{SIDECAR}: not valid JSON ({one_line(exc)})"
    except SidecarError as exc:
        return "error", str(exc)
    entries = {upload_name(name): fields for name, fields in parsed.entries.items()}
    update_sidecar(settings.uploads_dir, entries, replace=True)
    note = f"{SIDECAR}: metadata for {len(entries)} file(s)"
    ignored = [line for lines in parsed.problems.values() for line in lines]
    if ignored:
        note += f"; {len(ignored)} value(s) ignored: " + "; ".join(ignored[:3])
        note += " …" if len(ignored) > 3 else ""
    return "metadata", note


@dataclass
class UploadReport:
    """What an upload did: one ``(status, message)`` line per file for the report, and
    which files are in the store. A run stopped by the store (a full disk) keeps what
    it committed: ``committed`` names them, ``not_committed`` the others, ``error`` why."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)
    not_committed: list[str] = field(default_factory=list)
    error: str | None = None


def ingest_uploads(
    settings: Settings,
    store: ChromaStore,
    embedder: PassageEmbedder,
    files: Sequence[str | Path],
    meta: StatementMeta,
    progress: Progress | None = None,
    wait: float = 30.0,
) -> list[tuple[str, str]]:
    """``(status, message)`` per file. Only a sanitised copy of each upload is read."""
    return upload_files(settings, store, embedder, files, meta, progress, wait).lines


def upload_files(
    settings: Settings,
    store: ChromaStore,
    embedder: PassageEmbedder,
    files: Sequence[str | Path],
    meta: StatementMeta,
    progress: Progress | None = None,
    wait: float = 30.0,
) -> UploadReport:
    """Copy ``files`` into ``RAG_HOME/uploads`` and ingest the copies.

    The form's metadata (``meta``) is also written beside each copy, in the uploads
    folder's ``statements.json``, so that a rebuild of the data directory (``rag
    repair``, or ``rag ingest`` of the folder) keeps it. A copy whose content the store
    already holds is not kept. Raises ``RagError`` when nothing could be committed."""
    if not files:
        raise RagError("Choose one or more files first")
    if meta.date and not is_valid_date(meta.date):
        raise RagError(f"Not a date: {meta.date!r}", hint="use YYYY, YYYY-MM or YYYY-MM-DD")
    limit = settings.max_upload_mb * 1024 * 1024
    result = UploadReport()
    saved: list[Path] = []
    folder = settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    for item in files:
        source = Path(item)
        name = upload_name(source.name)
        if Path(name).suffix not in UPLOAD_TYPES:
            result.lines.append(("skipped", f"{name}: only {' '.join(UPLOAD_TYPES)} files"))
        elif source.stat().st_size > limit:
            result.lines.append(("skipped", f"{name}: larger than {settings.max_upload_mb} MB"))
        else:
            target = save_upload(folder, source)
            if target not in saved:  # the same file twice in one upload
                saved.append(target)
    if not saved:
        return result
    typed = {k: v for k, v in meta.model_dump().items() if v}
    if typed:
        update_sidecar(folder, {path.name: typed for path in saved}, replace=False)
    ingestor = Ingestor(settings, store, embedder, isolate=True)  # parsed in a worker
    try:
        report = ingestor.run(saved, meta, progress=progress, wait=wait)
    except RagError:
        report = ingestor.last_report
        if not report.outcomes:
            raise  # nothing was committed: the error alone says it all
    logger.info("uploaded: %s", report.summary())
    for o in report.outcomes:
        name = Path(o.path).name
        if o.status == "skipped":
            result.lines.append(("skipped", f"{name}: {o.reason}"))
        elif o.reason:  # a copy of a statement already there
            result.lines.append((o.status, f"{name} → {o.statement_id} ({o.reason})"))
        else:
            result.lines.append((o.status, f"{name} → {o.statement_id} ({o.passages} passages)"))
        if o.status in ("new", "updated", "unchanged"):
            result.committed.append(name)
    # a twin's reason is Twin.reason ("same content as …"); an error's may hold "same" too
    twins = [Path(o.path) for o in report.outcomes if (o.reason or "").startswith("same ")]
    _drop_copies(folder, twins)
    if report.error is not None:
        result.error = report.error
        result.not_committed = [Path(name).name for name in report.not_committed]
        names = ", ".join(result.not_committed) or "none"
        result.lines.append(("error", f"{report.error} — not committed: {names}"))
    return result


def _drop_copies(folder: Path, copies: Sequence[Path]) -> None:
    """Remove uploaded copies of content the store already held (and their metadata):
    the statement they repeat is the one kept."""
    for copy in copies:
        if copy.parent.resolve() == folder.resolve():
            copy.unlink(missing_ok=True)
    remove_from_sidecar(folder, [copy.name for copy in copies])
