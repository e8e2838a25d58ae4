"""The Gradio page: the Ask tab (chat, filters, citations, viewer), the Sources tab, the
hidden parts of the ``/chat`` API, and the wiring of events to ``ui/handlers.py`` and
``ui/sources.py``.

Endpoints usable with ``gradio_client`` (besides the page itself):

- ``/ask`` (question, statement_ids, organization, since, until, compare) returns exactly
  ``Answer.to_json_dict()``, the ``rag ask --json`` object. Only the question is required.
- ``/chat`` (same inputs) answers within the client's session, so follow-ups use the
  earlier answers as history; returns the same object plus ``resolved_question``.
- ``/upload`` (files, organization, author, date, title) ingests statement files.

Concurrency: the chat, ``/chat`` and ``/ask`` events share one concurrency group, so at
most ``RAG_UI_CONCURRENCY`` questions are answered at once across all users; the rest
wait in the queue and see their position. Answering is CPU-bound (one embedding model
and one Chroma client shared by every session). Ingesting uploads runs one at a time
(``concurrency_limit=1``, plus the ingest file lock). Cheap events use the default.

Nothing about the statements is placed in the page's initial config (choices, table):
``demo.load`` fills them, so a login page reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.helpers import Examples

from rag.service import Services
from rag.settings import Settings
from ui import html
from ui.handlers import ChatHandlers
from ui.sources import SOURCES_HEADERS, SourceHandlers
from ui.uploads import UPLOAD_TYPES

STATIC = Path(__file__).parent / "static"
EXAMPLES = [
    "What is the Quds Force?",
    "How many US soldiers had died?",
    "How do the statements differ on the Democratic Party?",
    "What do the statements demand?",
]
ANSWER_GROUP = "answer"
CITATIONS_JS = (STATIC / "citations.js").read_text(encoding="utf-8")
VIEWER_JS = (STATIC / "viewer.js").read_text(encoding="utf-8")
INTRO = (
    "## Statements Q&A\n"
    "Answers are made only of **verbatim quotes** from the ingested statements, each with "
    "its source. When the statements don't address a question, it says so."
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


def _ask_tab(llm_available: bool) -> _AskTab:
    """Chat, examples, filters, export and feedback on the left; citations and viewer right."""
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
                    choices=[],  # filled on load, for the logged-in page only
                    multiselect=True,
                    allow_custom_value=True,
                    label="Only these statements",
                )
                organization = gr.Dropdown(
                    choices=[("Any organization", "")],
                    value="",
                    allow_custom_value=True,
                    label="Organization",
                )
                with gr.Row():
                    since = gr.Textbox("", label="Since", placeholder="YYYY[-MM[-DD]]")
                    until = gr.Textbox("", label="Until", placeholder="YYYY[-MM[-DD]]")
                compare = gr.Checkbox(label="Compare: one column per statement")
                # Shown only when RAG_LLM is configured; its quotes are verified like any other.
                use_llm = gr.Checkbox(
                    label="LLM answer (every quote checked against the statement)",
                    visible=llm_available,
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
    settings: Settings,
) -> tuple[gr.Dataframe, gr.File, list[gr.Textbox], gr.Button, gr.HTML]:
    """The statements table and the upload form (files, metadata, button, report)."""
    sources = gr.Dataframe(
        value=[],  # filled on load, for the logged-in page only
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
    src = SourceHandlers(services, settings)
    h = ChatHandlers(services, settings, src)
    with gr.Blocks(
        title="Statements Q&A", analytics_enabled=False, delete_cache=(3600, 86400)
    ) as demo:
        answers = gr.State([])
        gr.Markdown(INTRO)
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                ask = _ask_tab(services.answerer.llm is not None)
            with gr.Tab("Sources", id="sources") as sources_tab:
                sources, files, meta, ingest_btn, report = _sources_tab(settings)
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
        ask.citations.click(src.open_citation, outputs=[ask.viewer], **private)
        for button, verdict in ((ask.helpful, True), (ask.unhelpful, False)):
            button.click(
                partial(h.feedback, verdict),
                [answers, ask.comment],
                [ask.comment],
                api_visibility="private",
            )
        ingest_btn.click(
            src.upload,
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
        sources_tab.select(src.sources_rows, outputs=[sources], **private)
        demo.load(
            src.on_load, outputs=[ask.viewer, ask.statements, ask.organization, sources], **private
        )
    return demo
