"""Feedback on answers, appended as JSON lines to ``settings.feedback_path``.

One object per line, so real questions (with what was cited and whether it helped) can
be turned into eval cases later. Lines are written whole, under a lock, in append mode.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from rag.errors import RagError
from rag.models import Answer
from rag.settings import Settings

logger = logging.getLogger(__name__)

MAX_COMMENT_CHARS = 2000
_LOCK = threading.Lock()


class Rated(Protocol):
    """One earlier rating of the answer (``conversations.RatingEvent``)."""

    time: float
    verdict: bool | None
    comment: str | None


def _when(seconds: float | None = None) -> str:
    moment = datetime.now(UTC) if seconds is None else datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="seconds")


def feedback_record(
    answer: Answer,
    helpful: bool,
    comment: str | None = None,
    key: str | None = None,
    history: Sequence[Rated] = (),
) -> dict[str, Any]:
    """What is stored for one rating: the question, the answer's citations, the verdict.
    ``key`` names the answer (``<conversation>:<turn>``): a later line with the same key
    replaces the earlier verdict, and carries every rating of the answer so far in
    ``history``, each with the comment given with it (a 👎's comment outlives a 👍)."""
    return {
        "time": _when(),
        "answer_key": key,
        "helpful": helpful,
        "comment": (comment or "").strip()[:MAX_COMMENT_CHARS] or None,
        "history": [
            {"time": _when(r.time), "helpful": r.verdict, "comment": r.comment} for r in history
        ],
        "question": answer.question,
        "resolved_question": answer.resolved_question,
        "filters": answer.filters.model_dump(exclude_defaults=True),
        "abstained": answer.abstained,
        "compare": answer.compare,
        "answer": answer.answer,
        "citations": [
            {
                "n": c.n,
                "statement_id": c.statement_id,
                "paragraph": c.paragraph,
                "start": c.start,
                "end": c.end,
                "quote": c.quote,
            }
            for c in answer.citations
        ],
        "nearest": [
            {"statement_id": c.statement_id, "start": c.start, "end": c.end} for c in answer.nearest
        ],
    }


def record_feedback(
    settings: Settings,
    answer: Answer,
    helpful: bool,
    comment: str | None = None,
    key: str | None = None,
    history: Sequence[Rated] = (),
) -> dict[str, Any]:
    """Append one feedback line; returns what was written.

    Raises:
        RagError: the feedback file cannot be written.
    """
    record = feedback_record(answer, helpful, comment, key, history)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path = settings.feedback_path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK, path.open("a", encoding="utf-8") as handle:
            handle.write(line)
    except OSError as exc:
        raise RagError(
            f"Cannot save feedback to {path}: {exc.strerror}", hint="check the data directory"
        ) from exc
    logger.info(
        "feedback (%s) saved for %r", "helpful" if helpful else "not helpful", answer.question
    )
    return record
