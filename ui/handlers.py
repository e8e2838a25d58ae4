"""Event handlers of the Ask tab (chat, new chat, export, feedback) and the API
endpoints ``/ask`` and ``/chat``, over one ``Services``.

The chat renders typed events: the streamed text is shown escaped as it arrives, and
the finished ``Answer`` is rendered by ``ui/html.py``. Every toast goes through
``ui/toasts.py`` (escaped, with web wording).
"""

from __future__ import annotations

import html as htmllib
import logging
import re
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
from ui.conversations import ConversationStore
from ui.downloads import ExportFolder
from ui.export import conversation_markdown
from ui.feedback import record_feedback
from ui.history import DISLIKE, LIKE, choices, feedback_values, owner_of
from ui.sources import SourceHandlers
from ui.toasts import for_web, info, warn

logger = logging.getLogger(__name__)

EXPORT_NAME = "statements-qa-conversation.md"
_QUESTION = re.compile(r'<div class="rag-question">(.*)</div>', re.S)
_UNFINISHED = ("rag-pending", "rag-streaming")


class ChatHandlers:
    """The Ask tab's events and the question API."""

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

    def export(self, answers: Sequence[Answer]) -> str:
        """The conversation as a Markdown file to download."""
        return str(self.exports.write(EXPORT_NAME, conversation_markdown(answers)))

    @staticmethod
    def filters(
        statement_ids: Sequence[str] | None,
        organization: str | None,
        since: str | None,
        until: str | None,
        author: str | None = None,
    ) -> Filters:
        return Filters(
            statement_ids=[s for s in (statement_ids or []) if s],
            organization=(organization or "").strip() or None,
            author=(author or "").strip() or None,
            since=(since or "").strip() or None,
            until=(until or "").strip() or None,
        )

    # -- chat -------------------------------------------------------------------

    def respond(
        self,
        message: str,
        chat: list[dict[str, Any]] | None,
        answers: list[Answer] | None,
        conversation: str | None,
        edit_turn: int | None,
        browser_id: str | None,
        statement_ids: list[str] | None,
        organization: str | None,
        author: str | None,
        since: str | None,
        until: str | None,
        compare: bool,
        use_llm: bool = False,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """The chat: echo the question, then render the answer as its events arrive; the
        finished answer is saved to the browser's (or user's) conversation.

        Yields (textbox, chatbot, answers, citations panel, export button, conversation
        id, conversation list, edit turn, failed question). A question that fails goes
        back to the box only if nothing new was typed there meanwhile (``ui/events.py``).
        """
        skip = (gr.skip(),) * 3
        question = (message or "").strip()
        if not question:
            warn("Type a question first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), *skip, gr.skip()
            return
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
                self.filters(statement_ids, organization, since, until, author),
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
                yield gr.skip(), [*pending], gr.skip(), gr.skip(), gr.skip(), *skip, gr.skip()
        except RagError as exc:
            warn(for_web(exc))
            yield gr.skip(), list(chat or []), gr.skip(), gr.skip(), gr.skip(), *skip, question
            return
        except Exception:  # a bug, not the user's doing: log it, keep the page usable
            logger.exception("answering %r failed", question)
            warn("Something went wrong while answering; the server log has details.")
            yield gr.skip(), list(chat or []), gr.skip(), gr.skip(), gr.skip(), *skip, question
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
        conversation, listed = self.save(request, browser_id, conversation, answer, edit_turn)
        yield gr.skip(), [*pending], history, panel, export, conversation, listed, None, gr.skip()

    def save(
        self,
        request: gr.Request | None,
        browser_id: str | None,
        conversation: str | None,
        answer: Answer,
        turn: int | None,
    ) -> tuple[Any, Any]:
        """Store the answer: (conversation id, conversation list) to show."""
        owner = owner_of(request, browser_id)
        if owner is None:
            return gr.skip(), gr.skip()
        try:
            if not conversation or self.conversations.get(owner, conversation) is None:
                conversation = self.conversations.create(owner, answer.question)
            self.conversations.append(owner, conversation, answer, turn)
            listed = choices(self.conversations, owner)
        except RagError as exc:
            warn(for_web(exc))
            return gr.skip(), gr.skip()
        return conversation, gr.update(choices=listed, value=conversation)

    @staticmethod
    def stopped(message: str, chat: list[dict[str, Any]] | None) -> tuple[Any, Any]:
        """Stop: the unfinished answer goes; its question comes back to the box unless
        something new was typed meanwhile. Returns (textbox, chatbot)."""
        messages = list(chat or [])
        if len(messages) >= 2 and any(m in str(messages[-1]) for m in _UNFINISHED):
            asked = _QUESTION.search(str(messages[-2].get("content", "")))
            messages = messages[:-2]
            if asked and not (message or "").strip():
                info("Stopped. Your question is back in the box.")
                return htmllib.unescape(asked.group(1)), messages
        info("Stopped.")
        return gr.skip(), messages

    def clear(self) -> tuple[Any, ...]:
        """New chat: (chatbot, answers, citations, viewer, export, comment, textbox,
        conversation id, conversation list selection, edit turn)."""
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

    # -- API --------------------------------------------------------------------

    def ask(
        self,
        question: str,
        statement_ids: list[str] | None = None,
        organization: str | None = None,
        since: str | None = None,
        until: str | None = None,
        compare: bool = False,
        author: str | None = None,
    ) -> dict[str, Any]:
        """Answer one question with verbatim quotes: the ``rag ask --json`` object."""
        filters = self.filters(statement_ids, organization, since, until, author)
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
        author: str | None,
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
                self.filters(statement_ids, organization, since, until, author),
                history,
                compare=True if compare else None,
                use_llm=bool(use_llm),
            )
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        result = {**answer.to_json_dict(), "resolved_question": answer.resolved_question}
        return result, [*history, answer]

    # -- feedback ---------------------------------------------------------------

    def feedback(
        self,
        helpful: bool,
        answers: list[Answer] | None,
        comment: str,
        conversation: str | None = None,
        browser_id: str | None = None,
        request: gr.Request | None = None,
    ) -> tuple[str, Any]:
        """The accordion's buttons: rate the latest answer (its 👍/👎 then show it).
        Returns (comment box, chatbot)."""
        if not answers:
            warn("Ask a question first, then rate the answer.")
            return comment, gr.skip()
        left = self._rate(
            len(answers) - 1, helpful, answers, comment, conversation, browser_id, request
        )
        owner = owner_of(request, browser_id)
        if not (owner and conversation):
            return left, gr.skip()
        try:
            ratings = self.conversations.ratings(owner, conversation)
        except RagError:
            return left, gr.skip()
        return left, gr.update(feedback_value=feedback_values(ratings))

    def like(
        self,
        answers: list[Answer] | None,
        comment: str,
        conversation: str | None,
        browser_id: str | None,
        evt: gr.LikeData,
        request: gr.Request,
    ) -> str:
        """👍/👎 under any answer: one verdict per answer, changed by clicking again."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        turn = int(index) // 2
        liked = evt.liked
        verdict = liked if isinstance(liked, bool) else {LIKE: True, DISLIKE: False}.get(liked)
        if not answers or turn >= len(answers):
            warn("Rate an answer once it has finished.")
            return comment
        return self._rate(turn, verdict, answers, comment, conversation, browser_id, request)

    def _rate(
        self,
        turn: int,
        verdict: bool | None,
        answers: Sequence[Answer],
        comment: str,
        conversation: str | None,
        browser_id: str | None,
        request: gr.Request | None,
    ) -> str:
        owner = owner_of(request, browser_id)
        try:
            if owner and conversation:
                self.conversations.rate(owner, conversation, turn, verdict, comment)
            if verdict is not None:
                key = f"{conversation}:{turn}" if conversation else None
                record_feedback(self.settings, answers[turn], verdict, comment, key)
        except RagError as exc:
            warn(for_web(exc))
            return comment
        info("Thank you — your feedback was saved." if verdict is not None else "Rating removed.")
        return ""
