"""A file's text as read, before cleaning: what every loader returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from rag.models import StatementMeta


@dataclass(frozen=True)
class RawDocument:
    """A file's text before cleaning, with the metadata it declares and the markup it may hold."""

    text: str
    meta: StatementMeta
    markup: Literal["markdown", "plain"]
    digest: str = field(default="", compare=False)  # of the file's bytes: ``file_digest``


def file_digest(data: bytes) -> str:
    """What a file's bytes are known by: a copy anywhere has the same digest."""
    return hashlib.sha256(data).hexdigest()[:32]
