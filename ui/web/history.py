"""Saved conversations in the page: whose they are, the list, open, rename, delete, and
rebuilding the chat from typed answers. The storage itself is ``ui/web/conversations.py``.

Owner: the logged-in name with ``RAG_UI_AUTH`` (``gr.Request.username``), otherwise a
random id this browser keeps in ``gr.BrowserState`` (localStorage). The browser state is
encrypted with a secret kept under ``RAG_HOME``, so the id survives an app restart.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.models import Answer
from ui.web import html
from ui.web.conversations import ConversationStore, Rating
from ui.web.toasts import for_web, info, warn

BROWSER_KEY = "rag-browser-id"
SECRET_FILE = "browser-state.secret"
_BROWSER_ID = re.compile(r"[0-9a-f]{32}")
LIKE, DISLIKE = "Like", "Dislike"
CONFIRMED = "yes"  # what the page's confirm() sends when the user agrees


def browser_secret(home: Path) -> str:
    """The key the browser ids are encrypted with: made once, kept under ``home``."""
    path = Path(home) / SECRET_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(16)
    try:
        with path.open("x", encoding="utf-8") as handle:  # another worker may win the race
            handle.write(secret)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    return secret


def owner_of(request: gr.Request | None, browser_id: str | None) -> str | None:
    """``user:<name>`` when logged in, else ``browser:<id>``; None before the id is set."""
    name = getattr(request, "username", None) if request is not None else None
    if name:
        return f"user:{name}"
    if browser_id and _BROWSER_ID.fullmatch(str(browser_id)):
        return f"browser:{browser_id}"
    return None


def chat_messages(answers: Sequence[Answer]) -> list[dict[str, str]]:
    """The chat rebuilt from a conversation's typed answers."""
    messages = []
    for answer in answers:
        messages.append({"role": "user", "content": html.user_message(answer.question)})
        messages.append({"role": "assistant", "content": html.answer_message(answer)})
    return messages


def feedback_values(ratings: Sequence[Rating]) -> list[str | None]:
    return [None if r.verdict is None else (LIKE if r.verdict else DISLIKE) for r in ratings]


def choices(store: ConversationStore, owner: str | None) -> list[tuple[str, str]]:
    return [(c.label, c.id) for c in store.conversations(owner)] if owner else []


class ConversationHandlers:
    """The Conversations sidebar's events."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    def on_load(self, browser_id: str | None, request: gr.Request) -> tuple[Any, Any]:
        """(browser id, conversation list): a new id for a browser seen the first time."""
        if not (browser_id and _BROWSER_ID.fullmatch(str(browser_id))):
            browser_id = uuid.uuid4().hex
        try:
            listed = choices(self.store, owner_of(request, browser_id))
        except RagError as exc:
            warn(for_web(exc))
            listed = []
        return browser_id, gr.update(choices=listed, value=None)

    def open(self, cid: str | None, browser_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        """(chatbot, answers, conversation id, name box, edit turn, version): a saved
        conversation, ready to continue."""
        owner = owner_of(request, browser_id)
        if not cid or not owner:
            return (gr.skip(),) * 6
        try:
            found = self.store.get(owner, cid)  # first: a change after it is noticed
            answers = self.store.answers(owner, cid)
            ratings = self.store.ratings(owner, cid)
        except RagError as exc:
            warn(for_web(exc))
            return (gr.skip(),) * 6
        chat = gr.update(value=chat_messages(answers), feedback_value=feedback_values(ratings))
        title, version = (found.title, found.version) if found else ("", None)
        return chat, answers, cid, title, None, version

    def name_of(self, cid: str | None, browser_id: str | None, request: gr.Request) -> str:
        """The name box follows the list's selection (empty for a new chat)."""
        owner = owner_of(request, browser_id)
        found = self.store.get(owner, cid) if owner and cid else None
        return found.title if found else ""

    def rename(
        self, cid: str | None, title: str, browser_id: str | None, request: gr.Request
    ) -> Any:
        """The list, with the current conversation renamed."""
        owner = owner_of(request, browser_id)
        if not cid or not owner:
            warn("Open or start a conversation first, then rename it.")
            return gr.skip()
        try:
            self.store.rename(owner, cid, title)
        except RagError as exc:
            warn(for_web(exc))
            return gr.skip()
        info("Conversation renamed.")
        return gr.update(choices=choices(self.store, owner), value=cid)

    def delete(
        self, cid: str | None, confirmed: str | None, browser_id: str | None, request: gr.Request
    ) -> tuple[Any, Any]:
        """(list, conversation id): the list without the current conversation, and ""
        as the id so the chat is cleared; a declined confirmation changes nothing."""
        owner = owner_of(request, browser_id)
        if confirmed != CONFIRMED:
            return gr.skip(), gr.skip()
        if not cid or not owner:
            warn("Open a saved conversation first, then delete it.")
            return gr.skip(), gr.skip()
        try:
            self.store.delete(owner, cid)
        except RagError as exc:
            warn(for_web(exc))
            return gr.skip(), gr.skip()
        info("Conversation deleted.")
        return gr.update(choices=choices(self.store, owner), value=None), ""
