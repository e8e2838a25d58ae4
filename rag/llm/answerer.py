"""Optional LLM answers: a LangChain chat model writes the text, every quote is checked.

The model sees the retrieved passages, numbered and fenced as data, and is asked to quote
them verbatim with ``[n]`` markers. Its output is never trusted: each quoted span must be
found in the cited passage's statement text (only whitespace and quote-mark styles may
differ) and is replaced by that exact substring, with offsets, like an extractive
citation. A quote that is not there is removed and listed in ``Answer.unverified``; a
marker naming a passage that was not given is removed and flagged. Without a verified
quote, or when the model fails or is slow, the extractive answer is shown instead.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage

from rag.errors import LLMError
from rag.llm.prompt import build_messages
from rag.llm.quotes import QuoteChecker, scan, visible
from rag.models import Answer, AnswerEvent, CitationEvent, DoneEvent, Passage, Statement, TextEvent
from rag.settings import Settings
from rag.stages.compose import answer_events, group_citations

logger = logging.getLogger(__name__)

NO_QUOTE_NOTICE = "LLM answer had no verifiable quote: showing the extractive answer"
MAX_PASSAGES = 12  # keeps the prompt small enough for local models


def _split_spec(spec: str, base_url: str | None) -> tuple[str, str | None]:
    """``provider:model`` -> (model, provider); ``openai-compatible:`` means openai."""
    head, sep, rest = spec.partition(":")
    if sep and re.fullmatch(r"[A-Za-z][A-Za-z_-]*", head):
        provider = head.lower().replace("-", "_")
        return rest, "openai" if provider == "openai_compatible" else provider
    return spec, "openai" if base_url else None


class LLMAnswerer:
    """Writes an answer with a chat model and keeps only the quotes that check out.

    >>> llm = LLMAnswerer.from_settings(Settings(llm="ollama:llama3.1"))
    >>> for event in llm.stream(question, extractive, passages, statements): ...
    """

    def __init__(
        self, chat_model: BaseChatModel, timeout: float = 30.0, max_passages: int = MAX_PASSAGES
    ) -> None:
        self.chat_model = chat_model
        self.timeout = timeout
        self.max_passages = max_passages

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMAnswerer | None:
        """The configured model, or None when ``settings.llm`` is unset.

        Raises:
            LLMError: the model string is not usable or its package is not installed.
        """
        spec = (settings.llm or "").strip()
        if not spec:
            return None
        model, provider = _split_spec(spec, settings.llm_base_url)
        kwargs: dict[str, Any] = {"temperature": 0}
        if provider == "ollama":  # ChatOllama takes httpx options instead
            client: dict[str, Any] = {"timeout": settings.llm_timeout}
            if settings.llm_api_key:
                client["headers"] = {"Authorization": f"Bearer {settings.llm_api_key}"}
            kwargs["client_kwargs"] = client
            if settings.llm_base_url:
                kwargs["base_url"] = settings.llm_base_url
        else:
            kwargs.update(timeout=settings.llm_timeout, max_retries=1)
            if settings.llm_base_url:
                kwargs["base_url"] = settings.llm_base_url
            if settings.llm_api_key:
                kwargs["api_key"] = settings.llm_api_key
            elif settings.llm_base_url and provider == "openai":
                kwargs["api_key"] = "unused"  # local servers ignore it; the client needs one
        try:
            from langchain.chat_models import init_chat_model

            chat_model = init_chat_model(model, model_provider=provider, **kwargs)
        except ImportError as exc:
            raise LLMError(
                f"RAG_LLM={spec} needs a package that is not installed",
                hint=str(exc).splitlines()[0] if str(exc) else "pip install 'statements-qa[llm]'",
            ) from exc
        except Exception as exc:
            raise LLMError(
                f"Cannot use RAG_LLM={spec}: {_one_line(exc)}",
                hint="check RAG_LLM (provider:model, e.g. ollama:llama3.1 or "
                "openai:gpt-4o-mini), RAG_LLM_BASE_URL and RAG_LLM_API_KEY",
            ) from exc
        return cls(chat_model, timeout=settings.llm_timeout)

    def stream(
        self,
        question: str,
        extractive: Answer,
        passages: Sequence[Passage],
        statements: Mapping[str, Statement],
    ) -> Iterator[AnswerEvent]:
        """Text as the model writes it (quotes shown only once checked), then the answer.

        ``passages`` go to the model numbered in the given order (most relevant first;
        at most ``max_passages``). The final ``DoneEvent`` carries the checked answer and
        replaces the streamed text.
        An abstention is kept without calling the model; a failure, a timeout or an
        answer without one verified quote falls back to ``extractive`` with a notice.
        """
        if extractive.abstained or not passages:
            yield from answer_events(extractive)
            return
        passages = list(passages)[: self.max_passages]
        checker = QuoteChecker(passages, statements)
        messages = build_messages(question, passages, statements, extractive.resolved_question)
        started = time.perf_counter()
        raw, shown = "", 0
        try:
            for chunk in self._generate(messages):
                raw += chunk
                parts, consumed = scan(visible(raw, final=False)[shown:], final=False)
                shown += consumed
                delta = "".join(checker.provisional(p) for p in parts)
                if delta:
                    yield TextEvent(text=delta)
        except LLMError as err:
            logger.warning("LLM failed, showing the extractive answer: %s", err.message)
            notice = f"LLM unavailable ({err.message}): showing the extractive answer"
            yield from answer_events(extractive.model_copy(update={"notice": notice}))
            return
        parts, _ = scan(visible(raw, final=True)[shown:], final=True)
        delta = "".join(checker.provisional(p) for p in parts)
        if delta:
            yield TextEvent(text=delta)
        checked = checker.check(raw)
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        timings = {**extractive.timings_ms, "llm": elapsed}
        if not checked.citations:
            logger.warning("LLM answer had no verifiable quote: %r", raw[:200])
            yield from answer_events(
                extractive.model_copy(
                    update={
                        "notice": NO_QUOTE_NOTICE,
                        "unverified": checked.unverified,
                        "timings_ms": timings,
                    }
                )
            )
            return
        answer = extractive.model_copy(
            update={
                "abstained": False,
                "answer": checked.text,
                "citations": checked.citations,
                "groups": group_citations(checked.citations, statements),
                "segments": checked.segments,
                "nearest": [],
                "generated": True,
                "unverified": checked.unverified,
                "notice": checked.notice(),
                "timings_ms": timings,
            }
        )
        for citation in answer.citations:
            yield CitationEvent(citation=citation)
        yield DoneEvent(answer=answer)

    def _generate(self, messages: list[BaseMessage]) -> Iterator[str]:
        """Chunks of text from the model, or LLMError when it fails or the time is up.

        The model runs in a worker thread so that a hung connection or a slow model
        cannot hold the answer past ``timeout`` seconds (for the whole answer).
        """
        box: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def work() -> None:
            try:
                for chunk in self.chat_model.stream(messages):
                    if stop.is_set():
                        return
                    text = str(chunk.text)
                    if text:
                        box.put(("text", text))
                box.put(("end", None))
            except Exception as exc:
                box.put(("error", exc))

        context = contextvars.copy_context()  # keeps the caller's tracing callbacks
        threading.Thread(target=context.run, args=(work,), name="rag-llm", daemon=True).start()
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                try:
                    kind, value = box.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise LLMError(f"no answer within {self.timeout:g} s") from None
                if kind == "end":
                    return
                if kind == "error":
                    raise LLMError(_one_line(value)) from value
                yield value
        finally:
            stop.set()


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
