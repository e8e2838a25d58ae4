"""The Ask tab's chat: a question in, the answer streamed in as its typed events arrive,
then saved to the browser's (or user's) conversation; Stop, new chat, export.

The streamed text is shown escaped as it arrives, and the finished ``Answer`` is rendered
by ``ui/web/html.py``. Every toast goes through ``ui/web/toasts.py`` (escaped, with web
wording).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.models import (
    Answer,
    CitationEvent,
    DoneEvent,
    Filters,
    RetrievalEvent,
    TextEvent,
)
from rag.service import Services
from rag.settings import Settings
from rag.stages.intent import MODES, Mode
from ui.render.markdown import conversation_markdown
from ui.render.table import answer_csv
from ui.web import html
from ui.web.conversations import ConversationChangedError, ConversationStore
from ui.web.downloads import ExportFolder
from ui.web.history import choices, owner_of
from ui.web.sources import SourceHandlers
from ui.web.stops import Runs
from ui.web.toasts import for_web, info, warn

logger = logging.getLogger(__name__)

EXPORT_NAME = "statements-qa-conversation.md"
CSV_NAME = "statements-qa-answer.csv"


def mode_of(value: str | bool | None) -> Mode | None:
    """The page's "Answer as" choice (or the API's compare flag) as an answer mode; None:
    read it from the question."""
    if value is True:
        return "compare"
    if isinstance(value, str) and value in MODES:
        return value  # type: ignore[return-value]
    return None


STOPPED = "Stopped: the answer was not saved."


def filters_of(
    statement_ids: Sequence[str] | None,
    organization: str | None,
    since: str | None,
    until: str | None,
    author: str | None = None,
) -> Filters:
    """The filters of the page's fields (blank means unset)."""
    return Filters(
        statement_ids=[s for s in (statement_ids or []) if s],
        organization=(organization or "").strip() or None,
        author=(author or "").strip() or None,
        since=(since or "").strip() or None,
        until=(until or "").strip() or None,
    )


