"""The records of an embedded store read straight from its SQLite file, without Chroma.

``rag repair`` must read a store whose vector index is damaged, and embedded Chroma 1.5
loads that index even to list a collection's records: an overwritten ``data_level0.bin``
crashed a plain ``get`` (segmentation fault). The records themselves (ids, metadata,
documents) live in Chroma's SQLite tables; reading them read-only touches nothing else.
This knows Chroma 1.5's schema (``collections``, ``segments``, ``embeddings``,
``embedding_metadata`` and ``embedding_metadata_array``): another schema is one clear
error, never a guess.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import StoreUnavailableError

DOCUMENT = "chroma:document"


@dataclass
class RawRecord:
    """One record: its id, its metadata (lists whole) and its document."""

    record_id: str
    meta: dict[str, Any] = field(default_factory=dict)
    document: str | None = None


def _value(row: tuple[Any, ...]) -> Any:
    string, integer, real, boolean = row
    if string is not None:
        return string
    if integer is not None:
        return integer
    if real is not None:
        return real
    return None if boolean is None else bool(boolean)


def raw_records(chroma: Path, collection: str, skip_keys: tuple[str, ...] = ()) -> list[RawRecord]:
    """Every record of ``collection`` in the store at ``chroma`` (``skip_keys``: metadata
    not wanted, such as the bulky sentence vectors).

    Raises:
        StoreUnavailableError: no such file or collection, or not a schema this knows.
    """
    database = chroma / "chroma.sqlite3"
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as db:
            return list(_records(db, collection, skip_keys))
    except sqlite3.Error as exc:
        raise StoreUnavailableError(
            f"Cannot read the records of the Chroma store at {chroma}: {exc}",
            hint="move that folder away and run `rag ingest` again",
        ) from exc


def _records(
    db: sqlite3.Connection, collection: str, skip_keys: tuple[str, ...]
) -> Iterator[RawRecord]:
    found = db.execute(
        "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
        "WHERE c.name = ? AND s.scope = 'METADATA'",
        (collection,),
    ).fetchall()
    if len(found) != 1:
        raise sqlite3.DatabaseError(f"no single metadata segment for {collection!r}")
    segment = found[0][0]
    records: dict[int, RawRecord] = {
        row_id: RawRecord(record_id)
        for row_id, record_id in db.execute(
            "SELECT id, embedding_id FROM embeddings WHERE segment_id = ?", (segment,)
        )
    }
    marks = ",".join("?" * len(skip_keys)) or "''"
    for table, many in (("embedding_metadata", False), ("embedding_metadata_array", True)):
        rows = db.execute(
            f"SELECT m.id, m.key, m.string_value, m.int_value, m.float_value, m.bool_value "
            f"FROM {table} m JOIN embeddings e ON m.id = e.id "
            f"WHERE e.segment_id = ? AND m.key NOT IN ({marks}) ORDER BY m.rowid",
            (segment, *skip_keys),
        )
        for row_id, key, *value in rows:
            record = records.get(row_id)
            if record is None:
                continue
            if key == DOCUMENT:
                record.document = _value(tuple(value))
            elif many:
                record.meta.setdefault(key, []).append(_value(tuple(value)))
            else:
                record.meta[key] = _value(tuple(value))
    yield from records.values()
