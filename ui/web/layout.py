"""The Gradio page: the Conversations sidebar, the Ask tab (chat, filter chips, question
box with Stop, filters, citations, viewer), the Sources tab (table, delete, uploads) and
the hidden parts of the ``/chat`` API. Its events are wired in ``ui/web/events.py``.

Endpoints usable with ``gradio_client`` (besides the page itself):

- ``/ask`` (question, statement_ids, organization, since, until, compare, author) returns
  exactly ``Answer.to_json_dict()``, the ``rag ask --json`` object. Only the question is
  required.
- ``/chat`` (question, statement_ids, organization, author, since, until, compare,
  use_llm) answers within the client's session, so follow-ups use the earlier answers as
  history; returns the same object plus ``resolved_question``. (The page's own chat is
  saved as a conversation; the API's is not.)
- ``/upload`` (files, organization, author, date, title) ingests statement files.
- ``/ingest_urls`` (urls: one per line, organization, author, date, title) fetches web
  pages and ingests their main text, like ``rag ingest URL``.

Nothing about the statements or the conversations is placed in the page's initial config
(choices, table, list): the load event fills them, so a login page reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from gradio.helpers import Examples

from rag.service import Services
from rag.settings import Settings
from ui.web import html
from ui.web.auth import admins
from ui.web.chips import ActiveFilters, active_chips, chips_html
from ui.web.events import Page, wire
from ui.web.examples import BUNDLED_EXAMPLES
from ui.web.history import BROWSER_KEY, browser_secret
from ui.web.sources import SOURCES_HEADERS
from ui.web.uploads import UPLOAD_TYPES

STATIC = Path(__file__).parent / "static"
# The answer modes the page offers (rag.stages.intent): value "auto" reads the question.
MODE_CHOICES = [
    ("Auto", "auto"),
    ("Compare speakers", "compare"),
    ("Positions of all speakers", "positions"),
    ("One speaker's timeline", "timeline"),
]
EXAMPLES = BUNDLED_EXAMPLES  # until the page loads: then made from the store (examples.py)
ANSWER_GROUP = "answer"
CITATIONS_JS = (STATIC / "citations.js").read_text(encoding="utf-8")
VIEWER_JS = (STATIC / "viewer.js").read_text(encoding="utf-8")
ACTIONS_JS = (STATIC / "actions.js").read_text(encoding="utf-8")
CARDS_JS = (STATIC / "cards.js").read_text(encoding="utf-8")
INTRO = (
    "# Statements Q&A\n"
    "Answers are made only of **verbatim quotes** from the ingested statements, each with "
    "its source. When the statements don't address a question, it says so."
)


@dataclass
class _AskTab:
    chatbot: gr.Chatbot
    msg: gr.Textbox
    send: gr.Button
    stop: gr.Button
    chips: gr.HTML
    failed: gr.Textbox
    run: gr.Textbox
    examples: Examples
    statements: gr.Dropdown
    organization: gr.Dropdown
    author: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox
    compare: gr.Checkbox  # never shown: the /chat API's compare flag
    mode: gr.Radio
    use_llm: gr.Checkbox
    new_chat: gr.Button
    export: gr.DownloadButton
    export_csv: gr.DownloadButton
    comment: gr.Textbox
    helpful: gr.Button
    unhelpful: gr.Button
    citations: gr.HTML
    viewer: gr.HTML


def _question_box(settings: Settings) -> tuple[gr.HTML, gr.Textbox, gr.Button, gr.Button]:
    """The active filters as chips, the question box with Ask/Stop, and its counter."""
    chips = gr.HTML(
        chips_html(active_chips(ActiveFilters())), js_on_load=ACTIONS_JS, elem_id="rag-chips"
    )
    with gr.Row(elem_id="rag-ask-row"):
        msg = gr.Textbox(
            label="Question",  # its accessible name; not shown
            show_label=False,
            placeholder="Ask a question about the statements…",
            elem_id="rag-question",
            scale=5,
            autofocus=True,
        )
        send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="rag-send")
        stop = gr.Button(
            "Answering… ■ Stop",
            variant="stop",
            scale=1,
            min_width=80,
            visible=False,
            elem_id="rag-stop",
        )
    limit = settings.max_question_chars
    gr.HTML(
        f'<span class="rag-count" data-max="{limit}" aria-live="off">0 / {limit:,}</span>',
        elem_id="rag-count",
    )
    return chips, msg, send, stop


def _filters() -> tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown, gr.Textbox, gr.Textbox]:
    statements = gr.Dropdown(
        choices=[],  # filled on load, for the logged-in page only
        multiselect=True,
        allow_custom_value=True,
        label="Only these statements",
    )
    with gr.Row():
        organization = gr.Dropdown(
            choices=[("Any organization", "")],
            value="",
            allow_custom_value=True,
            label="Organization",
        )
        author = gr.Dropdown(
            choices=[("Any author", "")], value="", allow_custom_value=True, label="Author"
        )
    with gr.Row():
        since = gr.Textbox("", label="Since", placeholder="YYYY[-MM[-DD]]")
        until = gr.Textbox("", label="Until", placeholder="YYYY[-MM[-DD]]")
    return statements, organization, author, since, until


def _ask_tab(settings: Settings, llm_available: bool) -> _AskTab:
    """Chat, examples, filters, export and feedback on the left; citations and viewer right."""
    with gr.Row(equal_height=False, elem_id="rag-ask"):
        with gr.Column(scale=3, min_width=300):
            chatbot = gr.Chatbot(
                label="Conversation",
                show_label=False,
                elem_id="rag-chat",
                height=520,
                latex_delimiters=[],
                buttons=[],
                feedback_options=("Like", "Dislike"),
                group_consecutive_messages=False,
                placeholder=(
                    "**Ask about the statements**, or pick an example below. Answers are "
                    "verbatim quotes; click a citation to read it in its statement."
                ),
            )
            chips, msg, send, stop = _question_box(settings)
            # the last question that failed (never shown): see ui/web/events.py
            failed = gr.Textbox("", show_label=False, elem_classes=["rag-hidden"], container=False)
            # the running question's token, set in the page (never shown): ui/web/stops.py
            run = gr.Textbox("", show_label=False, elem_classes=["rag-hidden"], container=False)
            mode = gr.Radio(
                MODE_CHOICES,
                value="auto",
                label="Answer as",
                elem_id="rag-mode",
                info="Auto reads it from the question; or choose, with no special phrasing.",
            )
            examples = gr.Examples([[q] for q in EXAMPLES], inputs=[msg], label="Example questions")
            with gr.Accordion("Filters", open=False):
                statements, organization, author, since, until = _filters()
                compare = gr.Checkbox(value=False, visible=False)
                # Shown only when RAG_LLM is configured; its quotes are verified like any other.
                use_llm = gr.Checkbox(
                    label="LLM answer (every quote checked against the statement)",
                    visible=llm_available,
                )
            with gr.Row():
                new_chat = gr.Button("New chat", size="sm")
                export = gr.DownloadButton("Export as Markdown", size="sm", interactive=False)
                export_csv = gr.DownloadButton(
                    "Latest answer as CSV", size="sm", interactive=False, elem_id="rag-csv"
                )
            with gr.Accordion("Was the latest answer helpful?", open=False):
                gr.Markdown("Or rate any answer with 👍/👎 under it; a comment here goes with it.")
                comment = gr.Textbox(label="Comment (optional)", lines=2, max_lines=6)
                with gr.Row():
                    helpful = gr.Button("👍 Helpful", size="sm")
                    unhelpful = gr.Button("👎 Not helpful", size="sm")
        with gr.Column(scale=2, min_width=300):
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
        stop=stop,
        chips=chips,
        failed=failed,
        run=run,
        examples=examples,
        statements=statements,
        organization=organization,
        author=author,
        since=since,
        until=until,
        compare=compare,
        mode=mode,
        use_llm=use_llm,
        new_chat=new_chat,
        export=export,
        export_csv=export_csv,
        comment=comment,
        helpful=helpful,
        unhelpful=unhelpful,
        citations=citations,
        viewer=viewer,
    )


@dataclass
class _SourcesTab:
    table: gr.Dataframe
    cards: gr.HTML
    organization: gr.Dropdown
    author: gr.Dropdown
    date: gr.Textbox
    remove: gr.Dropdown
    delete: gr.Button
    deleter: gr.Row
    uploader: gr.Column
    files: gr.File
    meta: list[gr.Textbox]
    ingest: gr.Button
    report: gr.HTML
    urls: gr.Textbox
    fetch: gr.Button


def _sources_tab(settings: Settings) -> _SourcesTab:
    """The statements table (filters, open, delete) and the upload form."""
    with gr.Row():
        organization = gr.Dropdown(
            [("Any organization", "")], value="", label="Organization", elem_id="rag-src-org"
        )
        author = gr.Dropdown(
            [("Any author", "")], value="", label="Author", elem_id="rag-src-author"
        )
        date = gr.Textbox(
            "", label="Date", placeholder="YYYY[-MM[-DD]] and Enter", elem_id="rag-src-date"
        )
    table = gr.Dataframe(
        value=[],  # filled on load, for the logged-in page only
        headers=SOURCES_HEADERS,
        interactive=False,
        wrap=True,
        column_widths=["15%", "16%", "11%", "9%", "27%", "14%", "8%"],
        label="Ingested statements — click a row to read the statement",
        elem_id="rag-sources",
        type="array",
    )
    # the same rows as cards, shown instead of the table on narrow screens (app.css)
    cards = gr.HTML("", js_on_load=CARDS_JS, elem_id="rag-source-cards")
    # with RAG_UI_ADMINS, shown on load to the administrators only
    everyone = admins(settings) is None
    with gr.Row(equal_height=True, visible=everyone) as deleter:
        remove = gr.Dropdown(
            [], multiselect=True, label="Delete statements", scale=4, elem_id="rag-remove"
        )
        delete = gr.Button("Delete selected…", variant="stop", scale=1, elem_id="rag-delete")
    with gr.Column(visible=everyone) as uploader:
        gr.Markdown(
            f"**Add statements** — {' '.join(UPLOAD_TYPES)} files up to "
            f"{settings.max_upload_mb:g} MB each. Metadata below applies to every file of "
            "this upload; leave it empty to use what each file declares (front matter), or "
            'add a `statements.json` with them: `{"file.txt": {"organization": "…", '
            '"date": "2020"}}`.'
        )
        # no file_types: a file of another type is reported as skipped in the summary
        files = gr.File(file_count="multiple", label="Statement files")
        with gr.Row():
            meta = [
                gr.Textbox("", label="Organization"),
                gr.Textbox("", label="Author"),
                gr.Textbox("", label="Date", placeholder="YYYY[-MM[-DD]]"),
                gr.Textbox("", label="Title"),
            ]
        ingest_btn = gr.Button("Ingest files", variant="primary")
        urls = gr.Textbox(
            "",
            lines=2,
            max_lines=12,
            label="Or web pages: one URL per line (main text only; the metadata above applies)",
            placeholder="https://example.org/news/statement-on-housing",
            elem_id="rag-urls",
        )
        fetch = gr.Button("Fetch and ingest pages", elem_id="rag-fetch")
    report = gr.HTML(label="report", elem_id="rag-report")
    return _SourcesTab(
        table,
        cards,
        organization,
        author,
        date,
        remove,
        delete,
        deleter,
        uploader,
        files,
        meta,
        ingest_btn,
        report,
        urls,
        fetch,
    )


def build_app(services: Services, settings: Settings) -> gr.Blocks:
    """The Blocks app over ``services``; start it with ``serve`` (or ``launch``)."""
    with gr.Blocks(
        title="Statements Q&A", analytics_enabled=False, delete_cache=(3600, 86400)
    ) as demo:
        browser_id = gr.BrowserState(
            "", storage_key=BROWSER_KEY, secret=browser_secret(settings.home)
        )
        gr.Markdown(INTRO)
        with gr.Tabs() as tabs:
            with gr.Tab("Ask", id="ask"):
                ask = _ask_tab(settings, services.answerer.llm is not None)
            with gr.Tab("Sources", id="sources") as sources_tab:
                src_tab = _sources_tab(settings)
        # Declared after the page's main part, so Tab reaches the question box before
        # the saved conversations (the sidebar's place on screen is the same).
        with gr.Sidebar(label="Conversations", open=True, elem_id="rag-sidebar"):
            conversations = gr.Radio(
                [],
                label="Conversations",
                info="Saved for your login, or in this browser. Open one to continue it.",
                elem_id="rag-conversations",
                type="value",
            )
            name = gr.Textbox(
                "",
                label="Name of this conversation",
                placeholder="Open or start a conversation",
                elem_id="rag-conv-name",
                max_lines=1,
            )
            with gr.Row():
                rename = gr.Button("Rename", size="sm", elem_id="rag-rename")
                forget = gr.Button("Delete…", size="sm", variant="stop", elem_id="rag-forget")
        # API-only parts of /chat: a question box and a JSON result, never shown.
        with gr.Column(visible=False):
            api_question = gr.Textbox(label="question")
            api_result = gr.JSON(label="answer")
            api_trigger = gr.Button("chat")
            confirmed = gr.Textbox(label="confirmed")
        wire(
            Page(
                services=services,
                settings=settings,
                ask=ask,
                sources=src_tab,
                sources_tab=sources_tab,
                tabs=tabs,
                browser_id=browser_id,
                conversations=conversations,
                name=name,
                rename=rename,
                forget=forget,
                api_question=api_question,
                api_result=api_result,
                api_trigger=api_trigger,
                confirmed=confirmed,
                load_trigger=demo.load,
            )
        )
    return demo
