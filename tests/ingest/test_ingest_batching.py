"""Ingest encoding in length-ordered batches, and store writes on a writer thread."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import Ingestor
from ingest.writer import WindowWriter
from rag.encoders.embeddings import _pool_sentences, length_batches
from rag.service import Services


def test_length_batches_cover_every_index_once_longest_first() -> None:
    lengths = [5, 300, 40, 40, 7, 256, 1, 64]
    batches = length_batches(lengths, max_items=3, budget=200)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for batch in batches:
        assert len(batch) <= 3
        longest = max(lengths[i] for i in batch)
        assert len(batch) == 1 or longest * len(batch) <= 200


def test_length_batches_of_nothing() -> None:
    assert length_batches([], 32, 2048) == []


def test_pooling_is_the_mean_of_the_tokens_inside_each_span() -> None:
    rng = np.random.default_rng(0)
    tokens = rng.normal(size=(6, 4)).astype(np.float32)
    offsets = np.array([[0, 0], [0, 3], [4, 7], [8, 11], [12, 15], [0, 0]])  # CLS ... SEP
    fallback = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    pooled = _pool_sentences(tokens, offsets, [(0, 7), (8, 15), (40, 50)], fallback)
    for row, rows in ((0, [1, 2]), (1, [3, 4])):
        mean = tokens[rows].mean(axis=0)
        assert np.allclose(pooled[row], mean / np.linalg.norm(mean), atol=1e-6)
    assert np.array_equal(pooled[2], fallback)  # beyond the model's max length
    assert _pool_sentences(tokens, offsets, [], fallback).shape == (0, 4)


def test_writer_runs_jobs_in_order_and_raises_a_failed_jobs_error() -> None:
    done: list[int] = []
    writer: WindowWriter[int] = WindowWriter(overlap=True)
    assert writer.submit(lambda: done.append(1), 1) is None
    assert writer.submit(lambda: done.append(2), 2) == 1
    assert writer.settle() == 2
    assert done == [1, 2]

    def fails() -> None:
        raise OSError("disk full")

    writer.submit(fails, 3)
    with pytest.raises(OSError, match="disk full"):
        writer.submit(lambda: done.append(4), 4)
    writer.close()
    assert done == [1, 2]


def test_writer_close_waits_for_the_write_in_flight() -> None:
    release = threading.Event()
    finished: list[bool] = []

    def slow() -> None:
        release.wait(5)
        finished.append(True)

    writer: WindowWriter[int] = WindowWriter(overlap=True)
    writer.submit(slow, 1)
    threading.Timer(0.2, release.set).start()
    writer.close()
    assert finished == [True]


def test_with_and_without_the_writer_thread_the_store_is_the_same(
    services: Services, tmp_path: Path
) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(5):
        body = "\n\n".join(f"Statement {i} paragraph {j} says stop." for j in range(3))
        (folder / f"s{i}.txt").write_text(body, encoding="utf-8")
    settings = services.settings.model_copy(update={"ingest_batch": 4})  # several windows
    seen: list[tuple[int, int, str]] = []
    report = Ingestor(settings, services.store, services.embedder, overlap_writes=True).run(
        [folder], progress=lambda done, total, path: seen.append((done, total, path.name))
    )
    assert report.summary()["new"] == 5
    assert seen == [(i + 1, 5, f"s{i}.txt") for i in range(5)]
    stored = {s.statement_id: s.passages for s in services.store.statements()}
    assert {f"s{i}": 3 for i in range(5)}.items() <= stored.items()
    again = Ingestor(settings, services.store, services.embedder, overlap_writes=False).run(
        [folder]
    )
    assert again.summary()["unchanged"] == 5
