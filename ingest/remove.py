"""Taking statements out of the store: ``--prune``, ``rag remove`` and the Sources tab.

A statement goes with everything that would bring it back: its record and passages, and,
for an upload, its copy in ``RAG_HOME/uploads`` with its metadata there. Prune judges
only the paths being ingested (issue 22, F1); ``missing_statements`` lists every
statement whose file is gone, for ``rag remove --missing``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ingest import paths as stored_paths
from ingest.metadata import remove_from_sidecar
from rag.errors import StatementNotFoundError, shorten_list
from rag.models import Statement
from rag.settings import Settings
from rag.store.chroma import ChromaStore

logger = logging.getLogger(__name__)


def prune_gone(
    store: ChromaStore, existing: dict[str, Statement], roots: Sequence[Path], home: Path
) -> list[tuple[str, str]]:
    """Remove the statements whose files were under ``roots`` and are gone; their
    ``(id, recorded path)``. Nothing elsewhere: an upload, or a folder that is unmounted
    or renamed, is not this run's to judge (a moved RAG_HOME lost every upload to an
    unrelated ``--prune``)."""
    gone = sorted(
        (sid, s.path)
        for sid, s in existing.items()
        if s.path
        and stored_paths.under(s.path, roots, home)
        and not stored_paths.exists(s.path, home)
    )
    store.delete_statements([sid for sid, _ in gone])
    return gone


def missing_statements(store: ChromaStore, home: Path) -> list[Statement]:
    """Statements whose recorded file is gone (an upload is looked for under ``home``)."""
    return [s for s in store.statements() if s.path and not stored_paths.exists(s.path, home)]


def remove_statements(
    settings: Settings, store: ChromaStore, statement_ids: Sequence[str]
) -> list[Statement]:
    """Remove several statements in one call (the Sources tab's multi-select, ``rag
    remove``): the records, their passages, and each upload's copy with its metadata.

    Checks every id first: one unknown id removes nothing.

    Raises:
        StatementNotFoundError: naming the ids that are not in the store.
    """
    wanted = list(dict.fromkeys(statement_ids))
    stored = {s.statement_id: s for s in store.statements()}
    unknown = [sid for sid in wanted if sid not in stored]
    if unknown:
        raise StatementNotFoundError(
            f"No statement {shorten_list(unknown)}", hint="`rag sources` lists the ingested ones"
        )
    store.delete_statements(wanted)
    removed = [stored[sid] for sid in wanted]
    remove_uploaded_copies(settings, removed)
    return removed


def remove_uploaded_copies(settings: Settings, statements: Sequence[Statement]) -> None:
    """Delete the uploaded copies of removed statements, so that a later ingest of the
    uploads folder does not bring them back, and their entries in its sidecar."""
    folder = settings.uploads_dir
    names = []
    for statement in statements:
        if not statement.path:
            continue
        file = stored_paths.local_path(statement.path, settings.home)
        if file.parent.resolve() == folder.resolve() and file.is_file():
            file.unlink(missing_ok=True)
            names.append(file.name)
    if names:
        remove_from_sidecar(folder, names)
