"""Incremental ingest: files and web pages -> clean text -> passages -> vectors -> Chroma.

Safe to re-run: a statement whose content hash is unchanged is not written again, a
changed one replaces its passages, a moved or copied file is recognised by its content
(``ingest.identity``), ``prune`` drops statements whose files are gone from the paths
being ingested, and one lock file keeps two ingests off the same data directory. Each
window is checked for disk space before it is written (``ingest.space``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path

from filelock import FileLock, Timeout

from ingest import paths as stored_paths
from ingest.chunking import chunk
from ingest.discover import FileOutcome, discover
from ingest.document import RawDocument
from ingest.embed import embedded_writes
from ingest.identity import Identities, Twin, statement_id_for, text_digest
from ingest.isolation import load_isolated
from ingest.loaders import load_document
from ingest.memory import release_free_memory
from ingest.metadata import SidecarError, merge, one_line, safe_name, sidecar_meta
from ingest.normalize import normalize
from ingest.remove import prune_gone
from ingest.report import IngestReport, Prepared, Progress, Tally
from ingest.space import check_space, disk_full, needed_bytes
from ingest.web import WebReader, split_urls, url_key
from ingest.writer import WindowWriter
from rag.encoders.embeddings import PassageEmbedder
from rag.errors import (
    DiskFullError,
    IngestError,
    IngestLockedError,
    RagError,
    StoreUnavailableError,
)
from rag.models import Statement, StatementMeta
from rag.priority import FOREGROUND, one_core
from rag.settings import Settings
from rag.store.chroma import ChromaStore, StatementWrite

__all__ = [
    "BUNDLED_CORPUS",
    "IngestReport",
    "Ingestor",
    "Progress",
    "ingest_lock",
    "statement_id_for",
]

logger = logging.getLogger(__name__)

# Bump when normalisation or chunking changes, so every statement is rebuilt once.
PIPELINE_VERSION = "2"  # 2: long runs split, Markdown patterns linear
BUNDLED_CORPUS = Path(__file__).parent / "data" / "statements"
UPLOAD_SLICE = 16  # passages embedded at a time by an upload in the app
YIELD_SECONDS = 1.0  # the longest an upload's slice waits for questions in progress


def _guarded(
    path: Path | str, prepare: Callable[[], FileOutcome | Prepared]
) -> FileOutcome | Prepared:
    """Run ``prepare`` for one file. Nothing a file holds stops the run: any failure is
    this file's one skip line (the traceback only in the debug log)."""
    try:
        return prepare()
    except (IngestError, SidecarError) as exc:
        return FileOutcome(str(path), "skipped", reason=str(exc))
    except RagError:  # the store or the model, not this file: the run stops
        raise
    except RecursionError:
        logger.debug("%s", safe_name(str(path)), exc_info=True)
        return FileOutcome(str(path), "skipped", reason="nested too deeply to read")
    except MemoryError:
        return FileOutcome(str(path), "skipped", reason="too large to read in memory")
    except Exception as exc:  # a parser's bug must not cost the other files their run
        logger.debug("%s", safe_name(str(path)), exc_info=True)
        reason = f"cannot be read ({type(exc).__name__}: {one_line(exc)[:200]})"
        return FileOutcome(str(path), "skipped", reason=reason)


def _forget_partial(store: ChromaStore, existing: dict[str, Statement]) -> None:
    """Statements missing some of their passages (rows lost from the store) are not
    "unchanged": their files are written again when this run reads them, and the
    others are named, with the command that rebuilds them (F16)."""
    partial_ids = store.partial_statements(existing)
    for sid in partial_ids:
        existing[sid] = existing[sid].model_copy(update={"content_hash": ""})
    if partial_ids:
        logger.warning(
            "%d statement(s) miss passages in the store (%s): they are rewritten when "
            "their files are ingested; `rag repair` rebuilds them all",
            len(partial_ids),
            ", ".join(partial_ids[:5]) + (" …" if len(partial_ids) > 5 else ""),
        )


def _content_hash(model: str, max_chars: int, meta: StatementMeta, text: str) -> str:
    """What makes a stored statement current: the pipeline, model, passage size,
    metadata and clean text it was written with."""
    payload = json.dumps(
        [PIPELINE_VERSION, model, max_chars, meta.model_dump(), text], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


@contextmanager
def ingest_lock(settings: Settings, wait: float = 0.0) -> Iterator[None]:
    """Hold the data directory's ingest lock, waiting up to ``wait`` seconds for it.

    A new process takes it *before* opening the store: two processes creating the same
    embedded Chroma database at once collide inside SQLite, not on this lock.
    """
    lock = FileLock(str(settings.lock_path))
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=wait)
    except Timeout as exc:
        raise IngestLockedError(
            f"Another ingest is running on {settings.home}",
            hint="wait for it to finish, or pass --wait SECONDS",
        ) from exc
    except OSError as exc:  # a read-only or unwritable data directory
        raise StoreUnavailableError(
            f"Cannot use the data directory {settings.home}: {exc.strerror or exc}",
            hint="set RAG_HOME to a writable folder",
        ) from exc
    try:
        yield
    finally:
        lock.release()


