"""The error hierarchy. The CLI and the UI translate these into one clear line."""

from __future__ import annotations

from collections.abc import Sequence

ECHO_CHARS = 60  # of a user's value quoted back in an error
ECHO_ITEMS = 5  # of a list of values


def shorten(value: object, limit: int = ECHO_CHARS) -> str:
    """A user's value as an error shows it: its first ``limit`` characters, with "…"
    when there was more (a 100 KB filter is not echoed back whole)."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def echo(value: object, limit: int = ECHO_CHARS) -> str:
    """:func:`shorten`, quoted (``repr``)."""
    return repr(shorten(value, limit))


def shorten_list(values: Sequence[object], limit: int = ECHO_ITEMS, sep: str = ", ") -> str:
    """The first ``limit`` values, each shortened, and how many more there are."""
    shown = [shorten(v) for v in values[:limit]]
    more = len(values) - len(shown)
    return sep.join(shown) + (f" and {more} more" if more > 0 else "")


class RagError(Exception):
    """Base of every error a user can cause or fix. ``hint`` says what to do next."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidQuestionError(RagError):
    """The question is empty, too long or otherwise unusable."""


class InvalidFilterError(RagError):
    """A filter names a statement, organization or date that does not exist or parse."""


class StatementNotFoundError(RagError):
    """No statement with that id is in the store."""


class StoreUnavailableError(RagError):
    """The Chroma store (embedded or server) cannot be reached."""


class DiskFullError(StoreUnavailableError):
    """The disk under the store has no room for a write (nothing was lost)."""


class EmptyStoreError(RagError):
    """Nothing has been ingested yet."""


class EmbeddingModelError(RagError):
    """The embedding model cannot be loaded."""


class IngestError(RagError):
    """A file cannot be ingested (the message says why)."""


class IngestLockedError(RagError):
    """Another ingest is running on the same data directory."""


class LLMError(RagError):
    """The optional chat model failed or timed out."""


class RerankerError(RagError):
    """The configured cross-encoder cannot be found or loaded."""
