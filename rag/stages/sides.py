"""The speakers of a grouped answer: each speaker in scope with their statements.

A speaker is a statement's author, else its organization (else the statement itself).
Two people with one surname stay apart: they are grouped by their full names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rag.models import Statement

# a comparison of more speakers than this is shown as a positions table
COMPARE_MAX_SPEAKERS = 12


@dataclass(frozen=True)
class SpeakerScope:
    """A speaker and their statements in scope (a speaker: the author, else the
    organization, else the statement itself)."""

    speaker: str
    author: str | None
    organization: str | None
    statements: tuple[Statement, ...]

    @property
    def ids(self) -> list[str]:
        return [s.statement_id for s in self.statements]


def speakers_of(statements: Iterable[Statement]) -> list[SpeakerScope]:
    """The statements grouped by speaker, speakers in order of first statement."""
    groups: dict[str, list[Statement]] = {}
    for s in statements:
        groups.setdefault(s.speaker or s.title or s.statement_id, []).append(s)
    return [
        SpeakerScope(name, items[0].author, _common(s.organization for s in items), tuple(items))
        for name, items in groups.items()
    ]


def _common(values: Iterable[str | None]) -> str | None:
    """The one organization of a speaker's statements (None when they differ)."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None
