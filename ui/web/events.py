"""The page's events: which handler runs on what, with which inputs and outputs.

Concurrency: the chat, ``/chat`` and ``/ask`` events share one concurrency group, so at
most ``RAG_UI_CONCURRENCY`` questions are answered at once across all users; the rest
wait in the queue and see their position. Ingesting uploads and deleting statements run
one at a time (``concurrency_id="ingest"``). Cheap events use the default.

While an answer runs, Ask turns into Stop; the box stays editable, and a question sent
meanwhile runs right after (``always_last``). Stop does not cancel Gradio's event: it
marks the question's token stopped, and the answer stops at its next step without being
saved (``ui/web/stops.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from rag.service import Services
from rag.settings import Settings
from ui.web.api import ApiHandlers
from ui.web.chat import ChatHandlers
from ui.web.examples import Examples
from ui.web.filters import ChipHandlers
from ui.web.history import ConversationHandlers
from ui.web.ratings import RatingHandlers
from ui.web.removal import DeleteHandlers
from ui.web.sources import SourceHandlers

ANSWER_GROUP = "answer"
RESTORE = "(failed, box) => (box && box.trim()) || !failed ? box : failed"
# The question box is emptied in the page the moment a question is sent, not by the
# server's first update: that one can land after the user has started typing the next
# question, and would wipe it. The question gets a token (the last input), which Stop sends
# with the question, so a question stopped before it started still comes back.
SEND_JS = (
    "(...values) => { const box = document.querySelector('#rag-question textarea');"
    " window.__ragRun = crypto.randomUUID ? crypto.randomUUID()"  # only on https/localhost
    " : Array.from(crypto.getRandomValues(new Uint32Array(4))).join('-');"
    " window.__ragAsked = values[0];"
    " if (box) { box.value = ''; box.dispatchEvent(new Event('input', {bubbles: true})); }"
    " values[values.length - 1] = window.__ragRun; return values; }"
)
STOP_JS = "(run, asked, box) => [window.__ragRun || '', window.__ragAsked || '', box]"
# A confirm() in the page: the second input is a hidden slot that carries the answer
# ("yes" or ""), so a declined confirmation never sends a value a field would refuse.
_CONFIRM = "(chosen, ok, ...rest) => [chosen, confirm({text}) ? 'yes' : '', ...rest]"


# one confirmation for all the chosen statements (none chosen: the server says so)
DELETE_STATEMENTS_JS = (
    "(chosen, ok) => [chosen, !(chosen && chosen.length) || confirm(`Delete ${chosen.length}"
    " statement(s) from the store? Answers will no longer quote them.`) ? 'yes' : '']"
)


def _confirm(text: str) -> str:
    return _CONFIRM.replace("{text}", text)


@dataclass
class Page:
    services: Services
    settings: Settings
    ask: Any  # layout._AskTab
    sources: Any  # layout._SourcesTab
    sources_tab: gr.Tab
    tabs: gr.Tabs
    browser_id: gr.BrowserState
    conversations: gr.Radio
    name: gr.Textbox
    rename: gr.Button
    forget: gr.Button
    api_question: gr.Textbox
    api_result: gr.JSON
    api_trigger: gr.Button
    confirmed: gr.Textbox  # hidden: the answer of a confirm() in the page
    load_trigger: Any  # the Blocks' load event


def _working() -> tuple[Any, Any]:
    return gr.update(visible=False), gr.update(visible=True)


def _idle() -> tuple[Any, Any]:
    return gr.update(visible=True), gr.update(visible=False)


def wire(p: Page) -> None:
    """Attach every event of the page (inside its ``gr.Blocks``)."""
    ask, tab = p.ask, p.sources
    src = SourceHandlers(p.services, p.settings)
    h = ChatHandlers(p.services, p.settings, src)
    api = ApiHandlers(p.services)
    rate = RatingHandlers(p.settings, h.conversations)
    conv = ConversationHandlers(h.conversations)
    chips = ChipHandlers(src)
    examples = Examples(p.services)
    removal = DeleteHandlers(p.services, p.settings, src)
    answers = gr.State([])
    conversation = gr.State("")
    edit_turn = gr.State(None)
    version = gr.State(None)  # of the open conversation, as this page last saw it

    fields = [ask.statements, ask.organization, ask.author, ask.since, ask.until, ask.mode]
    turn_state = [conversation, edit_turn, p.browser_id, version]
    saved = [conversation, p.conversations, edit_turn, version, ask.failed]
    chat: dict[str, Any] = {
        "inputs": [ask.msg, ask.chatbot, answers, *turn_state, *fields, ask.use_llm, ask.run],
        "outputs": [ask.msg, ask.chatbot, answers, ask.citations, ask.export, *saved],
        "api_visibility": "private",
        "show_progress": "minimal",
    }
    limits: dict[str, Any] = {
        "concurrency_id": ANSWER_GROUP,
        "concurrency_limit": p.settings.ui_concurrency,
    }
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    buttons = [ask.send, ask.stop]
    triggers = [ask.msg.submit, ask.send.click]
    gr.on(triggers, _working, outputs=buttons, queue=False, **private)
    # "always_last": a question sent while the previous answer is still finishing runs
    # right after it (Gradio's default, "once", would drop it silently).
    answering = gr.on(triggers, h.respond, js=SEND_JS, **chat, **limits, trigger_mode="always_last")
    answering.then(_idle, outputs=buttons, queue=False, **private)
    # a failed or stopped question comes back to the box, unless something new was typed
    ask.failed.change(None, [ask.failed, ask.msg], [ask.msg], js=RESTORE, **private)
    example = ask.examples.load_input_event.then(_working, outputs=buttons, queue=False, **private)
    from_example = example.then(h.respond, js=SEND_JS, **chat, **limits)
    from_example.then(_idle, outputs=buttons, queue=False, **private)
    # (the hidden `failed` box is only a slot here: STOP_JS sends the asked question in it)
    ask.stop.click(
        h.stop, [ask.run, ask.failed, ask.msg], [ask.msg], js=STOP_JS, queue=False, **private
    ).then(_idle, outputs=buttons, queue=False, **private)

    reset = [ask.chatbot, answers, ask.citations, ask.viewer, ask.export, ask.comment, ask.msg]
    reset += [conversation, p.conversations, edit_turn, version]
    cleared = [
        ask.new_chat.click(h.clear, outputs=reset, queue=False, **private),
        ask.chatbot.clear(h.clear, outputs=reset, queue=False, **private),
    ]
    ask.citations.click(src.open_citation, outputs=[ask.viewer], **private)

    # feedback: 👍/👎 under any answer, or the accordion's buttons for the latest one
    rating = [answers, ask.comment, conversation, p.browser_id]
    ask.chatbot.like(rate.like, rating, [ask.comment], **private)
    for button, verdict in ((ask.helpful, True), (ask.unhelpful, False)):
        button.click(partial(rate.feedback, verdict), rating, [ask.comment, ask.chatbot], **private)

    # filter chips (shown with the Filters closed) and edit-and-resend
    watched = [*fields, edit_turn]
    gr.on([f.change for f in watched], chips.render, watched, [ask.chips], queue=False, **private)
    ask.chips.click(
        chips.action, [ask.statements, answers], [*fields, edit_turn, ask.msg], **private
    )

    # saved conversations
    opened = p.conversations.input(
        conv.open,
        [p.conversations, p.browser_id],
        [ask.chatbot, answers, conversation, p.name, edit_turn, version],
        **private,
    )
    opened.then(h.opened, [answers], [ask.citations, ask.export], **private)
    # the latest answer's CSV follows every change of the answers (asked, cleared, opened)
    for changed in (answering, from_example, opened, *cleared):
        changed.then(h.export_csv, [answers], [ask.export_csv], **private)
    p.conversations.change(conv.name_of, [p.conversations, p.browser_id], [p.name], **private)
    p.rename.click(conv.rename, [conversation, p.name, p.browser_id], [p.conversations], **private)
    # the list's selection is the open conversation (a confirm() can edit its value)
    p.forget.click(
        conv.delete,
        [p.conversations, p.confirmed, p.browser_id],
        [p.conversations, conversation],
        js=_confirm(repr("Delete this conversation? This cannot be undone.")),
        **private,
    ).then(h.clear_unless_kept, [conversation], reset, **private)

    # sources: filter, open a row, delete, upload
    table_filters = [tab.organization, tab.author, tab.date]
    gr.on(
        [tab.organization.change, tab.author.change, tab.date.submit],
        src.sources_rows,
        table_filters,
        [tab.table],
        **private,
    )
    tab.table.select(src.open_row, outputs=[ask.viewer, p.tabs], **private)
    tab.table.change(src.cards, [tab.table], [tab.cards], **private)
    tab.cards.click(src.open_card, outputs=[ask.viewer, p.tabs], **private)
    choices = [ask.statements, ask.organization]
    # the other choices that follow the store, refreshed after each change to it
    refreshed = [ask.author, tab.organization, tab.author, tab.remove]
    delete = tab.delete.click(
        removal.delete,
        [tab.remove, p.confirmed],
        [tab.report, tab.table, *choices, tab.remove],
        js=DELETE_STATEMENTS_JS,
        concurrency_limit=1,
        concurrency_id="ingest",
        **private,
    ).then(src.refresh_choices, outputs=refreshed, **private)
    upload = tab.ingest.click(
        src.upload,
        inputs=[tab.files, *tab.meta],
        outputs=[tab.report, tab.table, *choices, tab.files],
        api_name="upload",
        concurrency_limit=1,
        concurrency_id="ingest",
    ).then(src.refresh_choices, outputs=refreshed, **private)

    fetched = tab.fetch.click(
        src.add_urls,
        inputs=[tab.urls, *tab.meta],
        outputs=[tab.report, tab.table, *choices, tab.urls],
        api_name="ingest_urls",
        concurrency_limit=1,
        concurrency_id="ingest",
    ).then(src.refresh_choices, outputs=refreshed, **private)

    p.api_trigger.click(
        api.chat_api,
        inputs=[p.api_question, *fields[:-1], ask.compare, ask.use_llm, answers],
        outputs=[p.api_result, answers],
        api_name="chat",
        **limits,
    )
    gr.api(api.ask, api_name="ask", **limits)
    # Refreshed when shown: other sessions may have ingested, and a table first drawn
    # in a hidden tab shows no rows until it is given its value again.
    p.sources_tab.select(src.sources_rows, table_filters, [tab.table], **private).then(
        src.refresh_choices, outputs=refreshed, **private
    )
    page_load = [ask.viewer, ask.statements, ask.organization, tab.table]
    demo_load = gr.on([p.load_trigger], src.on_load, outputs=page_load, **private)
    gr.on([p.load_trigger], removal.controls, outputs=[tab.deleter, tab.uploader], **private)
    demo_load.then(src.refresh_choices, outputs=refreshed, **private)
    # the example questions follow what is in the store
    for changed in (demo_load, delete, upload, fetched):
        changed.then(examples.update, outputs=[ask.examples.dataset], **private)
    gr.on(
        [p.load_trigger],
        conv.on_load,
        [p.browser_id],
        [p.browser_id, p.conversations],
        **private,
    )
