"""Event handlers of the Ask tab (chat, new chat, export, feedback) and the API
endpoints ``/ask`` and ``/chat``, over one ``Services``.

The chat renders typed events: the streamed text is shown escaped as it arrives, and
the finished ``Answer`` is rendered by ``ui/html.py``. Every toast goes through
``ui/toasts.py`` (escaped, with web wording).
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
from ui import html
from ui.downloads import ExportFolder
from ui.export import conversation_markdown
from ui.feedback import record_feedback
from ui.sources import SourceHandlers
from ui.toasts import for_web, info, warn

logger = logging.getLogger(__name__)

EXPORT_NAME = "statements-qa-conversation.md"


class ChatHandlers:
    """The Ask tab's events and the question API."""

    def __init__(
        self,
        services: Services,
        settings: Settings,
        sources: SourceHandlers,
        exports: ExportFolder | None = None,
    ) -> None:
        self.services = services
        self.settings = settings
        self.sources = sources
        self.exports = exports or ExportFolder()

    def export(self, answers: Sequence[Answer]) -> str:
        """The conversation as a Markdown file to download."""
        return str(self.exports.write(EXPORT_NAME, conversation_markdown(answers)))

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
            warn("Type a question first.")
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
                yield gr.skip(), [*pending], gr.skip(), gr.skip(), gr.skip()
        except RagError as exc:
            warn(for_web(exc))
            yield question, before, gr.skip(), gr.skip(), gr.skip()
            return
        except Exception:  # a bug, not the user's doing: log it, keep the page usable
            logger.exception("answering %r failed", question)
            warn("Something went wrong while answering; the server log has details.")
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
        panel = html.citations_panel(answer, self.sources.texts(shown))
        export = gr.update(value=self.export(history), interactive=True)
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

    # -- feedback ---------------------------------------------------------------

    def feedback(self, helpful: bool, answers: list[Answer] | None, comment: str) -> str:
        if not answers:
            warn("Ask a question first, then rate the answer.")
            return comment
        try:
            record_feedback(self.settings, answers[-1], helpful, comment)
        except RagError as exc:
            warn(for_web(exc))
            return comment
        info("Thank you — your feedback was saved.")
        return ""
