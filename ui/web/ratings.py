"""Feedback on answers: 👍/👎 under any answer (one verdict per answer, changeable) and
the accordion's buttons with a comment, saved with the conversation and to
``feedback.jsonl``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.models import Answer
from rag.settings import Settings
from ui.web.conversations import ConversationStore
from ui.web.feedback import record_feedback
from ui.web.history import DISLIKE, LIKE, feedback_values, owner_of
from ui.web.toasts import for_web, info, warn


class RatingHandlers:
    """The rating events of the Ask tab."""

    def __init__(self, settings: Settings, conversations: ConversationStore) -> None:
        self.settings = settings
        self.conversations = conversations

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
        history: list[Any] = []
        try:
            if owner and conversation:
                self.conversations.rate(owner, conversation, turn, verdict, comment)
                history = self.conversations.rating_history(owner, conversation, turn)
            if verdict is not None:
                key = f"{conversation}:{turn}" if conversation else None
                record_feedback(self.settings, answers[turn], verdict, comment, key, history)
        except RagError as exc:
            warn(for_web(exc))
            return comment
        info("Thank you — your feedback was saved." if verdict is not None else "Rating removed.")
        return ""
