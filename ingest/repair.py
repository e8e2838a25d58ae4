"""``rag repair``: find what is damaged in the embedded store, and rebuild it.

What it finds (``check_store``): a vector index whose files do not hold together (an
overwritten ``data_level0.bin`` crashed every command), statements missing passages
(rows lost from the database: questions silently abstained and ``rag ingest`` said
"unchanged"), passages or statement records whose metadata cannot be read, and passages
whose text is not their statement's ``text[start:end]``. Records are read from the
database file itself (``rag.store.raw``): embedded Chroma loads the vector index even to
list records, and a damaged one crashes it.

How it rebuilds (``repair_store``): every statement keeps its id and its stored metadata
(organization, date … and the content hash, so the next ingest finds it unchanged); its
passages are cut again from its stored clean text (or, when that is gone, from its file)
and embedded again into a new store beside the old one. The new store then takes the old
one's place; the old one is kept beside it (``chroma.damaged-…``), nothing is deleted.
Run it with the app stopped: a running app keeps reading the old folder until restarted.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest import paths as stored_paths
from ingest.chunking import chunk
from ingest.embed import embedded_writes
from ingest.loaders import load_document
from ingest.normalize import from_clean_text, normalize
from ingest.space import check_space, needed_bytes
from rag.encoders.embeddings import PassageEmbedder
from rag.errors import IngestError, RagError
from rag.models import Passage, Statement
from rag.settings import Settings
from rag.store.check import index_problems
from rag.store.chroma import ChromaStore
from rag.store.embedded import close_embedded
from rag.store.raw import raw_records
from rag.store.records import DAMAGED, to_passage, to_statement

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the store, said in one line."""

    what: str
    statement_ids: tuple[str, ...] = ()


@dataclass
class RepairReport:
    findings: list[Finding] = field(default_factory=list)
    statements: int = 0  # statement records read
    rebuilt: list[str] = field(default_factory=list)  # ids rebuilt (or that would be)
    from_files: list[str] = field(default_factory=list)  # ids whose text came from the file
    lost: list[str] = field(default_factory=list)  # no stored text, no file: not rebuilt
    passages: int = 0
    kept_at: Path | None = None  # where the replaced store was moved


@dataclass
class _Records:
    statements: dict[str, Statement]  # with their texts
    findings: list[Finding]


def _read(settings: Settings) -> _Records:
    """Every statement record with its text, and what is wrong with records and passages
    (read from the database file: never through the vector index)."""
    if settings.chroma_url:
        raise RagError(
            "`rag repair` works on the embedded store under RAG_HOME",
            hint="a Chroma server keeps its own data: see its documentation",
        )
    chroma, prefix = settings.chroma_path, settings.collection_prefix
    if not (chroma / "chroma.sqlite3").is_file():
        raise RagError(f"No store at {chroma}", hint="run `rag ingest` first")
    findings: list[Finding] = []
    statements: dict[str, Statement] = {}
    for record in raw_records(chroma, f"{prefix}_statements"):
        sid = record.record_id
        try:
            statements[sid] = to_statement(sid, record.meta, record.document or None)
        except DAMAGED as exc:
            findings.append(Finding(f"statement record {sid}: damaged metadata ({exc})", (sid,)))
    held: Counter[str] = Counter()
    garbled: set[str] = set()
    wrong: set[str] = set()
    orphans = 0
    for record in raw_records(chroma, f"{prefix}_passages", skip_keys=("svec",)):
        pid, meta = record.record_id, record.meta
        # a passage id is ``statement_id:digest`` (``ingest.chunking.passage_id``)
        sid = str(meta.get("statement_id") or pid.rpartition(":")[0])
        owner = statements.get(sid)
        if owner is None:
            orphans += 1
            continue
        held[sid] += 1
        try:
            passage = to_passage(pid, meta, record.document or "")
        except DAMAGED:
            garbled.add(sid)
            continue
        if (owner.text or "")[passage.start : passage.end] != passage.text:
            wrong.add(sid)
    missing = sorted(sid for sid, s in statements.items() if held[sid] < s.passages)
    for ids, what in (
        (missing, "miss passages (rows lost from the database)"),
        (sorted(garbled), "have passages whose metadata cannot be read"),
        (sorted(wrong), "have passages that are not their text's span"),
    ):
        if ids:
            shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
            findings.append(Finding(f"{len(ids)} statement(s) {what}: {shown}", tuple(ids)))
    if orphans:
        findings.append(Finding(f"{orphans} passage(s) belong to no statement"))
    return _Records(statements, findings)


