"""Events of the filter chips: showing the active filters next to the question box,
removing one, and starting or cancelling an edit-and-resend (``ui/static/actions.js``
asks for it from the chat)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.models import Answer
from ui.web.chips import EDIT, ActiveFilters, active_chips, chips_html, remove_chip
from ui.web.sources import SourceHandlers
from ui.web.toasts import warn

# The order of the outputs of ``action``: the filter fields, then the edit turn and box.
FIELDS = ("statements", "organization", "author", "since", "until", "mode")


class ChipHandlers:
    def __init__(self, sources: SourceHandlers) -> None:
        self.sources = sources

    def render(
        self,
        statement_ids: list[str] | None,
        organization: str | None,
        author: str | None,
        since: str | None,
        until: str | None,
        mode: str | None,
        edit_turn: int | None,
    ) -> str:
        active = ActiveFilters(
            statement_ids=[s for s in (statement_ids or []) if s],
            organization=organization,
            author=author,
            since=since,
            until=until,
            mode=mode or "auto",
            edit_turn=edit_turn,
        )
        return chips_html(active_chips(active, self.sources.names()))

    def action(
        self,
        statement_ids: list[str] | None,
        answers: list[Answer] | None,
        evt: gr.EventData,
    ) -> tuple[Any, ...]:
        """A chip's × (``{"chip": key}``) or a question's Edit (``{"edit": turn}``).

        Returns the six filter fields, the edit turn and the question box."""
        data = getattr(evt, "_data", None) or {}
        skip = [gr.skip()] * (len(FIELDS) + 2)
        if not isinstance(data, dict):
            return tuple(skip)
        if "edit" in data:
            try:
                turn = int(data["edit"])
            except (TypeError, ValueError):
                return tuple(skip)
            if not answers or not 0 <= turn < len(answers):
                warn("Only answered questions can be edited.")
                return tuple(skip)
            return (*skip[: len(FIELDS)], turn, answers[turn].question)
        changes = remove_chip(str(data.get("chip") or ""), statement_ids)
        values = [changes.get(name, gr.skip()) for name in FIELDS]
        edit = None if EDIT in changes else gr.skip()
        return (*values, edit, gr.skip())
