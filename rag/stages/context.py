"""The per-request context: what one answer has planned, read and measured so far.

One object travels through the stages of a request instead of dictionaries passed down to
be filled; nothing in it outlives the request (the caches that do live in the stages).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from rag.stages.plan import Plan
from rag.store.catalog import Snapshot


@dataclass
class RequestContext:
    """One question being answered."""

    plan: Plan
    snapshot: Snapshot
    texts: dict[str, str] = field(default_factory=dict)  # statement id -> clean text read
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # text -> query vector
    terms: dict[str, dict[str, float]] = field(default_factory=dict)  # text -> weighted terms
    timings: dict[str, float] = field(default_factory=dict)  # stage -> milliseconds
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the time spent in the block to ``timings[stage]`` (a stage may run often)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0) + (time.perf_counter() - t0) * 1000

    def finish(self) -> dict[str, float]:
        """The timings with the total so far, rounded for the answer."""
        self.timings["total"] = (time.perf_counter() - self.started) * 1000
        return {key: round(value, 2) for key, value in self.timings.items()}
