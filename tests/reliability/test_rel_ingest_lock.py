"""Two ingests on one data directory: one refuses clearly or waits (--wait); the store is
never corrupted."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from filelock import FileLock

from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from rag.errors import IngestLockedError
from rag.service import Services
from rag.settings import Settings
from rag.store.chroma import ChromaStore

from .conftest import RAG, assert_no_traceback, assert_same_store, child_env, dump_store, run_rag


def test_library_refuses_while_another_ingest_holds_the_lock(services: Services) -> None:
    ingestor = Ingestor(services.settings, services.store, services.embedder)
    with FileLock(str(services.settings.lock_path)):
        started = time.monotonic()
        with pytest.raises(IngestLockedError) as info:
            ingestor.run([BUNDLED_CORPUS], wait=0.5)
        assert 0.4 < time.monotonic() - started < 5
    assert "Another ingest is running" in str(info.value)
    assert services.store.statements() == []


def test_cli_refuses_clearly_while_locked(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with FileLock(str(Settings(home=home).lock_path)):
        result = run_rag(["ingest"], home, timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: Another ingest is running on {home} "
        "(wait for it to finish, or pass --wait SECONDS)"
    ]
    assert_no_traceback(result.stderr)


@pytest.mark.slow
def test_concurrent_ingests_one_refuses_one_waits(tmp_path: Path, bundled: Services) -> None:
    """Two ingests start together: one works, the other is refused at once. A third with
    --wait, started while the first still holds the lock, waits for it and then finds
    everything unchanged. The store equals a clean ingest."""
    home = tmp_path / "home"

    def start(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(RAG), "ingest", str(BUNDLED_CORPUS), *extra],
            env=child_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first, second = start(), start()
    deadline = time.monotonic() + 240
    while first.poll() is None and second.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    loser, winner = (first, second) if first.poll() is not None else (second, first)
    waiter = start("--wait", "300")
    winner_running_when_waiter_started = winner.poll() is None

    results = {}
    for name, process in (("loser", loser), ("winner", winner), ("waiter", waiter)):
        out, err = process.communicate(timeout=300)
        results[name] = (process.returncode, out, err)
        assert_no_traceback(out, err)

    code, out, err = results["loser"]
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"error: Another ingest is running on {home} "
        "(wait for it to finish, or pass --wait SECONDS)"
    ]
    code, out, err = results["winner"]
    assert code == 0, err
    assert out.splitlines()[-1].startswith("2 new, 0 updated, 0 unchanged, 0 skipped")
    code, out, err = results["waiter"]
    assert code == 0, err
    assert out.splitlines()[-1].startswith("0 new, 0 updated, 2 unchanged, 0 skipped")
    assert winner_running_when_waiter_started  # so the waiter really waited

    got = dump_store(ChromaStore.from_settings(Settings(home=home)))
    assert_same_store(got, dump_store(bundled.store))
