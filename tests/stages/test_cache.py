"""The LRU helper: remembers, evicts the least recently used, forgets on a new fingerprint."""

from __future__ import annotations

from typing import cast

from rag.cache import LRUCache
from rag.store.catalog import Snapshot
from rag.store.chroma import ChromaStore
from rag.store.keyword import KeywordIndex
from rag.store.texts import StatementTexts
from tests.stages.helpers import statement


class Fetch:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, ids: list[str]) -> dict[str, int]:
        self.calls.append(ids)
        return {i: len(i) for i in ids if i != "missing"}


def test_fetches_only_what_is_missing_in_one_call() -> None:
    cache: LRUCache[str, int] = LRUCache(10)
    fetch = Fetch()
    assert cache.get_many("fp", ["a", "bb"], fetch) == {"a": 1, "bb": 2}
    assert cache.get_many("fp", ["a", "ccc", "missing"], fetch) == {"a": 1, "ccc": 3}
    assert fetch.calls == [["a", "bb"], ["ccc", "missing"]]


def test_evicts_the_least_recently_used() -> None:
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("fp", {"a": 1, "b": 2})
    assert cache.get("fp", "a") == 1  # a is now the most recent
    cache.put("fp", {"c": 3})
    assert cache.get("fp", "b") is None
    assert cache.get("fp", "a") == 1 and cache.get("fp", "c") == 3
    assert len(cache) == 2


def test_a_new_fingerprint_forgets_everything() -> None:
    cache: LRUCache[str, int] = LRUCache(10)
    cache.put("old", {"a": 1})
    assert cache.get("new", "a") is None
    assert len(cache) == 0
    fetch = Fetch()
    cache.get_many("new", ["a"], fetch)
    assert fetch.calls == [["a"]]


class FakeStore:
    def __init__(self) -> None:
        self.reads: list[list[str]] = []

    def statement_texts(self, ids: list[str]) -> dict[str, str]:
        self.reads.append(list(ids))
        return {sid: f"text of {sid}" for sid in ids if sid != "gone"}


def test_statement_texts_are_read_once_per_store_state() -> None:
    store = FakeStore()
    texts = StatementTexts(cast(ChromaStore, store))
    a, b = statement("a"), statement("b")
    snap = Snapshot("fp1", {"a": a, "b": b}, KeywordIndex([], [], None, {}))
    first: dict[str, str] = {}
    texts.load(snap, first, ["a", "b", "unknown"])
    assert first == {"a": "text of a", "b": "text of b"}
    second: dict[str, str] = {}
    texts.load(snap, second, ["b"])
    assert second == {"b": "text of b"} and store.reads == [["a", "b"]]
    changed: dict[str, str] = {}
    texts.load(Snapshot("fp2", snap.statements, snap.keywords), changed, ["b"])
    assert store.reads == [["a", "b"], ["b"]]
