"""The active filters as removable chips next to the question box (shown even when the
Filters section is closed), plus the "editing question N" chip of edit-and-resend.

Pure functions: which chips are active, their escaped HTML, and what removing one sets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ui.web.markup import esc

EDIT = "edit"
FIELDS = ("statements", "organization", "author", "since", "until", "mode")
MODE_LABELS = {"compare": "Compare speakers", "positions": "Positions", "timeline": "Timeline"}


@dataclass(frozen=True)
class Chip:
    key: str  # what removing it clears: a field name, "statement:<id>" or "edit"
    label: str


@dataclass(frozen=True)
class ActiveFilters:
    statement_ids: Sequence[str] = ()
    organization: str | None = None
    author: str | None = None
    since: str | None = None
    until: str | None = None
    mode: str = "auto"
    edit_turn: int | None = None


def active_chips(active: ActiveFilters, names: Mapping[str, str] | None = None) -> list[Chip]:
    """One chip per active filter; statements by their short name when known."""
    names = names or {}
    chips: list[Chip] = []
    if active.edit_turn is not None:
        chips.append(Chip(EDIT, f"Editing question {active.edit_turn + 1}"))
    for sid in active.statement_ids:
        if sid:
            chips.append(Chip(f"statement:{sid}", f"Statement: {names.get(sid, sid)}"))
    for key, label in (
        ("organization", "Organization"),
        ("author", "Author"),
        ("since", "Since"),
        ("until", "Until"),
    ):
        value = (getattr(active, key) or "").strip()
        if value:
            chips.append(Chip(key, f"{label}: {value}"))
    if active.mode in MODE_LABELS:
        chips.append(Chip("mode", f"Answer as: {MODE_LABELS[active.mode]}"))
    return chips


def chips_html(chips: Sequence[Chip]) -> str:
    """The chips, each with a remove button; a quiet note when nothing narrows the search."""
    if not chips:
        return (
            '<div class="rag-chips rag-chips-none" aria-live="polite">'
            '<span class="rag-chips-note">Searching all statements.</span></div>'
        )
    items = "".join(
        f'<span class="rag-chip{" rag-chip-edit" if c.key == EDIT else ""}" role="listitem">'
        f'<span class="rag-chip-label">{esc(c.label)}</span>'
        f'<button type="button" class="rag-chip-x" data-chip="{esc(c.key)}" '
        f'aria-label="{esc(("Cancel: " if c.key == EDIT else "Remove filter: ") + c.label)}">'
        "×</button></span>"
        for c in chips
    )
    return f'<div class="rag-chips" role="list" aria-label="Active filters">{items}</div>'


def remove_chip(key: str, statement_ids: Sequence[str] | None) -> dict[str, Any]:
    """The fields to change when chip ``key`` is removed (field name → new value)."""
    if key.startswith("statement:"):
        sid = key.split(":", 1)[1]
        return {"statements": [s for s in (statement_ids or []) if s != sid]}
    if key == "statements":
        return {"statements": []}
    if key == "mode":
        return {"mode": "auto"}
    if key in FIELDS:
        return {key: ""}
    if key == EDIT:
        return {EDIT: None}
    return {}
