"""A small thread-safe LRU cache, forgotten whenever the store changes.

The answerer keeps a few things it read from the store (passages, their vectors,
statements' clean texts and terms); all of them are valid only while the store's
fingerprint is the one they were read under.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    """At most ``size`` items, least recently used dropped first; cleared on a new fingerprint.

    >>> cache: LRUCache[str, int] = LRUCache(2)
    >>> cache.get_many("fp1", ["a", "b"], lambda ids: {i: len(i) for i in ids})
    {'a': 1, 'b': 1}
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._fingerprint: str | None = None
        self._lock = threading.Lock()  # the UI answers several questions at once

    def __len__(self) -> int:
        return len(self._items)

    def _check(self, fingerprint: str) -> None:
        """Forget everything when the store changed (call with the lock held)."""
        if self._fingerprint != fingerprint:
            self._items.clear()
            self._fingerprint = fingerprint

    def get(self, fingerprint: str, key: K) -> V | None:
        with self._lock:
            self._check(fingerprint)
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, fingerprint: str, items: dict[K, V]) -> None:
        with self._lock:
            self._check(fingerprint)
            self._items.update(items)
            for key in items:
                self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_many(
        self, fingerprint: str, keys: Iterable[K], fetch: Callable[[list[K]], dict[K, V]]
    ) -> dict[K, V]:
        """``keys`` from the cache; the missing ones fetched in one call and remembered.

        Keys that ``fetch`` does not return are left out of the result.
        """
        keys = list(keys)
        with self._lock:
            self._check(fingerprint)
            found = {key: item for key in keys if (item := self._items.get(key)) is not None}
            for key in found:
                self._items.move_to_end(key)
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        if missing:
            fetched = fetch(missing)
            self.put(fingerprint, fetched)
            found.update(fetched)
        return found
