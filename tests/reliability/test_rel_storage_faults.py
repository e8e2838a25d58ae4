"""The data directory itself is the problem: not a folder, a damaged store, a full disk.
One clear error each, and nothing lost that the next run cannot rebuild."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from ingest.uploads import upload_files
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.errors import DiskFullError, StoreUnavailableError
from rag.models import StatementMeta
from rag.service import Services, build_services
from rag.settings import Settings

from .conftest import (
    CHILD,
    assert_no_traceback,
    assert_quotes_verified,
    dump_store,
    run_rag,
    statement_texts,
)


def _one_error_line(home: Path, *args: str, **env: str) -> str:
    result = run_rag(list(args) or ["sources"], home, timeout=120, **env)
    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 1, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_home_is_a_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    assert "Cannot use the data directory" in _one_error_line(home)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Makes a folder read-only with a read-only bind mount (tests run as root, which
    chmod does not stop)."""
    mounted: list[Path] = []

    def make(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for command in (
            ["mount", "--bind", str(folder), str(folder)],
            ["mount", "-o", "remount,bind,ro", str(folder)],
        ):
            try:
                subprocess.run(command, check=True, capture_output=True)
            except (OSError, subprocess.CalledProcessError) as exc:
                pytest.skip(f"cannot make a read-only bind mount here: {exc}")
            if folder not in mounted:
                mounted.append(folder)
        with pytest.raises(OSError):
            (folder / "probe").write_text("x")

    yield make
    for folder in mounted:
        done = subprocess.run(["umount", "-l", str(folder)], capture_output=True, text=True)
        if done.returncode:
            warnings.warn(f"umount {folder}: {done.stderr.strip()}", stacklevel=1)


def test_read_only_home_is_one_clear_line(
    tmp_path: Path, bundled: Services, read_only: Callable[[Path], None]
) -> None:
    """Before: ``rag ingest`` into a read-only RAG_HOME was a traceback and the other
    commands blamed a damaged store. Now one line each that says it is read-only."""
    home = tmp_path / "home"
    shutil.copytree(bundled.settings.chroma_path, home / "chroma")
    read_only(home)
    for args in (["sources"], ["ask", "What is the Quds Force?"], ["ingest"]):
        line = _one_error_line(home, *args)
        assert "read-only" in line.lower(), (args, line)
        assert "RAG_HOME" in line and "damaged" not in line, (args, line)

    empty = tmp_path / "empty"
    read_only(empty)
    for args in (["sources"], ["ask", "What is the Quds Force?"], ["ingest"]):
        line = _one_error_line(empty, *args)
        assert f"Cannot use the data directory {empty}: Read-only file system" in line, line


def test_damaged_store_is_one_clear_line(tmp_path: Path, bundled: Services) -> None:
    home = tmp_path / "home"
    shutil.copytree(bundled.settings.chroma_path, home / "chroma")
    database = home / "chroma" / "chroma.sqlite3"
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 3])
    line = _one_error_line(home)
    assert f"Cannot open the Chroma store at {home / 'chroma'}" in line
    assert "move that folder away" in line