class Ingestor:
    """Writes statements into the store. Built once, ``run`` as often as needed."""

    def __init__(
        self,
        settings: Settings,
        store: ChromaStore,
        embedder: PassageEmbedder,
        isolate: bool = False,
        overlap_writes: bool = True,
        web: WebReader | None = None,
    ):
        """``isolate``: read each file in a worker process within a time budget, and embed
        in small slices that yield to questions being answered (uploads in the app: no
        file may stall the questions answered meanwhile).
        ``overlap_writes``: write a window to the store on a background thread while the
        next window is embedded (``ingest.writer``).
        ``web``: reads the URLs among the paths (default: one made on first use)."""
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.isolate = isolate
        self.overlap_writes = overlap_writes
        self.web = web
        self.last_report = IngestReport()  # also of a run that raised: what it committed
        self._writer: WindowWriter[list[FileOutcome | Prepared]] | None = None
        self._in_flight = 0  # bytes the window being written may still add

    def run(
        self,
        paths: Sequence[Path | str] | None = None,
        overrides: StatementMeta | None = None,
        prune: bool = False,
        progress: Progress | None = None,
        wait: float = 0.0,
        locked: bool = False,
    ) -> IngestReport:
        """Ingest files, folders and web pages (URLs as ``str``; default: the bundled
        statements). ``prune`` removes the statements whose files are gone from these
        paths (and only from them; never a web page).

        Takes the ingest lock unless the caller already holds it (``locked``)."""
        files = list(paths or [BUNDLED_CORPUS])
        if locked:
            return self._run(files, overrides, prune, progress)
        with ingest_lock(self.settings, wait):
            return self._run(files, overrides, prune, progress)

    def _run(
        self,
        roots: list[Path | str],
        overrides: StatementMeta | None,
        prune: bool,
        progress: Progress | None,
    ) -> IngestReport:
        started = time.perf_counter()
        self.last_report = report = IngestReport()
        existing = {s.statement_id: s for s in self.store.statements()}
        report.orphans_removed = self.store.delete_orphans(existing)  # one listing for both
        _forget_partial(self.store, existing)
        urls, local = split_urls(roots)
        found, problems = discover(local)
        report.outcomes.extend(problems)
        files: list[Path | str] = [*found, *urls]
        identities = Identities(existing, self.settings.home)
        window: list[FileOutcome | Prepared] = []
        size = 0
        tally = Tally(report, existing, progress, len(files))
        self._writer = writer = WindowWriter[list[FileOutcome | Prepared]](self.overlap_writes)
        try:
            for path in files:
                prepare = partial(self._prepare, path, overrides, existing, identities)
                item = _guarded(path, prepare)
                window.append(item)
                size += len(item.passages) if isinstance(item, Prepared) else 0
                if size >= self.settings.ingest_batch:  # embedded and written together
                    tally.settled(writer.submit(self._flush(window), window))
                    window, size = [], 0
                    # the embedding's freed buffers, else kept by malloc as the store grows
                    release_free_memory()
            tally.settled(writer.submit(self._flush(window), window))
            tally.settled(writer.settle())
        except RagError as exc:
            try:  # the window being written when this one was refused: it counts
                tally.settled(writer.settle())
            except Exception:
                logger.debug("the write in flight failed too", exc_info=True)
            report.error = str(exc)
            done = {o.path for o in report.outcomes}
            report.not_committed = [name for f in files if (name := safe_name(str(f))) not in done]
            raise
        finally:
            writer.close()  # no write outlives the run (and its lock)
            self._writer = None
            self._in_flight = 0
        if prune:
            removed = prune_gone(self.store, existing, local, self.settings.home)
            report.outcomes.extend(FileOutcome(path, "removed", sid) for sid, path in removed)
        self.store.touch()  # readers elsewhere re-list, even after an interrupted run
        report.seconds = time.perf_counter() - started
        return report

    def _flush(self, window: list[FileOutcome | Prepared]) -> Callable[[], None]:
        """Embed the window's passages (here, in slices), and return the write of its
        statements (few Chroma calls for the whole window), to run after the previous
        window's write. A window the disk has no room for is refused before it is
        embedded: the store is left as it was, answering."""
        todo = [item for item in window if isinstance(item, Prepared)]
        passages = [p for item in todo for p in item.passages]
        needed = needed_bytes(passages) if passages else 0
        if passages and not self.settings.chroma_url:
            check_space(self.settings.chroma_path, needed + self._in_flight)
        # a RagError here (model missing) stops the run before this window is written;
        # nothing new: the model is not even loaded
        batch = UPLOAD_SLICE if self.isolate else self.settings.ingest_batch
        pause = partial(FOREGROUND.wait_idle, YIELD_SECONDS) if self.isolate else None
        with one_core() if self.isolate else nullcontext():  # the app's answers go first
            writes = embedded_writes(
                self.embedder, [(i.statement, i.passages) for i in todo], batch, pause
            )
        self._in_flight = needed
        return partial(self._write, writes, needed)

    def _write(self, writes: list[StatementWrite], needed: int) -> None:
        try:
            self.store.write_statements(writes)
        except DiskFullError as exc:  # the estimate was short: say what it was
            raise disk_full(needed, self.settings.chroma_path) from exc

    def _prepare(
        self,
        path: Path | str,
        overrides: StatementMeta | None,
        existing: dict[str, Statement],
        identities: Identities,
    ) -> FileOutcome | Prepared:
        raw, stored, sidecar = self._read(path)
        meta = merge(overrides, sidecar, raw.meta, where=safe_name(str(path)))
        clean = normalize(raw)
        if not clean.paragraphs:
            return FileOutcome(str(path), "skipped", reason="no text left after cleaning")
        text_hash = text_digest(clean.text)
        claim = identities.claim(path, stored, raw.digest, text_hash)
        if isinstance(claim, Twin):  # its content is already a statement: never twice
            twin = claim.statement
            if claim.same_bytes:
                return FileOutcome(
                    str(path), "unchanged", twin.statement_id, twin.passages, claim.reason
                )
            return FileOutcome(str(path), "skipped", reason=claim.reason)
        sid = claim
        content_hash = _content_hash(
            self.embedder.model_name, self.settings.max_passage_chars, meta, clean.text
        )
        previous = existing.get(sid)
        if previous and previous.content_hash == content_hash:
            found = {"path": stored, "file_hash": raw.digest, "text_hash": text_hash}
            self._annotate(previous, found, existing)
            return FileOutcome(str(path), "unchanged", sid, previous.passages)
        passages = chunk(sid, clean, self.settings.max_passage_chars)
        if len(passages) > self.settings.max_file_passages:
            reason = (
                f"{len(passages)} passages, over the limit of {self.settings.max_file_passages} "
                "per file (split the file, or raise RAG_MAX_FILE_PASSAGES)"
            )
            return FileOutcome(str(path), "skipped", reason=reason)
        statement = Statement(
            statement_id=sid,
            **meta.model_dump(exclude={"source"}),
            source=meta.source or (path if isinstance(path, str) else path.name),
            path=stored,
            content_hash=content_hash,
            passages=len(passages),
            text=clean.text,
            file_hash=raw.digest,
            text_hash=text_hash,
        )
        identities.remember(statement.model_copy(update={"text": None}))
        return Prepared(path, statement, passages, previous)

    def _read(self, path: Path | str) -> tuple[RawDocument, str, StatementMeta]:
        """The document, its recorded identity (a file's path, under RAG_HOME relative to
        it; a web page's URL) and its sidecar metadata."""
        if isinstance(path, str):  # a web page: its URL is its identity
            self.web = self.web or WebReader(self.settings)  # robots.txt read once per site
            return self.web.read(path), url_key(path), StatementMeta()
        resolved = str(path.resolve()) if not path.is_symlink() else str(path.absolute())
        try:
            resolved.encode("utf-8")
        except UnicodeEncodeError:
            raise IngestError(
                "file name is not valid UTF-8", hint="rename it, e.g. with convmv"
            ) from None
        max_bytes = int(self.settings.max_file_mb * 1024 * 1024)
        if self.isolate:
            raw = load_isolated(path, max_bytes)
        else:
            raw = load_document(path, max_bytes=max_bytes)
        return raw, stored_paths.to_stored(resolved, self.settings.home), sidecar_meta(path)

    def _annotate(
        self, previous: Statement, found: dict[str, str], existing: dict[str, Statement]
    ) -> None:
        """Record what changed of an unchanged statement's file: its path (a move, or an
        upload recorded before paths under RAG_HOME were relative) and the digests a store
        written before them lacks. Nothing is re-embedded."""
        update = {k: v for k, v in found.items() if getattr(previous, k) != v}
        if not update:
            return
        if self._writer is not None:
            self._writer.settle()  # one store operation at a time
        self.store.update_statement(previous.statement_id, update)
        existing[previous.statement_id] = previous.model_copy(update=update)
        if "path" in update:
            old = safe_name(previous.path or "?")
            logger.info("%s moved from %s", safe_name(found["path"]), old)
