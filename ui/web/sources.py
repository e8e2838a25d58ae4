"""Event handlers for what the page knows about the statements: the filter choices, the
Sources table, uploads, and the statement viewer (citation clicks and deep links).

Choices and the table are filled when a page loads (``on_load``), never baked into the
page's config: with ``RAG_UI_AUTH`` on, Gradio serves that config to the login page.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import RagError, StatementNotFoundError
from rag.models import Citation, Statement
from rag.service import Services
from rag.settings import Settings
from ui.web import html
from ui.web.auth import may_change
from ui.web.toasts import for_web, info, unknown_statement, warn
from ui.web.uploads import ingest_with_progress, summary, upload_meta

SOURCES_HEADERS = ["Statement id", "Organization", "Author", "Date", "Title", "Source", "Passages"]
TEXT_CACHE_SIZE = 256
CONFIRMED = "yes"  # what the page's confirm() sends when the user agrees
NOT_ALLOWED = "Only the administrators (RAG_UI_ADMINS) can add or delete statements."


def remove_statements(
    services: Services, statement_ids: Sequence[str]
) -> tuple[list[Statement], list[str]]:
    """Remove these statements from the store: (the removed ``Statement`` records, the
    ids that were not there)."""
    removed, missing = [], []
    for sid in statement_ids:  # one library call for several is on its way: switch here
        try:
            statement = services.store.statement(sid)
            services.store.delete_statement(sid)
        except StatementNotFoundError:
            missing.append(sid)
            continue
        removed.append(statement)
    return removed, missing


class SourceHandlers:
    """Statements' choices, table, texts and viewer, over one ``Services``."""

    def __init__(self, services: Services, settings: Settings) -> None:
        self.services = services
        self.settings = settings
        self._texts: dict[tuple[str, str], str] = {}

    def texts(self, citations: Sequence[Citation]) -> dict[str, str]:
        """Clean texts of the cited statements (cached per content hash)."""
        snapshot = self.services.catalog.snapshot().statements
        result: dict[str, str] = {}
        for sid in {c.statement_id for c in citations}:
            statement = snapshot.get(sid)
            key = (sid, statement.content_hash if statement else "")
            if key not in self._texts:
                try:
                    self._texts[key] = self.services.store.statement(sid).text or ""
                except RagError:
                    continue
                if len(self._texts) > TEXT_CACHE_SIZE:
                    self._texts.pop(next(iter(self._texts)))
            result[sid] = self._texts[key]
        return result

    def choices(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Statement and organization choices for the filters."""
        statements = sorted(
            self.services.catalog.snapshot().statements.values(),
            key=lambda s: (s.date or "", s.statement_id),
        )
        items = []
        for s in statements:
            label = s.label + (f" — {s.title[:60]}" if s.title else "") + f" ({s.statement_id})"
            items.append((label, s.statement_id))
        orgs = sorted({s.organization for s in statements if s.organization})
        return items, [("Any organization", ""), *((o, o) for o in orgs)]

    def authors(self) -> list[tuple[str, str]]:
        """Author choices for the filter (and the Sources table's filter)."""
        found = {s.author for s in self.services.catalog.snapshot().statements.values()}
        return [("Any author", ""), *((a, a) for a in sorted(a for a in found if a))]

    def names(self) -> dict[str, str]:
        """Short names of the statements (for the filter chips)."""
        return {sid: s.label for sid, s in self.services.catalog.snapshot().statements.items()}

    def refresh_choices(self) -> tuple[Any, Any, Any, Any]:
        """Choices besides the two filled on load: (the Ask tab's author, the Sources
        tab's organization, author, and statement to delete)."""
        statements, orgs = self.choices()
        authors = self.authors()
        return (
            gr.update(choices=authors),
            gr.update(choices=orgs),
            gr.update(choices=authors),
            gr.update(choices=statements),  # a selection to delete is kept
        )

    def sources_rows(
        self, organization: str | None = None, author: str | None = None, date: str | None = None
    ) -> list[list[Any]]:
        """The table, narrowed to an organization, an author and a date prefix (``2020``)."""
        org, who, when = (organization or "").strip(), (author or "").strip(), (date or "").strip()
        return [
            [
                s.statement_id,
                s.organization or "",
                s.author or "",
                s.date or "",
                s.title or "",
                s.source,
                s.passages,
            ]
            for s in sorted(self.services.store.statements(), key=lambda s: s.statement_id)
            if (not org or s.organization == org)
            and (not who or s.author == who)
            and (not when or (s.date or "").startswith(when))
        ]

    @staticmethod
    def cards(rows: list[list[Any]] | None) -> str:
        """The table's rows as cards (shown instead of the table on narrow screens)."""
        return html.statement_cards(rows or [])

    def open_card(self, evt: gr.EventData) -> tuple[Any, Any]:
        """A card opens its statement in the viewer (on the Ask tab)."""
        data = getattr(evt, "_data", None) or {}
        if not isinstance(data, dict) or not data.get("statement"):
            return gr.skip(), gr.skip()
        return self.viewer(str(data["statement"])), gr.Tabs(selected="ask")

    def open_row(self, evt: gr.SelectData) -> tuple[Any, Any]:
        """A row of the Sources table opens its statement in the viewer (on the Ask tab)."""
        row = evt.row_value if isinstance(evt.row_value, list) else None
        if not row or not row[0]:
            return gr.skip(), gr.skip()
        return self.viewer(str(row[0])), gr.Tabs(selected="ask")

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
            self._remove_upload(statement.path)
            lines.append(("deleted", f"{statement.source} → {statement.statement_id} deleted"))
        if removed:
            info(f"Deleted {len(removed)} statement(s).")
        statements, orgs = self.choices()
        report = html.ingest_report(lines)
        rows = self.sources_rows()
        chosen = gr.update(choices=statements, value=[])
        return report, rows, gr.update(choices=statements), gr.update(choices=orgs), chosen

    def controls(self, request: gr.Request) -> tuple[Any, Any]:
        """(delete row, upload form): shown only to those who may use them."""
        allowed = may_change(self.settings, getattr(request, "username", None))
        return gr.update(visible=allowed), gr.update(visible=allowed)

    def _remove_upload(self, path: str | None) -> None:
        if not path:
            return
        uploads = self.settings.uploads_dir.resolve()
        file = Path(path).resolve()
        if file.parent == uploads and file.is_file():
            file.unlink(missing_ok=True)

    # -- viewer -----------------------------------------------------------------

    def viewer(self, statement_id: str, start: Any = None, end: Any = None) -> str:
        """The statement with the passage highlighted (or a note on why it is not)."""
        try:
            statement = self.services.store.statement(str(statement_id))
        except StatementNotFoundError:
            message = unknown_statement(str(statement_id))
            warn(message)
            return html.viewer_placeholder(message)
        except RagError as exc:
            warn(for_web(exc))
            return html.viewer_placeholder(for_web(exc))
        return html.statement_viewer(statement, start, end)

    def open_citation(self, evt: gr.EventData) -> Any:
        data = getattr(evt, "_data", None) or {}
        if not isinstance(data, dict) or not data.get("statement"):
            return gr.skip()
        return self.viewer(data["statement"], data.get("start"), data.get("end"))

    def on_load(self, request: gr.Request) -> tuple[Any, ...]:
        """Filter choices and sources for this (logged-in) page; a deep link opens the
        viewer on its passage."""
        params = dict(request.query_params) if request is not None else {}
        viewer: Any = gr.skip()
        if params.get("statement"):
            viewer = self.viewer(params["statement"], params.get("start"), params.get("end"))
        statements, orgs = self.choices()
        return (
            viewer,
            gr.update(choices=statements),
            gr.update(choices=orgs),
            self.sources_rows(),
        )

    # -- uploads ----------------------------------------------------------------

    def upload(
        self,
        files: list[str] | None,
        organization: str | None,
        author: str | None,
        date: str | None,
        title: str | None,
        progress: gr.Progress = gr.Progress(),  # Gradio injects the progress tracker
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Copy uploads into the data directory, ingest them, refresh the choices.

        Returns (report, sources table, statement choices, organization choices, files).
        """
        if not may_change(self.settings, getattr(request, "username", None)):
            warn(NOT_ALLOWED)
            report = html.ingest_report([("error", NOT_ALLOWED)])
            return report, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        meta = upload_meta(organization, author, date, title)
        try:
            lines = ingest_with_progress(self.settings, self.services, files or [], meta, progress)
        except RagError as exc:
            warn(for_web(exc))
            report = html.ingest_report([("error", for_web(exc))])
            return report, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        finally:
            self.services.catalog.invalidate()
        counts = summary(lines)
        if any(status in ("new", "updated", "unchanged") for status, _ in lines):
            info(f"{counts}: ask about them now.")
        elif counts:
            info(f"{counts}: nothing new to ask about.")
        statements, orgs = self.choices()
        return (
            html.ingest_report(lines),
            self.sources_rows(),
            gr.update(choices=statements),
            gr.update(choices=orgs),
            None,
        )
