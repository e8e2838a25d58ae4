"""Incremental ingest: files and web pages -> clean text -> passages -> vectors -> Chroma.

Safe to re-run: a statement whose content hash is unchanged is not written again, a
changed one replaces its passages, ``prune`` drops statements whose files are gone, and
one lock file keeps two ingests off the same data directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from ingest.chunking import chunk
from ingest.discover import FileOutcome, Status, discover
from ingest.document import RawDocument
from ingest.isolation import load_isolated
from ingest.loaders import load_document
from ingest.memory import release_free_memory
from ingest.metadata import SidecarError, merge, one_line, safe_name, sidecar_meta
from ingest.normalize import normalize
from ingest.web import WebReader, is_url, split_urls, url_key, url_statement_id
from ingest.writer import WindowWriter
from rag.encoders.embeddings import PassageEmbedder
from rag.errors import IngestError, IngestLockedError, RagError, StoreUnavailableError
from rag.models import Passage, Statement, StatementMeta
from rag.settings import Settings
from rag.store.chroma import ChromaStore, StatementWrite

logger = logging.getLogger(__name__)

# Bump when normalisation or chunking changes, so every statement is rebuilt once.
PIPELINE_VERSION = "2"  # 2: long runs split, Markdown patterns linear
BUNDLED_CORPUS = Path(__file__).parent / "data" / "statements"

Progress = Callable[[int, int, Path], None]


@dataclass
class _Prepared:
    """A file read, cleaned and chunked, waiting for its vectors."""

    path: Path | str  # a file, or a web page's URL
    statement: Statement
    passages: list[Passage]
    previous: Statement | None


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0
    orphans_removed: int = 0

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def passages_written(self) -> int:
        return sum(o.passages for o in self.outcomes if o.status in ("new", "updated"))

    @property
    def skipped(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "skipped"]

    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("new", "updated", "unchanged", "skipped", "removed")}


@dataclass
class _Tally:
    """Outcomes and progress of the windows whose writes have finished."""

    report: IngestReport
    existing: dict[str, Statement]
    progress: Progress | None
    total: int
    done: int = 0

    def settled(self, window: list[FileOutcome | _Prepared] | None) -> None:
        for entry in window or ():
            if isinstance(entry, _Prepared):
                sid = entry.statement.statement_id
                self.existing[sid] = entry.statement.model_copy(update={"text": None})
                status: Status = "updated" if entry.previous else "new"
                outcome = FileOutcome(str(entry.path), status, sid, len(entry.passages))
            else:
                outcome = entry
                if outcome.status == "skipped":
                    logger.info("skipped %s: %s", outcome.path, outcome.reason)
            self.report.outcomes.append(outcome)
            self.done += 1
            if self.progress:
                self.progress(self.done, self.total, Path(outcome.path))


def _guarded(
    path: Path | str, prepare: Callable[[], FileOutcome | _Prepared]
) -> FileOutcome | _Prepared:
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


def statement_id_for(path: Path) -> str:
    """A readable id from the file name (``004_8209.txt`` -> ``004_8209``)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.") or "statement"
    return stem[:80]


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
        """``isolate``: read each file in a worker process within a time budget (uploads
        in the app: no file may stall the questions being answered meanwhile).
        ``overlap_writes``: write a window to the store on a background thread while the
        next window is embedded (``ingest.writer``).
        ``web``: reads the URLs among the paths (default: one made on first use)."""
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.isolate = isolate
        self.overlap_writes = overlap_writes
        self.web = web
        self._writer: WindowWriter[list[FileOutcome | _Prepared]] | None = None

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
        statements).

        Takes the ingest lock unless the caller already holds it (``locked``)."""
        files = list(paths or [BUNDLED_CORPUS])
        if locked:
            return self._run(files, overrides, prune, progress)
        with ingest_lock(self.settings, wait):
            return self._run(files, overrides, prune, progress)

    def _run(
        self,
        paths: list[Path | str],
        overrides: StatementMeta | None,
        prune: bool,
        progress: Progress | None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        existing = {s.statement_id: s for s in self.store.statements()}
        report.orphans_removed = self.store.delete_orphans(existing)  # one listing for both
        urls, local = split_urls(paths)
        files, problems = discover(local)
        report.outcomes.extend(problems)
        items: list[Path | str] = [*files, *urls]
        known = {s.path: sid for sid, s in existing.items() if s.path}  # path -> its id
        taken: dict[str, str] = {}  # ids claimed in this run -> path
        window: list[FileOutcome | _Prepared] = []
        size = 0
        tally = _Tally(report, existing, progress, len(items))
        self._writer = writer = WindowWriter[list[FileOutcome | _Prepared]](self.overlap_writes)
        try:
            for path in items:
                prepare = partial(self._prepare, path, overrides, existing, taken, known)
                item = _guarded(path, prepare)
                window.append(item)
                size += len(item.passages) if isinstance(item, _Prepared) else 0
                if size >= self.settings.ingest_batch:  # embedded and written together
                    tally.settled(writer.submit(self._flush(window), window))
                    window, size = [], 0
                    # the embedding's freed buffers, else kept by malloc as the store grows
                    release_free_memory()
            tally.settled(writer.submit(self._flush(window), window))
            tally.settled(writer.settle())
        finally:
            writer.close()  # no write outlives the run (and its lock)
            self._writer = None
        if prune:
            report.outcomes.extend(self._prune(existing))
        self.store.touch()  # readers elsewhere re-list, even after an interrupted run
        report.seconds = time.perf_counter() - started
        return report

    def _flush(self, window: list[FileOutcome | _Prepared]) -> Callable[[], None]:
        """Embed the window's passages (here, in slices), and return the write of its
        statements (few Chroma calls for the whole window), to run after the previous
        window's write."""
        todo = [item for item in window if isinstance(item, _Prepared)]
        passages = [p for item in todo for p in item.passages]
        if passages:  # nothing new: the model is not even loaded
            # a RagError here (model missing) stops the run before this window is written
            vectors, sentence_vectors = self._embed(passages)
        writes: list[StatementWrite] = []
        offset = 0
        for item in todo:
            n = len(item.passages)
            writes.append(
                StatementWrite(
                    item.statement,
                    item.passages,
                    vectors[offset : offset + n],
                    sentence_vectors[offset : offset + n],
                )
            )
            offset += n
        return partial(self.store.write_statements, writes)

    def _embed(self, passages: list[Passage]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors in slices of ``ingest_batch`` passages: the embedder holds every token
        vector of a call, so one 1 MB file in one call grew peak memory by 0.2 GB."""
        batch = self.settings.ingest_batch
        parts: list[np.ndarray] = []
        sentence_vectors: list[np.ndarray] = []
        for i in range(0, len(passages), batch):
            part = passages[i : i + batch]
            vectors, sentences = self.embedder.embed_passages(
                [p.text for p in part],
                [[(s - p.start, e - p.start) for s, e in p.sentences] for p in part],
            )
            parts.append(vectors)
            sentence_vectors.extend(sentences)
        return np.concatenate(parts), sentence_vectors

    def _prepare(
        self,
        path: Path | str,
        overrides: StatementMeta | None,
        existing: dict[str, Statement],
        taken: dict[str, str],
        known: dict[str, str],
    ) -> FileOutcome | _Prepared:
        raw, resolved, sidecar = self._read(path)
        meta = merge(overrides, sidecar, raw.meta, where=safe_name(str(path)))
        clean = normalize(raw)
        if not clean.paragraphs:
            return FileOutcome(str(path), "skipped", reason="no text left after cleaning")
        sid = self._claim_id(path, resolved, existing, taken, known)
        content_hash = self._hash(clean.text, meta)
        previous = existing.get(sid)
        if previous and previous.content_hash == content_hash:
            if previous.path != resolved:  # moved: the same statement at a new path
                self._move(previous, resolved, existing)
            return FileOutcome(str(path), "unchanged", sid, previous.passages)
        passages = chunk(sid, clean, self.settings.max_passage_chars)
        statement = Statement(
            statement_id=sid,
            **meta.model_dump(exclude={"source"}),
            source=meta.source or (path if isinstance(path, str) else path.name),
            path=resolved,
            content_hash=content_hash,
            passages=len(passages),
            text=clean.text,
        )
        return _Prepared(path, statement, passages, previous)

    def _read(self, path: Path | str) -> tuple[RawDocument, str, StatementMeta]:
        """The document, its identity (resolved path or URL) and its sidecar metadata."""
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
        return raw, resolved, sidecar_meta(path)

    def _move(self, previous: Statement, resolved: str, existing: dict[str, Statement]) -> None:
        """Record a moved file's new path (so ``prune`` keeps it); nothing is re-embedded."""
        sid = previous.statement_id
        if self._writer is not None:
            self._writer.settle()  # one store operation at a time
        try:
            self.store.statements_collection.update(ids=[sid], metadatas=[{"path": resolved}])
        except Exception as exc:  # chromadb's own errors: the store, not this file
            raise StoreUnavailableError(
                f"The Chroma store failed: {one_line(exc)}", hint="check free disk space"
            ) from exc
        existing[sid] = previous.model_copy(update={"path": resolved})
        logger.info("%s moved from %s", safe_name(resolved), safe_name(previous.path or "?"))

    def _claim_id(
        self,
        path: Path | str,
        resolved: str,
        existing: dict[str, Statement],
        taken: dict[str, str],
        known: dict[str, str],
    ) -> str:
        """The file's id; another file already owning it gets a path-hash suffix.

        A file keeps the id it was stored under: when the owner of the plain id is gone,
        the file with the suffixed id must not move to the plain one (that would store
        it twice, and prune would keep both)."""
        previous = known.get(resolved)
        if previous is not None and previous not in taken:
            taken[previous] = resolved
            return previous
        sid = url_statement_id(path) if isinstance(path, str) else statement_id_for(path)
        owner = taken.get(sid) or (existing[sid].path if sid in existing else None)
        if owner and owner != resolved and (sid in taken or Path(owner).exists()):
            sid = f"{sid}-{hashlib.sha256(resolved.encode()).hexdigest()[:6]}"
        taken[sid] = resolved
        return sid

    def _hash(self, text: str, meta: StatementMeta) -> str:
        payload = json.dumps(
            [
                PIPELINE_VERSION,
                self.embedder.model_name,
                self.settings.max_passage_chars,
                meta.model_dump(),
                text,
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:20]

    def _prune(self, existing: dict[str, Statement]) -> list[FileOutcome]:
        removed = []
        for sid, statement in sorted(existing.items()):
            if statement.path and not is_url(statement.path) and not Path(statement.path).exists():
                self.store.delete_statement(sid)
                removed.append(FileOutcome(statement.path, "removed", sid))
        return removed
