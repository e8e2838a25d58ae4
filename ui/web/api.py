"""The question API of the app: ``/ask`` (one question, the ``rag ask --json`` object)
and ``/chat`` (a conversation per client session, so follow-ups resolve)."""

from __future__ import annotations

from typing import Any, Literal

import gradio as gr
from pydantic import BaseModel, ConfigDict, ValidationError

from rag.errors import RagError
from rag.models import Answer
from rag.service import Services
from ui.web.chat import filters_of, mode_of


class ApiInput(BaseModel):
    """What the API's callers may send: the types of the page's own fields, checked
    strictly (a date given as a number is refused, not guessed at)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    question: str
    statement_ids: list[str] | None = None
    organization: str | None = None
    author: str | None = None
    since: str | None = None
    until: str | None = None
    compare: bool | None = False
    use_llm: bool | None = False
    mode: Literal["auto", "answer", "compare", "positions", "timeline"] | None = None


def checked(**values: Any) -> ApiInput:
    """The inputs, or a one-line ``gr.Error`` naming the first bad one."""
    try:
        return ApiInput(**values)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "input"
        kind = {"string_type": "text", "bool_type": "true or false", "list_type": "a list"}
        wanted = kind.get(first["type"], "")
        detail = f"expected {wanted}" if wanted else first["msg"]
        raise gr.Error(
            f"Invalid {field}: {detail}, got {type(first['input']).__name__}",
            print_exception=False,
        ) from None


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
        mode: str | None = None,
    ) -> dict[str, Any]:
        """Answer one question with verbatim quotes: the ``rag ask --json`` object.
        ``mode``: compare, positions or timeline (default: read from the question)."""
        got = checked(
            question=question,
            statement_ids=statement_ids,
            organization=organization,
            since=since,
            until=until,
            compare=compare,
            author=author,
            mode=mode,
        )
        filters = filters_of(got.statement_ids, got.organization, got.since, got.until, got.author)
        try:
            answer = self.services.answerer.answer(
                got.question, filters, mode=mode_of(got.mode) or mode_of(bool(got.compare))
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
        got = checked(
            question=question,
            statement_ids=statement_ids,
            organization=organization,
            author=author,
            since=since,
            until=until,
            compare=compare,
            use_llm=use_llm,
        )
        try:
            answer = self.services.answerer.answer(
                got.question,
                filters_of(got.statement_ids, got.organization, got.since, got.until, got.author),
                history,
                use_llm=bool(got.use_llm),
                mode=mode_of(bool(got.compare)),
            )
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        result = {**answer.to_json_dict(), "resolved_question": answer.resolved_question}
        return result, [*history, answer]
