"""Deleting statements in the Sources tab: several at once after one confirmation, only
by the administrators when ``RAG_UI_ADMINS`` is set (the controls are hidden from the
others, and their requests refused)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from ingest import remove
from rag.errors import RagError
from rag.models import Statement
from rag.service import Services
from rag.settings import Settings
from ui.web import html
from ui.web.auth import may_change
from ui.web.sources import NOT_ALLOWED, SourceHandlers
from ui.web.toasts import for_web, info, unknown_statement, warn

CONFIRMED = "yes"  # what the page's confirm() sends when the user agrees


def remove_statements(
    services: Services, statement_ids: Sequence[str]
) -> tuple[list[Statement], list[str]]:
    """Remove these statements (with their uploaded copies and metadata): (the removed
    records, the ids that were not there)."""
    known = {s.statement_id for s in services.store.statements()}
    missing = [sid for sid in statement_ids if sid not in known]
    present = [sid for sid in statement_ids if sid in known]
    removed = remove.remove_statements(services.settings, services.store, present)
    return removed, missing


class DeleteHandlers:
    """The Sources tab's delete and who sees it."""

    def __init__(self, services: Services, settings: Settings, sources: SourceHandlers) -> None:
        self.services = services
        self.settings = settings
        self.sources = sources

    def delete(
        self,
        statement_ids: Sequence[str] | str | None,
        confirmed: str | None = CONFIRMED,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Remove the chosen statements (after one confirmation) from the store, the
        keyword index and the choices, with their uploaded copies (so a later ingest of
        the uploads does not bring them back).

        Returns (report, table, statement choices, organization choices, the selection
        to delete)."""
        unchanged = gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if confirmed != CONFIRMED:  # the confirmation was declined
            return unchanged
        if not may_change(self.settings, getattr(request, "username", None)):
            warn(NOT_ALLOWED)
            return unchanged
        chosen = [statement_ids] if isinstance(statement_ids, str) else statement_ids or []
        ids = list(dict.fromkeys(s.strip() for s in chosen if s and s.strip()))
        if not ids:
            warn("Choose the statements to delete first.")
            return unchanged
        lines: list[tuple[str, str]] = []
        try:
            removed, missing = remove_statements(self.services, ids)
        except RagError as exc:
            warn(for_web(exc))
            return unchanged
        finally:
            self.services.catalog.invalidate()
        for sid in missing:
            warn(unknown_statement(sid))
            lines.append(("error", unknown_statement(sid)))
        for statement in removed:
            lines.append(("deleted", f"{statement.source} → {statement.statement_id} deleted"))
        if removed:
            info(f"Deleted {len(removed)} statement(s).")
        statements, orgs = self.sources.choices()
        report = html.ingest_report(lines)
        rows = self.sources.sources_rows()
        chosen = gr.update(choices=statements, value=[])
        return report, rows, gr.update(choices=statements), gr.update(choices=orgs), chosen

    def controls(self, request: gr.Request) -> tuple[Any, Any]:
        """(delete row, upload form): shown only to those who may use them."""
        allowed = may_change(self.settings, getattr(request, "username", None))
        return gr.update(visible=allowed), gr.update(visible=allowed)
