"""The error hierarchy. The CLI and the UI translate these into one clear line."""

from __future__ import annotations


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