def check_store(settings: Settings) -> tuple[list[Finding], dict[str, Statement]]:
    """What is wrong with the store (nothing: an empty list), and its statements."""
    index = [
        Finding(f"vector index {segment}: {problem}")
        for segment, problem in index_problems(settings.chroma_path, use_stamp=False)
    ]
    records = _read(settings)
    return index + records.findings, records.statements


def repair_store(
    settings: Settings,
    embedder: PassageEmbedder,
    dry_run: bool = False,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RepairReport:
    """Rebuild the store when ``check_store`` finds something (or ``force``). The caller
    holds the ingest lock."""
    findings, statements = check_store(settings)
    report = RepairReport(findings=findings, statements=len(statements))
    if not findings and not force:
        return report
    todo: list[tuple[Statement, list[Passage]]] = []
    for sid, statement in sorted(statements.items()):
        text = statement.text or _text_from_file(statement, settings)
        if not text:
            report.lost.append(sid)
            continue
        if not statement.text:
            report.from_files.append(sid)
        passages = chunk(sid, from_clean_text(text), settings.max_passage_chars)
        todo.append((statement.model_copy(update={"text": text}), passages))
        report.rebuilt.append(sid)
        report.passages += len(passages)
    if dry_run:
        return report
    check_space(settings.home, needed_bytes([p for _, ps in todo for p in ps]))
    report.kept_at = _rebuild(settings, embedder, todo, progress)
    return report


def _text_from_file(statement: Statement, settings: Settings) -> str | None:
    """A statement's clean text read again from its file, when the store lost it."""
    if not statement.path:
        return None
    file = stored_paths.local_path(statement.path, settings.home)
    try:
        max_bytes = int(settings.max_file_mb * 1024 * 1024)
        return normalize(load_document(file, max_bytes=max_bytes)).text or None
    except (IngestError, OSError) as exc:
        logger.warning("%s: cannot be read again (%s)", statement.statement_id, exc)
        return None


def _rebuild(
    settings: Settings,
    embedder: PassageEmbedder,
    todo: list[tuple[Statement, list[Passage]]],
    progress: Callable[[int, int], None] | None,
) -> Path:
    """Write ``todo`` into a new store beside the old one, then swap them; where the old
    one was kept."""
    chroma = settings.chroma_path
    fresh = settings.home / f"chroma.repair-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    store = ChromaStore.embedded_at(fresh, settings.collection_prefix)
    window: list[tuple[Statement, list[Passage]]] = []
    size = done = 0
    try:
        for item in todo:
            window.append(item)
            size += len(item[1])
            if size >= settings.ingest_batch:
                store.write_statements(embedded_writes(embedder, window, settings.ingest_batch))
                done += len(window)
                window, size = [], 0
                if progress:
                    progress(done, len(todo))
        store.write_statements(embedded_writes(embedder, window, settings.ingest_batch))
        store.touch()
    except BaseException:
        close_embedded(fresh)
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    del store
    close_embedded(fresh)
    close_embedded(chroma)
    kept = settings.home / f"chroma.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    os.rename(chroma, kept)
    os.rename(fresh, chroma)
    # derived from the store: rebuilt from the new one on the next question
    shutil.rmtree(settings.keyword_dir / settings.collection_prefix, ignore_errors=True)
    logger.info("repaired the store at %s; the old one is kept at %s", chroma, kept)
    return kept
