"""The Gradio chat UI: streamed, cited answers; a citations panel; a statement viewer.

It only calls ``rag/`` (and ``ingest/`` for uploads) and renders their typed results
with ``ui/html.py``; every statement text and user input is escaped there.

Endpoints usable with ``gradio_client`` (besides the page itself):

- ``/ask`` (question, statement_ids, organization, since, until, compare) returns exactly
  ``Answer.to_json_dict()``, the ``rag ask --json`` object. Only the question is required.
- ``/chat`` (same inputs) answers within the client's session, so follow-ups use the
  earlier answers as history; returns the same object plus ``resolved_question``.
- ``/upload`` (files, organization, author, date, title) ingests statement files.

Concurrency: ``demo.queue(default_concurrency_limit=settings.ui_concurrency)``, and the
chat, ``/chat`` and ``/ask`` events share one concurrency group, so at most
``RAG_UI_CONCURRENCY`` questions are answered at once across all users; the rest wait in
the queue and see their position. Answering is CPU-bound (one embedding model and one
Chroma client shared by every session), so more parallel work would only slow each
answer down. Ingesting uploads runs one at a time (``concurrency_limit=1``, plus the
ingest file lock). Cheap events (viewer, feedback, filters) use the default limit.

Safety: ``launch`` binds 127.0.0.1 unless told otherwise; any non-loopback address needs
``RAG_UI_AUTH`` (``user:password`` or a file of such lines) unless ``no_auth``; no share
link; uploads are limited to ``settings.max_upload_mb`` and to .txt/.md/.html/.pdf, and
are copied into ``settings.uploads_dir`` under a sanitised name.
"""

from __future__ import annotations

import atexit
import ipaddress
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.helpers import Examples

from ingest.pipeline import Ingestor
from ingest.uploads import UPLOAD_TYPES, ingest_uploads
from rag.errors import RagError
from rag.models import (
    Answer,
    Citation,
    CitationEvent,
    DoneEvent,
    Filters,
    RetrievalEvent,
    StatementMeta,
    TextEvent,
)
from rag.service import Services, build_services
from rag.settings import Settings
from ui import html
from ui.export import conversation_markdown
from ui.feedback import record_feedback

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
EXAMPLES = [
    "What is the Quds Force?",
    "How many US soldiers had died?",
    "How do the statements differ on the Democratic Party?",
    "What do the statements demand?",
]
ANSWER_GROUP = "answer"
SOURCES_HEADERS = ["Statement id", "Organization", "Author", "Date", "Title", "Source", "Passages"]

CITATIONS_JS = (STATIC / "citations.js").read_text(encoding="utf-8")
VIEWER_JS = (STATIC / "viewer.js").read_text(encoding="utf-8")
INTRO = (
    "## Statements Q&A\n"
    "Answers are made only of **verbatim quotes** from the ingested statements, each with "
    "its source. When the statements don't address a question, it says so."
)


