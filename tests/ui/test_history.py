"""Whose conversations a page shows, and the chat rebuilt from saved answers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from rag.models import Answer, Citation, QuoteGroup
from ui.web.conversations import Rating
from ui.web.history import browser_secret, chat_messages, feedback_values, owner_of

BROWSER = "0123456789abcdef0123456789abcdef"


def test_owner_is_the_login_else_the_browser() -> None:
    assert owner_of(SimpleNamespace(username="alice"), BROWSER) == "user:alice"
    assert owner_of(SimpleNamespace(username=None), BROWSER) == f"browser:{BROWSER}"
    assert owner_of(None, BROWSER) == f"browser:{BROWSER}"
    assert owner_of(None, "") is None
    assert owner_of(None, "../../etc/passwd") is None  # only ids this app made


def test_browser_secret_is_kept_across_restarts(tmp_path: Path) -> None:
    first = browser_secret(tmp_path / "home")
    assert len(first) == 32 and browser_secret(tmp_path / "home") == first


def test_chat_is_rebuilt_from_typed_answers() -> None:
    cite = Citation(
        n=1, statement_id="s", source="s.txt", paragraph=1, start=0, end=5, quote="<b>x"
    )
    answer = Answer(
        question="Why <script>?",
        abstained=False,
        answer="",
        citations=[cite],
        groups=[QuoteGroup(statement_id="s", label="S", citations=[1])],
        scope="all 1 statement",
    )
    [user, bot] = chat_messages([answer])
    assert user["role"] == "user" and "Why &lt;script&gt;?" in user["content"]
    assert bot["role"] == "assistant" and "&lt;b&gt;x" in bot["content"]
    assert "Searched: all 1 statement" in bot["content"]
    ratings = [Rating(True, None), Rating(None, None), Rating(False, "no")]
    assert feedback_values(ratings) == ["Like", None, "Dislike"]