def test_bad_server_url(tmp_path: Path) -> None:
    for url in ("localhost:8000", "http://127.0.0.1:port", "ftp://127.0.0.1:8000"):
        line = _one_error_line(tmp_path / "home", "sources", RAG_CHROMA_URL=url)
        assert line.startswith(f"error: Not a Chroma server URL: {url!r}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 768 KB tmpfs: room for an empty store (~190 KB), not for the bundled
    statements' (~1 MB)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=768k", "tmpfs", str(mount)],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a small tmpfs here: {exc}")
    try:
        yield mount
    finally:
        done = subprocess.run(["umount", "-l", str(mount)], capture_output=True, text=True)
        if done.returncode:
            warnings.warn(f"umount {mount}: {done.stderr.strip()}", stacklevel=1)


@pytest.mark.slow
def test_disk_full_during_ingest_then_space_freed(
    small_disk: Path,
    embedder: SentenceTransformerEmbedder,
    bundled: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full disk met by Chroma itself (the space estimate made too small here) stops the
    ingest with one clear error. The same process keeps answering from what was committed
    but refuses further writes (embedded Chroma would hang on them); the next ``rag
    ingest`` process, once there is space, repairs the store to equal a clean ingest."""
    for name in ("BYTES_PER_PASSAGE", "BYTES_PER_TEXT_BYTE", "MARGIN_BYTES"):
        monkeypatch.setattr(f"ingest.space.{name}", 0)
    # one statement per batch: the first is committed before the disk fills up
    settings = Settings(home=small_disk / "home", ingest_batch=1)
    services = build_services(settings, embedder=embedder)
    ingestor = Ingestor(settings, services.store, services.embedder)
    with pytest.raises(StoreUnavailableError) as info:
        ingestor.run([BUNDLED_CORPUS])
    assert "\n" not in str(info.value)
    assert "check free disk space" in str(info.value)
    assert str(info.value).startswith("disk full: "), info.value
    assert f"MB needed at {settings.chroma_path}" in str(info.value)

    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    with pytest.raises(StoreUnavailableError) as info:
        ingestor.run([BUNDLED_CORPUS])
    assert "failed earlier in this process" in str(info.value)
    services.catalog.invalidate()
    texts = statement_texts(services.store)
    for question in ("What is the Quds Force?", "How many US soldiers had died?"):
        assert_quotes_verified(services.answerer.answer(question), texts)

    result = run_rag(["ingest", str(BUNDLED_CORPUS)], settings.home)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result.stdout, result.stderr)
    # read it from a fresh process: this one's embedded Chroma is the wedged one
    dumped = subprocess.run(
        [sys.executable, str(CHILD), "--dump", str(settings.home)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dumped.returncode == 0, dumped.stderr
    statements, passages = dump_store(bundled.store).comparable()
    want = json.loads(json.dumps({"statements": statements, "passages": passages}))
    assert json.loads(dumped.stdout) == want


@pytest.mark.parametrize(
    ("error", "disk_full"),
    [
        ("Error executing plan: Internal error: Error finding id", False),
        ("Error executing plan: Error loading hnsw index", False),
        ("error returned from database: (code: 13) database or disk is full", True),
        ("Error writing segment: No space left on device (os error 28)", True),
    ],
)
def test_store_errors_mention_disk_space_only_when_the_disk_is_full(
    error: str, disk_full: bool
) -> None:
    """Before, every Chroma failure said "check free disk space"; now only a full disk
    does, and anything else says the store is damaged and how to rebuild it."""
    from chromadb.errors import InternalError

    from rag.store.failures import store_failure

    message = str(store_failure(InternalError(error), "/data/chroma", server=False))
    assert "\n" not in message
    assert ("disk space" in message) is disk_full, message
    if not disk_full:
        assert message.startswith("The Chroma store at /data/chroma is damaged or inconsistent")
        assert "rag ingest" in message
    cause = OSError(errno.ENOSPC, "No space left on device")
    try:
        raise InternalError("Error executing plan") from cause
    except InternalError as exc:
        assert "disk space" in str(store_failure(exc, "/data/chroma", server=False))


def test_vectors_of_another_size_are_named(services: Services) -> None:
    """A question vector of another model's size against this store: said as such, not as
    a full disk or damage."""
    Ingestor(services.settings, services.store, services.embedder).run([BUNDLED_CORPUS])
    with pytest.raises(StoreUnavailableError) as info:
        services.store.query(np.ones(768, dtype=np.float32), 3)
    message = str(info.value)
    assert "vectors of another size" in message and "disk" not in message, message


@pytest.mark.slow
def test_a_window_the_disk_cannot_hold_is_refused_before_it_is_written(
    small_disk: Path, embedder: SentenceTransformerEmbedder, bundled: Services
) -> None:
    """Before: an ingest on a nearly full disk ended with "The Chroma store … is damaged or
    inconsistent … move that folder away" (following the hint threw the store away), and
    every question failed until space was freed well beyond the need. Now each window is
    checked first: "disk full: N MB needed at PATH", the store as it was, still answering,
    and the same process finishes once there is room."""
    settings = Settings(home=small_disk / "home", ingest_batch=1)
    services = build_services(settings, embedder=embedder)
    ingestor = Ingestor(settings, services.store, services.embedder)
    with pytest.raises(DiskFullError) as info:
        ingestor.run([BUNDLED_CORPUS])
    message = str(info.value)
    assert message.startswith("disk full: ") and "\n" not in message, message
    assert f"MB needed at {settings.chroma_path} (" in message and "damaged" not in message
    report = ingestor.last_report
    assert [o.statement_id for o in report.committed] == ["000_750d3f795511808f"]
    assert [Path(p).name for p in report.not_committed] == ["004_82099dca89624f38.txt"]
    assert report.error == message

    services.catalog.invalidate()
    texts = statement_texts(services.store)
    answer = services.answerer.answer("How many US soldiers had died in Iraq?")
    assert not answer.abstained
    assert_quotes_verified(answer, texts)

    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    again = ingestor.run([BUNDLED_CORPUS])
    assert again.summary()["new"] == 1 and again.summary()["unchanged"] == 1
    assert dump_store(services.store).comparable() == dump_store(bundled.store).comparable()


@pytest.mark.slow
def test_an_upload_on_a_full_disk_says_which_files_were_committed(
    small_disk: Path, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    settings = Settings(home=small_disk / "home", ingest_batch=1)
    services = build_services(settings, embedder=embedder)
    small = tmp_path / "a-small.txt"
    small.write_text("A short statement fits on the disk.", encoding="utf-8")
    big = tmp_path / "b-big.txt"
    big.write_text((BUNDLED_CORPUS / "004_82099dca89624f38.txt").read_text(encoding="utf-8"))
    report = upload_files(
        settings, services.store, services.embedder, [small, big], StatementMeta()
    )
    assert report.committed == ["a-small.txt"]
    assert report.not_committed == ["b-big.txt"]
    assert report.error is not None and report.error.startswith("disk full: ")
    status, line = report.lines[-1]
    assert status == "error" and line.endswith("not committed: b-big.txt"), report.lines
    assert report.lines[0] == ("new", "a-small.txt → a-small (1 passages)")


@pytest.mark.slow
def test_rag_ingest_on_a_full_disk_names_what_it_committed(small_disk: Path) -> None:
    home = small_disk / "home"
    result = run_rag(["ingest", str(BUNDLED_CORPUS)], home, RAG_INGEST_BATCH="1")
    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == ["new       000_750d3f795511808f (committed)"]
    # (besides the warning that the 90 MB ONNX export did not fit either)
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith("error: disk full: ") and f"MB needed at {home / 'chroma'}" in line