class ChatHandlers:
    """The Ask tab's chat events."""

    def __init__(
        self,
        services: Services,
        settings: Settings,
        sources: SourceHandlers,
        exports: ExportFolder | None = None,
        conversations: ConversationStore | None = None,
    ) -> None:
        self.services = services
        self.settings = settings
        self.sources = sources
        self.exports = exports or ExportFolder()
        self.conversations = conversations or ConversationStore.under(settings.home)
        self.runs = Runs()

    def export(self, answers: Sequence[Answer]) -> str:
        """The conversation as a Markdown file to download."""
        return str(self.exports.write(EXPORT_NAME, conversation_markdown(answers)))

    def export_csv(self, answers: Sequence[Answer] | None) -> Any:
        """The latest answer's quotes as CSV rows (who, when, where): a positions table
        for a spreadsheet."""
        if not answers or answers[-1].abstained:
            return gr.update(value=None, interactive=False)
        path = self.exports.write(CSV_NAME, answer_csv(answers[-1]))
        return gr.update(value=str(path), interactive=True)

    def respond(
        self,
        message: str,
        chat: list[dict[str, Any]] | None,
        answers: list[Answer] | None,
        conversation: str | None,
        edit_turn: int | None,
        browser_id: str | None,
        version: int | None,
        statement_ids: list[str] | None,
        organization: str | None,
        author: str | None,
        since: str | None,
        until: str | None,
        mode: str | bool | None,
        use_llm: bool = False,
        run: str | None = None,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """The chat: echo the question, then render the answer as its events arrive; the
        finished answer is saved to the browser's (or user's) conversation.

        Yields (textbox, chatbot, answers, citations panel, export button, conversation
        id, conversation list, edit turn, conversation version, failed question). A
        question that fails or is stopped (``run`` is its token, see ``ui/web/stops.py``)
        goes back to the box only if nothing new was typed there meanwhile
        (``ui/web/events.py``).
        """
        skip = (gr.skip(),) * 4  # conversation, its list, edit turn, version
        question = (message or "").strip()
        if not question:
            warn("Type a question first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), *skip, gr.skip()
            return
        if not self.runs.start(run):  # stopped before it started: Stop gave it back
            logger.info("run %s was stopped before it started", run)
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), *skip, gr.skip()
            return
        stopped = (gr.skip(), list(chat or []), gr.skip(), gr.skip(), gr.skip(), *skip, question)
        history = list(answers or [])
        before = list(chat or [])
        if edit_turn is not None and 0 <= int(edit_turn) < len(history):
            # edit-and-resend: the edited question replaces that turn and what followed
            history, before = history[: int(edit_turn)], before[: 2 * int(edit_turn)]
        else:
            edit_turn = None
        pending = [
            *before,
            {"role": "user", "content": html.user_message(question)},
            {"role": "assistant", "content": html.pending_message()},
        ]
        # the box was emptied in the page when the question was sent (events.CLEAR_BOX)
        yield gr.skip(), [*pending], gr.skip(), gr.skip(), gr.skip(), *skip, ""
        started = time.perf_counter()
        first_text = None
        text = ""
        answer = None
        try:
            events = self.services.answerer.stream(
                question,
                filters_of(statement_ids, organization, since, until, author),
                history,
                use_llm=bool(use_llm),
                mode=mode_of(mode),
            )
            for event in events:
                if isinstance(event, RetrievalEvent):
                    note = f"Reading {event.passages} passages…"
                    pending[-1] = {"role": "assistant", "content": html.pending_message(note)}
                elif isinstance(event, CitationEvent):
                    continue  # shown with the finished answer
                elif isinstance(event, TextEvent):
                    if first_text is None:
                        first_text = time.perf_counter() - started
                    text += event.text
                    content = html.streaming_message(text)
                    pending[-1] = {"role": "assistant", "content": content}
                elif isinstance(event, DoneEvent):
                    answer = event.answer
                    continue
                if self.runs.stopped(run):
                    info(STOPPED)
                    yield stopped
                    return
                yield gr.skip(), [*pending], gr.skip(), gr.skip(), gr.skip(), *skip, gr.skip()
        except RagError as exc:
            self.runs.finish(run)
            warn(for_web(exc))
            yield gr.skip(), list(chat or []), gr.skip(), gr.skip(), gr.skip(), *skip, question
            return
        except Exception:  # a bug, not the user's doing: log it, keep the page usable
            self.runs.finish(run)
            logger.exception("answering %r failed", question)
            warn("Something went wrong while answering; the server log has details.")
            yield gr.skip(), list(chat or []), gr.skip(), gr.skip(), gr.skip(), *skip, question
            return
        if answer is None:  # pragma: no cover - the answerer always ends with DoneEvent
            raise gr.Error("The answer did not complete")
        if not self.runs.finish(run):  # Stop won: nothing is saved or shown
            info(STOPPED)
            yield stopped
            return
        logger.info(
            "answered %r in %.0f ms (first text after %.0f ms)",
            question,
            (time.perf_counter() - started) * 1000,
            (first_text or 0) * 1000,
        )
        pending[-1] = {"role": "assistant", "content": html.answer_message(answer)}
        history.append(answer)
        shown = answer.nearest if answer.abstained else answer.citations
        panel = html.citations_panel(answer, self.sources.texts(shown))
        export = gr.update(value=self.export(history), interactive=True)
        saved = self.save(request, browser_id, conversation, history, edit_turn, version)
        yield gr.skip(), [*pending], history, panel, export, *saved, gr.skip()

    def save(
        self,
        request: gr.Request | None,
        browser_id: str | None,
        conversation: str | None,
        history: list[Answer],
        turn: int | None,
        version: int | None = None,
    ) -> tuple[Any, Any, Any, Any]:
        """Store the last answer of ``history``: (conversation id, conversation list, edit
        turn, version) to show. If another tab changed the conversation since this page
        read it (``version``), nothing of that is overwritten: this page's turns go to a
        new conversation, and the user is told."""
        owner = owner_of(request, browser_id)
        unchanged = gr.skip(), gr.skip(), gr.skip(), gr.skip()
        if owner is None:
            return unchanged
        answer = history[-1]
        try:
            if not conversation or self.conversations.get(owner, conversation) is None:
                conversation = self.conversations.create(owner, answer.question)
                version = None
            try:
                self.conversations.append(owner, conversation, answer, turn, version)
            except ConversationChangedError as exc:
                conversation = self.conversations.create(owner, history[0].question)
                for earlier in history:
                    self.conversations.append(owner, conversation, earlier)
                warn(f"{exc.message}: this chat was saved as a new conversation.")
            found = self.conversations.get(owner, conversation)
            listed = choices(self.conversations, owner)
        except RagError as exc:
            warn(for_web(exc))
            return unchanged
        new_version = found.version if found else None
        return conversation, gr.update(choices=listed, value=conversation), None, new_version

    def stop(self, run: str | None, asked: str | None, message: str | None) -> Any:
        """Stop the run with token ``run`` (question ``asked``); returns the textbox.

        A running answer stops at its next step and gives its question back itself; one
        that has not started yet never will, so its question comes back here (unless
        something new was typed meanwhile); a finished one stands (it is already saved).
        """
        state = self.runs.stop(run)
        logger.info("stop %s: the run was %s", run, state or "not started")
        if state == "finished":
            info("The answer had already finished: it is kept.")
            return gr.skip()
        if state == "running":
            return gr.skip()
        question = (asked or "").strip()
        if question and not (message or "").strip():
            info(STOPPED + " Your question is back in the box.")
            return question
        info(STOPPED)
        return gr.skip()

    def clear(self) -> tuple[Any, ...]:
        """New chat: (chatbot, answers, citations, viewer, export, comment, textbox,
        conversation id, conversation list selection, edit turn, version)."""
        return (
            [],
            [],
            html.citations_panel(None, {}),
            html.viewer_placeholder(),
            gr.update(value=None, interactive=False),
            "",
            "",
            "",
            None,
            None,
            None,
        )

    def clear_unless_kept(self, conversation: str | None) -> tuple[Any, ...]:
        """After deleting a conversation: a new chat (the current one was deleted)."""
        if conversation:
            return tuple(gr.skip() for _ in self.clear())
        return self.clear()

    def opened(self, answers: list[Answer] | None) -> tuple[Any, Any]:
        """(citations panel, export) for a conversation just opened."""
        if not answers:
            return html.citations_panel(None, {}), gr.update(value=None, interactive=False)
        last = answers[-1]
        shown = last.nearest if last.abstained else last.citations
        panel = html.citations_panel(last, self.sources.texts(shown))
        return panel, gr.update(value=self.export(answers), interactive=True)
