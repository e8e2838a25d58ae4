"""The question API of the app: ``/ask`` (one question, the ``rag ask --json`` object)
and ``/chat`` (a conversation per client session, so follow-ups resolve)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.models import Answer
from rag.service import Services
from ui.web.chat import filters_of


class ApiHandlers:
    """The API's endpoints over one ``Services``; errors are one-line ``gr.Error``s."""

    def __init__(self, services: Services) -> None:
        self.services = services

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
        filters = filters_of(statement_ids, organization, since, until, author)
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
                filters_of(statement_ids, organization, since, until, author),
                history,
                compare=True if compare else None,
                use_llm=bool(use_llm),
            )
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        result = {**answer.to_json_dict(), "resolved_question": answer.resolved_question}
        return result, [*history, answer]
