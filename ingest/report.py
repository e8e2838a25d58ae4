"""What an ingest run did, file by file, as its windows are committed to the store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.discover import FileOutcome, Status
from rag.models import Passage, Statement

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, Path], None]


@dataclass
class Prepared:
    """A file read, cleaned and chunked, waiting for its vectors."""

    path: Path | str  # a file, or a web page's URL
    statement: Statement
    passages: list[Passage]
    previous: Statement | None


@dataclass
class IngestReport:
    """Outcomes of the files whose windows were committed (and of those skipped).

    A run stopped by the store (a full disk, say) still has its report: ``outcomes`` are
    what is in the store, ``not_committed`` the files it did not get to write, and
    ``error`` why it stopped (``Ingestor.last_report`` after the exception)."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0
    orphans_removed: int = 0
    not_committed: list[str] = field(default_factory=list)
    error: str | None = None

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def passages_written(self) -> int:
        return sum(o.passages for o in self.outcomes if o.status in ("new", "updated"))

    @property
    def skipped(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "skipped"]

    @property
    def committed(self) -> list[FileOutcome]:
        """Files whose statement is in the store as they are now."""
        return [o for o in self.outcomes if o.status in ("new", "updated", "unchanged")]

    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("new", "updated", "unchanged", "skipped", "removed")}


@dataclass
class Tally:
    """Outcomes and progress of the windows whose writes have finished."""

    report: IngestReport
    existing: dict[str, Statement]
    progress: Progress | None
    total: int
    done: int = 0

    def settled(self, window: list[FileOutcome | Prepared] | None) -> None:
        for entry in window or ():
            if isinstance(entry, Prepared):
                sid = entry.statement.statement_id
                self.existing[sid] = entry.statement.model_copy(update={"text": None})
                status: Status = "updated" if entry.previous else "new"
                outcome = FileOutcome(str(entry.path), status, sid, len(entry.passages))
            else:
                outcome = entry
                if outcome.status == "skipped":
                    logger.info("skipped %s: %s", outcome.path, outcome.reason)
            self.report.outcomes.append(outcome)
            self.done += 1
            if self.progress:
                self.progress(self.done, self.total, Path(outcome.path))
