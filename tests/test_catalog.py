"""The catalog notices changes made by other processes, without listing every statement
on every check."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.catalog import Catalog
from rag.service import Services
from rag.store import ChromaStore


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class CountingStore(ChromaStore):
    """The real store, counting full listings."""

    listings = 0

    def statements(self):  # type: ignore[no-untyped-def]
        CountingStore.listings += 1
        return super().statements()


def test_catalog_relists_only_when_the_store_changed(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    write(folder / "one.txt", "The rent strike continues. Tenants will not pay.")
    Ingestor(services.settings, services.store, services.embedder).run([folder])

    # another app instance on the same data directory: its own client and catalog
    other = CountingStore.from_settings(services.settings)
    catalog = Catalog(other, tmp_path / "kw", ttl=0.0)
    clock = [1000.0]
    monkeypatch.setattr("rag.catalog.time.monotonic", lambda: clock[0])
    assert set(catalog.snapshot().statements) == {"one"}
    listed = CountingStore.listings
    for _ in range(5):  # nothing changed: only the version token is read
        clock[0] += 10
        assert set(catalog.snapshot().statements) == {"one"}
    assert CountingStore.listings == listed

    # a write through the first instance moves the token; the other one re-lists
    write(folder / "two.txt", "The landlord must repair the heating. Winter is here.")
    Ingestor(services.settings, services.store, services.embedder).run([folder])
    clock[0] += 10
    assert set(catalog.snapshot().statements) == {"one", "two"}
    assert CountingStore.listings == listed + 1

    services.store.delete_statement("two")
    clock[0] += 10
    assert set(catalog.snapshot().statements) == {"one"}


def test_store_without_a_version_token_is_listed_every_time(
    services: Services, tmp_path: Path
) -> None:
    """A store written before the token existed still works: it is just listed each check."""
    write(tmp_path / "in" / "one.txt", "We demand a living wage for every worker.")
    Ingestor(services.settings, services.store, services.embedder).run([tmp_path / "in"])
    services.store.statements_collection.modify(metadata={"other": "x"})
    assert services.store.version() is None
    catalog = Catalog(services.store, tmp_path / "kw", ttl=0.0)
    assert set(catalog.snapshot().statements) == {"one"}
    assert set(catalog.snapshot().statements) == {"one"}
