"""The catalog notices changes made by other processes, without listing every statement
on every check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from rag.dates import date_range
from rag.errors import InvalidFilterError, StatementNotFoundError, echo, shorten
from rag.models import Filters
from rag.service import Services
from rag.store.catalog import Catalog, describe
from rag.store.chroma import ChromaStore


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
    monkeypatch.setattr("rag.store.catalog.time.monotonic", lambda: clock[0])
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


HUGE = "Party of " + "x" * 100_000  # a pasted page in a filter field


@pytest.mark.parametrize(
    ("filters", "shown"),
    [
        (Filters(organization=HUGE), "Unknown organization: 'Party of xxx"),
        (Filters(since="2020-" + "1" * 100_000), "Not a date: '2020-111"),
        (Filters(until=HUGE), "Not a date: 'Party of xxx"),
        (Filters(statement_ids=[f"no-such-{i}-{'y' * 5000}" for i in range(1000)]), "no-such-0"),
    ],
)
def test_filter_errors_quote_at_most_a_short_prefix(
    bundled: Services, filters: Filters, shown: str
) -> None:
    """Before, a 100 KB filter value was echoed back whole in the error (and the hint)."""
    with pytest.raises(InvalidFilterError) as info:
        bundled.catalog.scope(filters)
    message = str(info.value)
    assert shown in message
    assert "…" in message
    assert len(message) < 600, len(message)


def test_errors_that_echo_user_values_are_capped(bundled: Services) -> None:
    with pytest.raises(StatementNotFoundError) as info:
        bundled.store.statement("z" * 100_000)
    assert len(str(info.value)) < 200 and "z" * 60 + "…" in str(info.value)
    with pytest.raises(InvalidFilterError) as dates:
        date_range("1" * 100_000)
    assert len(str(dates.value)) < 200
    hint = describe(Filters(organization=HUGE, since="2" * 1000, statement_ids=["a"] * 50))
    assert len(hint) < 600 and "and 45 more" in hint
    assert shorten("short") == "short" and echo("short") == "'short'"


def test_cli_filter_error_is_short(bundled: Services) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rag"), "ask", "Who?", "--organization", HUGE],
        env={**env, "RAG_HOME": str(bundled.settings.home)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Unknown organization:"), lines
    assert len(lines[0]) < 400, len(lines[0])