class _Handlers:
    """The event handlers, over one ``Services``."""

    def __init__(self, services: Services, settings: Settings) -> None:
        self.services = services
        self.settings = settings
        self._texts: dict[tuple[str, str], str] = {}
        self._exports = Path(tempfile.mkdtemp(prefix="statements-qa-exports-"))
        atexit.register(shutil.rmtree, self._exports, True)

    # -- helpers ----------------------------------------------------------------

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
                if len(self._texts) > 256:
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

    def sources_rows(self) -> list[list[Any]]:
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
        ]

    def _export(self, answers: Sequence[Answer]) -> str:
        folder = self._exports / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "statements-qa-conversation.md"
        path.write_text(conversation_markdown(answers), encoding="utf-8")
        return str(path)

    @staticmethod
    def filters(
        statement_ids: Sequence[str] | None,
        organization: str | None,
        since: str | None,
        until: str | None,
    ) -> Filters:
        return Filters(
            statement_ids=[s for s in (statement_ids or []) if s],
            organization=(organization or "").strip() or None,
            since=(since or "").strip() or None,
            until=(until or "").strip() or None,
        )

    # -- chat -------------------------------------------------------------------

    def respond(
        self,
        message: str,
        chat: list[dict[str, Any]] | None,
        answers: list[Answer] | None,
        statement_ids: list[str] | None,
        organization: str | None,
        since: str | None,
        until: str | None,
        compare: bool,
        use_llm: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        """The chat: echo the question, then render the answer as its events arrive.

        Yields (textbox, chatbot, answers, citations panel, export button).
        """
        question = (message or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        history = list(answers or [])
        before = list(chat or [])
        pending = [
            *before,
            {"role": "user", "content": html.user_message(question)},
            {"role": "assistant", "content": html.pending_message()},
        ]
        yield "", [*pending], gr.skip(), gr.skip(), gr.skip()
        started = time.perf_counter()
        first_text = None
        citations: list[Citation] = []
        text = ""
        answer = None
        try:
            events = self.services.answerer.stream(
                question,
                self.filters(statement_ids, organization, since, until),
                history,
                compare=True if compare else None,
                use_llm=bool(use_llm),
            )
            for event in events:
                if isinstance(event, RetrievalEvent):
                    note = f"Reading {event.passages} passages…"
                    pending[-1] = {"role": "assistant", "content": html.pending_message(note)}
                elif isinstance(event, CitationEvent):
                    citations.append(event.citation)
                    continue
                elif isinstance(event, TextEvent):
                    if first_text is None:
                        first_text = time.perf_counter() - started
                    text += event.text
                    content = html.streaming_message(text)
                    pending[-1] = {"role": "assistant", "content": content}
                elif isinstance(event, DoneEvent):
                    answer = event.answer
                    continue
                yield gr.skip(), [*pending], gr.skip(), gr.skip(), gr.skip()
        except RagError as exc:
            gr.Warning(str(exc))
            yield question, before, gr.skip(), gr.skip(), gr.skip()
            return
        except Exception:  # a bug, not the user's doing: log it, keep the page usable
            logger.exception("answering %r failed", question)
            gr.Warning("Something went wrong while answering; the server log has details.")
            yield question, before, gr.skip(), gr.skip(), gr.skip()
            return
        if answer is None:  # pragma: no cover - the answerer always ends with DoneEvent
            raise gr.Error("The answer did not complete")
        logger.info(
            "answered %r in %.0f ms (first text after %.0f ms)",
            question,
            (time.perf_counter() - started) * 1000,
            (first_text or 0) * 1000,
        )
        pending[-1] = {"role": "assistant", "content": html.answer_message(answer)}
        history.append(answer)
        shown = answer.nearest if answer.abstained else answer.citations
        panel = html.citations_panel(answer, self.texts(shown))
        export = gr.update(value=self._export(history), interactive=True)
        yield gr.skip(), [*pending], history, panel, export

    def clear(self) -> tuple[Any, ...]:
        """New chat: (chatbot, answers, citations, viewer, export, comment, textbox)."""
        return (
            [],
            [],
            html.citations_panel(None, {}),
            html.viewer_placeholder(),
            gr.update(value=None, interactive=False),
            "",
            "",
        )

    # -- API --------------------------------------------------------------------

    def ask(
        self,
        question: str,
        statement_ids: list[str] | None = None,
        organization: str | None = None,
        since: str | None = None,
        until: str | None = None,
        compare: bool = False,
    ) -> dict[str, Any]:
        """Answer one question with verbatim quotes: the ``rag ask --json`` object."""
        filters = self.filters(statement_ids, organization, since, until)
        try:
            answer = self.services.answerer.answer(
                question, filters, compare=True if compare else None
            )
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return answer.to_json_dict()

    def chat_api(
        self,
        question: str,
        statement_ids: list[str] | None,
        organization: str | None,
        since: str | None,
        until: str | None,
        compare: bool,
        use_llm: bool,
        answers: list[Answer] | None,
    ) -> tuple[dict[str, Any], list[Answer]]:
        """One turn of the session's conversation (earlier answers are the history)."""
        history = list(answers or [])
        try:
            answer = self.services.answerer.answer(
                question,
                self.filters(statement_ids, organization, since, until),
                history,
                compare=True if compare else None,
                use_llm=bool(use_llm),
            )
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        result = {**answer.to_json_dict(), "resolved_question": answer.resolved_question}
        return result, [*history, answer]

    # -- viewer -----------------------------------------------------------------

    def viewer(self, statement_id: str, start: Any = None, end: Any = None) -> str:
        def number(value: Any) -> int | None:
            try:
                return int(value)
            except (TypeError, ValueError):
                return None

        try:
            statement = self.services.store.statement(str(statement_id))
        except RagError as exc:
            gr.Warning(str(exc))
            return html.viewer_placeholder(str(exc))
        return html.statement_viewer(statement, number(start), number(end))

    def open_citation(self, evt: gr.EventData) -> Any:
        data = getattr(evt, "_data", None) or {}
        if not isinstance(data, dict) or not data.get("statement"):
            return gr.skip()
        return self.viewer(data["statement"], data.get("start"), data.get("end"))

    def on_load(self, request: gr.Request) -> tuple[Any, ...]:
        """Fresh filter choices and sources; a deep link opens the viewer on its passage."""
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

    # -- feedback ---------------------------------------------------------------

    def feedback(self, helpful: bool, answers: list[Answer] | None, comment: str) -> str:
        if not answers:
            gr.Warning("Ask a question first, then rate the answer.")
            return comment
        try:
            record_feedback(self.settings, answers[-1], helpful, comment)
        except RagError as exc:
            gr.Warning(str(exc))
            return comment
        gr.Info("Thank you — your feedback was saved.")
        return ""

    # -- sources ----------------------------------------------------------------

    def upload(
        self,
        files: list[str] | None,
        organization: str | None,
        author: str | None,
        date: str | None,
        title: str | None,
        progress: gr.Progress = gr.Progress(),  # Gradio injects the progress tracker
    ) -> tuple[Any, ...]:
        """Copy uploads into the data directory, ingest them, refresh the choices.

        Returns (report, sources table, statement choices, organization choices, files).
        """
        meta = StatementMeta(
            organization=(organization or "").strip() or None,
            author=(author or "").strip() or None,
            date=(date or "").strip() or None,
            title=(title or "").strip() or None,
        )
        try:
            lines = self._ingest_uploads(files or [], meta, progress)
        except RagError as exc:
            gr.Warning(str(exc))
            report = html.ingest_report([("error", str(exc))])
            return report, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        finally:
            self.services.catalog.invalidate()
        ready = sum(1 for status, _ in lines if status in ("new", "updated", "unchanged"))
        if ready:
            gr.Info(f"{ready} statement(s) ready: ask about them now.")
        statements, orgs = self.choices()
        return (
            html.ingest_report(lines),
            self.sources_rows(),
            gr.update(choices=statements),
            gr.update(choices=orgs),
            None,
        )

    def _ingest_uploads(
        self, files: Sequence[str], meta: StatementMeta, progress: gr.Progress
    ) -> list[tuple[str, str]]:
        def step(done: int, total: int, path: Path) -> None:
            progress((done, total), desc=f"Ingested {path.name}")

        progress(0, desc="Ingesting")
        services = self.services
        return ingest_uploads(
            self.settings, services.store, services.embedder, files, meta, progress=step
        )


@dataclass
class _AskTab:
    chatbot: gr.Chatbot
    msg: gr.Textbox
    send: gr.Button
    examples: Examples
    statements: gr.Dropdown
    organization: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox
    compare: gr.Checkbox
    use_llm: gr.Checkbox
    new_chat: gr.Button
    export: gr.DownloadButton
    comment: gr.Textbox
    helpful: gr.Button
    unhelpful: gr.Button
    citations: gr.HTML
    viewer: gr.HTML


def _ask_tab(h: _Handlers) -> _AskTab:
    """Chat, examples, filters, export and feedback on the left; citations and viewer right."""
    statement_choices, org_choices = h.choices()
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=380):
            chatbot = gr.Chatbot(
                label="Conversation",
                show_label=False,
                elem_id="rag-chat",
                height=520,
                latex_delimiters=[],
                buttons=[],
                feedback_options=None,
                group_consecutive_messages=False,
                placeholder=(
                    "**Ask about the statements**, or pick an example below. Answers are "
                    "verbatim quotes; click a citation to read it in its statement."
                ),
            )
            with gr.Row():
                msg = gr.Textbox(
                    show_label=False,
                    placeholder="Ask a question about the statements…",
                    elem_id="rag-question",
                    scale=5,
                    autofocus=True,
                )
                send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
            examples = gr.Examples([[q] for q in EXAMPLES], inputs=[msg], label="Example questions")
            with gr.Accordion("Filters", open=False):
                statements = gr.Dropdown(
                    choices=statement_choices,
                    multiselect=True,
                    allow_custom_value=True,
                    label="Only these statements",
                )
                organization = gr.Dropdown(
                    choices=org_choices, value="", allow_custom_value=True, label="Organization"
                )
                with gr.Row():
                    since = gr.Textbox("", label="Since", placeholder="YYYY[-MM[-DD]]")
                    until = gr.Textbox("", label="Until", placeholder="YYYY[-MM[-DD]]")
                compare = gr.Checkbox(label="Compare: one column per statement")
                # Shown only when RAG_LLM is configured; its quotes are verified like any other.
                use_llm = gr.Checkbox(
                    label="LLM answer (every quote checked against the statement)",
                    visible=h.services.answerer.llm is not None,
                )
            with gr.Row():
                new_chat = gr.Button("New chat", size="sm")
                export = gr.DownloadButton("Export as Markdown", size="sm", interactive=False)
            with gr.Accordion("Was the latest answer helpful?", open=False):
                comment = gr.Textbox(label="Comment (optional)", lines=2, max_lines=6)
                with gr.Row():
                    helpful = gr.Button("👍 Helpful", size="sm")
                    unhelpful = gr.Button("👎 Not helpful", size="sm")
        with gr.Column(scale=2, min_width=320):
            citations = gr.HTML(
                html.citations_panel(None, {}),
                js_on_load=CITATIONS_JS,
                elem_id="rag-citations-panel",
            )
            viewer = gr.HTML(html.viewer_placeholder(), js_on_load=VIEWER_JS, elem_id="rag-viewer")
    return _AskTab(
        chatbot=chatbot,
        msg=msg,
        send=send,
        examples=examples,
        statements=statements,
        organization=organization,
        since=since,
        until=until,
        compare=compare,
        use_llm=use_llm,
        new_chat=new_chat,
        export=export,
        comment=comment,
        helpful=helpful,
        unhelpful=unhelpful,
        citations=citations,
        viewer=viewer,
    )


def _sources_tab(
    h: _Handlers, settings: Settings
) -> tuple[gr.Dataframe, gr.File, list[gr.Textbox], gr.Button, gr.HTML]:
    """The statements table and the upload form (files, metadata, button, report)."""
    sources = gr.Dataframe(
        value=h.sources_rows(),
        headers=SOURCES_HEADERS,
        interactive=False,
        wrap=True,
        column_widths=["15%", "16%", "11%", "9%", "27%", "14%", "8%"],
        label="Ingested statements",
        elem_id="rag-sources",
    )
    gr.Markdown(
        f"**Add statements** — {', '.join(UPLOAD_TYPES)} files up to "
        f"{settings.max_upload_mb:g} MB each. Metadata below applies to every file of this "
        "upload (leave empty to use what the file declares)."
    )
    files = gr.File(file_count="multiple", file_types=list(UPLOAD_TYPES), label="Statement files")
    with gr.Row():
        meta = [
            gr.Textbox("", label="Organization"),
            gr.Textbox("", label="Author"),
            gr.Textbox("", label="Date", placeholder="YYYY[-MM[-DD]]"),
            gr.Textbox("", label="Title"),
        ]
    ingest_btn = gr.Button("Ingest files", variant="primary")
    report = gr.HTML(label="report")
    return sources, files, meta, ingest_btn, report


def build_app(services: Services, settings: Settings) -> gr.Blocks:
    """The Blocks app over ``services``; start it with ``serve`` (or ``launch``)."""
    h = _Handlers(services, settings)
    with gr.Blocks(
        title="Statements Q&A", analytics_enabled=False, delete_cache=(3600, 86400)
    ) as demo:
        answers = gr.State([])
        gr.Markdown(INTRO)
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                ask = _ask_tab(h)
            with gr.Tab("Sources", id="sources") as sources_tab:
                sources, files, meta, ingest_btn, report = _sources_tab(h, settings)
        # API-only parts of /chat: a question box and a JSON result, never shown.
        with gr.Column(visible=False):
            api_question = gr.Textbox(label="question")
            api_result = gr.JSON(label="answer")
            api_trigger = gr.Button("chat")

        filters = [ask.statements, ask.organization, ask.since, ask.until, ask.compare, ask.use_llm]
        chat: dict[str, Any] = {
            "inputs": [ask.msg, ask.chatbot, answers, *filters],
            "outputs": [ask.msg, ask.chatbot, answers, ask.citations, ask.export],
            "api_visibility": "private",
            "show_progress": "minimal",
        }
        limits: dict[str, Any] = {
            "concurrency_id": ANSWER_GROUP,
            "concurrency_limit": settings.ui_concurrency,
        }
        private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
        # "always_last": a question sent while the previous answer is still finishing runs
        # right after it (Gradio's default, "once", would drop it silently).
        gr.on(
            [ask.msg.submit, ask.send.click],
            h.respond,
            **chat,
            **limits,
            trigger_mode="always_last",
        )
        ask.examples.load_input_event.then(h.respond, **chat, **limits)
        reset = [ask.chatbot, answers, ask.citations, ask.viewer, ask.export, ask.comment, ask.msg]
        ask.new_chat.click(h.clear, outputs=reset, queue=False, **private)
        ask.chatbot.clear(h.clear, outputs=reset, queue=False, **private)
        ask.citations.click(h.open_citation, outputs=[ask.viewer], **private)
        for button, verdict in ((ask.helpful, True), (ask.unhelpful, False)):
            button.click(
                partial(h.feedback, verdict),
                [answers, ask.comment],
                [ask.comment],
                api_visibility="private",
            )
        ingest_btn.click(
            h.upload,
            inputs=[files, *meta],
            outputs=[report, sources, ask.statements, ask.organization, files],
            api_name="upload",
            concurrency_limit=1,
            concurrency_id="ingest",
        )
        api_trigger.click(
            h.chat_api,
            inputs=[api_question, *filters, answers],
            outputs=[api_result, answers],
            api_name="chat",
            **limits,
        )
        gr.api(h.ask, api_name="ask", **limits)
        # Refreshed when shown: other sessions may have ingested, and a table first drawn
        # in a hidden tab shows no rows until it is given its value again.
        sources_tab.select(h.sources_rows, outputs=[sources], **private)
        demo.load(
            h.on_load, outputs=[ask.viewer, ask.statements, ask.organization, sources], **private
        )
    return demo


# -- launching ----------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> list[tuple[str, str]]:
    """``user:password``, or a path to a file with one such line per user."""
    if not value:
        return []
    path = Path(value).expanduser()
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else [value]
    except OSError as exc:
        raise RagError(f"Cannot read the UI auth file {path}: {exc.strerror}") from exc
    pairs = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not (sep and user.strip() and password):
            raise RagError(
                "RAG_UI_AUTH must be user:password or a file of such lines",
                hint="e.g. RAG_UI_AUTH=alice:long-secret",
            )
        pairs.append((user.strip(), password))
    return pairs


def auth_for(settings: Settings, host: str, no_auth: bool) -> list[tuple[str, str]] | None:
    """The credentials to require, or a clear error for an unprotected public address."""
    pairs = parse_auth(settings.ui_auth)
    if pairs:
        return pairs
    if _is_loopback(host) or no_auth:
        return None
    raise RagError(
        f"Refusing to listen on {host} without a password",
        hint="set RAG_UI_AUTH=user:password (or a file of such lines), or pass --no-auth",
    )


def serve(
    demo: gr.Blocks,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    no_auth: bool = False,
    quiet: bool = False,
) -> str:
    """Queue and start ``demo`` in the background; returns its local URL."""
    auth = auth_for(settings, host, no_auth)
    demo.queue(default_concurrency_limit=settings.ui_concurrency)
    try:
        _, url, _ = demo.launch(
            server_name=host,
            server_port=port,
            share=False,
            auth=auth,
            max_file_size=int(settings.max_upload_mb * 1024 * 1024),
            prevent_thread_lock=True,
            quiet=quiet,
            show_error=False,
            ssr_mode=False,
            footer_links=["api"],
            theme=gr.themes.Soft(
                font=["ui-sans-serif", "system-ui", "sans-serif"],
                font_mono=["ui-monospace", "monospace"],
            ),
            css_paths=[STATIC / "app.css"],
        )
    except OSError as exc:  # port taken, address not available
        raise RagError(
            f"Cannot listen on {host}:{port}: {str(exc).splitlines()[0]}",
            hint="choose another --port",
        ) from None
    return url


def prepare(services: Services, ingest_if_empty: bool = True) -> None:
    """Ingest the bundled statements into an empty store; load the model and the index."""
    if ingest_if_empty and not services.store.statements():
        logger.warning("The store is empty: ingesting the bundled statements first")
        report = Ingestor(services.settings, services.store, services.embedder).run()
        logger.warning(
            "Ingested %s in %.1fs",
            ", ".join(f"{v} {k}" for k, v in report.summary().items() if v),
            report.seconds,
        )
        services.catalog.invalidate()
    started = time.perf_counter()
    services.embedder.embed_query("warm up")
    services.catalog.snapshot()
    logger.info("model and keyword index ready in %.1fs", time.perf_counter() - started)


def launch(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    no_auth: bool = False,
    ingest_if_empty: bool = True,
) -> None:
    """Start the UI and block until interrupted (``rag ui``)."""
    auth_for(settings, host, no_auth)  # fail before the slow parts
    services = build_services(settings)
    prepare(services, ingest_if_empty)
    demo = build_app(services, settings)
    url = serve(demo, settings, host, port, no_auth)
    logger.info("Statements Q&A is running on %s", url)
    try:
        demo.block_thread()
    finally:
        demo.close()
