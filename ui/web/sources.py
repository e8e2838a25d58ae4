"""Event handlers for what the page knows about the statements: the filter choices, the
Sources table, uploads, and the statement viewer (citation clicks and deep links).

Choices and the table are filled when a page loads (``on_load``), never baked into the
page's config: with ``RAG_UI_AUTH`` on, Gradio serves that config to the login page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from ingest.web import domain
from rag.errors import RagError, StatementNotFoundError
from rag.models import Citation, Statement
from rag.service import Services
from rag.settings import Settings
from ui.web import html
from ui.web.auth import may_change
from ui.web.toasts import for_web, info, unknown_statement, warn
from ui.web.uploads import ingest_with_progress, summary, upload_meta
from ui.web.weblinks import fetch_with_progress

SOURCES_HEADERS = ["Statement id", "Organization", "Author", "Date", "Title", "Source", "Passages"]
TEXT_CACHE_SIZE = 256
NOT_ALLOWED = "Only the administrators (RAG_UI_ADMINS) can add or delete statements."


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
        """The table, narrowed to an organization, an author and a date prefix (``2020``):
        speaker by speaker (the author, else the organization), each one's statements by
        date."""
        org, who, when = (organization or "").strip(), (author or "").strip(), (date or "").strip()
        return [
            [
                s.statement_id,
                s.organization or "",
                s.author or "",
                s.date or "",
                s.title or "",
                domain(s.source) or s.source,  # a web page: its site
                s.passages,
            ]
            for s in sorted(self.services.store.statements(), key=_by_speaker)
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
            return self._refused()
        meta = upload_meta(organization, author, date, title)
        try:
            lines = ingest_with_progress(self.settings, self.services, files or [], meta, progress)
        except RagError as exc:
            return self._ingested(None, exc)
        return self._ingested(lines)

    def add_urls(
        self,
        urls: str | None,
        organization: str | None,
        author: str | None,
        date: str | None,
        title: str | None,
        progress: gr.Progress = gr.Progress(),  # Gradio injects the progress tracker
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Fetch and ingest web pages (one URL per line), like ``rag ingest URL``.

        Returns (report, sources table, statement choices, organization choices, URL box).
        """
        if not may_change(self.settings, getattr(request, "username", None)):
            return self._refused()
        meta = upload_meta(organization, author, date, title)
        try:
            lines = fetch_with_progress(self.settings, self.services, urls or "", meta, progress)
        except RagError as exc:
            return self._ingested(None, exc)
        return self._ingested(lines, clear="")

    @staticmethod
    def _refused() -> tuple[Any, ...]:
        warn(NOT_ALLOWED)
        report = html.ingest_report([("error", NOT_ALLOWED)])
        return report, gr.skip(), gr.skip(), gr.skip(), gr.skip()

    def _ingested(
        self, lines: list[tuple[str, str]] | None, exc: RagError | None = None, clear: Any = None
    ) -> tuple[Any, ...]:
        """The report of an ingest (or its error), the refreshed table and choices; the
        form's input becomes ``clear``."""
        self.services.catalog.invalidate()
        if exc is not None or lines is None:
            message = for_web(exc) if exc is not None else "Nothing was ingested."
            warn(message)
            return (
                html.ingest_report([("error", message)]),
                gr.skip(),
                gr.skip(),
                gr.skip(),
                gr.skip(),
            )
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
            clear,
        )


def _by_speaker(statement: Statement) -> tuple[str, str, str]:
    return ((statement.speaker or "").lower(), statement.date or "", statement.statement_id)
