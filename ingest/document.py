"""A file's text as read, before cleaning: what every loader returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rag.models import StatementMeta


@dataclass(frozen=True)
class RawDocument:
    """A file's text before cleaning, with the metadata it declares and the markup it may hold."""

    text: str
    meta: StatementMeta
    markup: Literal["markdown", "plain"]
