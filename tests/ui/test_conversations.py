"""The conversation store (ui/web/conversations.py), without Gradio or a model."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.models import Answer, Citation, Filters
from rag.settings import Settings
from ui.web.conversations import ConversationChangedError, ConversationStore, title_of
from ui.web.feedback import record_feedback


def _answer(question: str, resolved: str | None = None) -> Answer:
    cite = Citation(
        n=1,
        statement_id="s1",
        source="s1.txt",
        organization="Party <b>",
        paragraph=2,
        start=0,
        end=5,
        quote="Hello",
    )
    return Answer(
        question=question,
        abstained=False,
        answer="“Hello” [1]",
        citations=[cite],
        resolved_question=resolved,
        filters=Filters(organization="Party <b>"),
        scope="all 2 statements",
    )


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore.under(tmp_path / "home")


def test_answers_round_trip_as_typed_objects(store: ConversationStore, tmp_path: Path) -> None:
    cid = store.create("browser:a", "What is the Quds Force?")
    first, second = _answer("What is the Quds Force?"), _answer("And who led it?", "Who led it?")
    assert store.append("browser:a", cid, first) == 0
    assert store.append("browser:a", cid, second) == 1
    # a new store over the same file: what an app restart sees
    again = ConversationStore.under(tmp_path / "home")
    assert again.answers("browser:a", cid) == [first, second]
    [info] = again.conversations("browser:a")
    assert info.title == "What is the Quds Force?" and info.turns == 2
    assert info.label.startswith("What is the Quds Force? · 20")
    assert (tmp_path / "home" / "conversations.sqlite3").exists()


def test_owners_see_only_their_own(store: ConversationStore) -> None:
    cid = store.create("user:alice", "Alice's question")
    assert store.conversations("user:bob") == []
    with pytest.raises(RagError, match="no longer exists"):
        store.answers("user:bob", cid)
    with pytest.raises(RagError):
        store.delete("user:bob", cid)
    assert len(store.conversations("user:alice")) == 1


def test_rename_delete_and_list_order(store: ConversationStore) -> None:
    old = store.create("o", "first")
    new = store.create("o", "second")
    store.append("o", new, _answer("second"))
    assert [c.id for c in store.conversations("o")] == [new, old]
    store.rename("o", old, "  Renamed\nconversation  ")
    assert store.get("o", old).title == "Renamed conversation"  # type: ignore[union-attr]
    with pytest.raises(RagError, match="Type a name"):
        store.rename("o", old, "   ")
    store.delete("o", new)
    assert [c.id for c in store.conversations("o")] == [old]


def test_one_verdict_per_answer_changeable(store: ConversationStore) -> None:
    cid = store.create("o", "q")
    store.append("o", cid, _answer("q1"))
    store.append("o", cid, _answer("q2"))
    store.rate("o", cid, 0, True, "good quotes")
    store.rate("o", cid, 0, False)  # changed: the comment stays
    store.rate("o", cid, 1, True)
    ratings = store.ratings("o", cid)
    assert [(r.verdict, r.comment) for r in ratings] == [(False, "good quotes"), (True, None)]
    store.rate("o", cid, 1, None)
    assert store.ratings("o", cid)[1].verdict is None
    with pytest.raises(RagError, match="no longer in the conversation"):
        store.rate("o", cid, 5, True)


def test_edit_and_resend_replaces_later_turns(store: ConversationStore) -> None:
    cid = store.create("o", "q")
    for q in ("q1", "q2", "q3"):
        store.append("o", cid, _answer(q))
    store.append("o", cid, _answer("q2 edited"), turn=1)
    assert [a.question for a in store.answers("o", cid)] == ["q1", "q2 edited"]
    store.truncate("o", cid, 1)
    assert [a.question for a in store.answers("o", cid)] == ["q1"]


def test_titles_are_one_short_line() -> None:
    assert title_of("  a\n b  ") == "a b"
    assert len(title_of("x" * 500)) == 80 and title_of("x" * 500).endswith("…")


def test_safe_with_several_writers(store: ConversationStore) -> None:
    cid = store.create("o", "q")
    errors: list[Exception] = []

    def write(n: int) -> None:
        try:
            for i in range(5):
                other = ConversationStore(store.path)  # like another worker process
                other.create("o", f"t{n}-{i}")
                other.append("o", cid, _answer(f"{n}-{i}"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.conversations("o")) == 21 and len(store.answers("o", cid)) == 20


def test_unwritable_home_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RagError, match="Cannot use the conversation store"):
        ConversationStore.under(blocker / "home").create("o", "q")


def test_filter_chips_are_escaped_and_removable() -> None:
    from ui.web.chips import ActiveFilters, active_chips, chips_html, remove_chip

    active = ActiveFilters(
        statement_ids=["s1", "s2"],
        organization="Party <img src=x>",
        author="A. Author",
        since="2010",
        mode="positions",
        edit_turn=1,
    )
    chips = active_chips(active, {"s1": "SEP, 2020"})
    labels = [c.label for c in chips]
    assert labels == [
        "Editing question 2",
        "Statement: SEP, 2020",
        "Statement: s2",
        "Organization: Party <img src=x>",
        "Author: A. Author",
        "Since: 2010",
        "Answer as: Positions",
    ]
    markup = chips_html(chips)
    assert "<img" not in markup and "Party &lt;img src=x&gt;" in markup
    assert 'data-chip="statement:s1"' in markup
    assert "Searching all statements" in chips_html(active_chips(ActiveFilters()))
    assert remove_chip("statement:s1", ["s1", "s2"]) == {"statements": ["s2"]}
    assert remove_chip("organization", []) == {"organization": ""}
    assert remove_chip("mode", []) == {"mode": "auto"}
    assert remove_chip("edit", []) == {"edit": None}
    assert remove_chip("bogus", []) == {}


def test_a_stale_page_cannot_overwrite_another_tabs_turn(store: ConversationStore) -> None:
    """Each change of the turns bumps the version; a write with an older version (a tab
    that did not see the other's turn) is refused instead of deleting that turn."""
    cid = store.create("o", "q1")
    store.append("o", cid, _answer("q1"))
    seen = store.get("o", cid).version  # type: ignore[union-attr]
    store.append("o", cid, _answer("q2 from tab A"), version=seen)  # tab A
    with pytest.raises(ConversationChangedError, match="changed in another tab"):
        store.append("o", cid, _answer("q1 edited in tab B"), turn=0, version=seen)
    assert [a.question for a in store.answers("o", cid)] == ["q1", "q2 from tab A"]
    now = store.get("o", cid).version  # type: ignore[union-attr]
    store.append("o", cid, _answer("q1 edited"), turn=0, version=now)
    assert [a.question for a in store.answers("o", cid)] == ["q1 edited"]


def test_a_store_from_before_versions_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    with closing(sqlite3.connect(path)) as db:
        db.executescript(
            "CREATE TABLE conversations (id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
            "title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);"
            "INSERT INTO conversations VALUES ('c1', 'o', 'old', 1.0, 1.0);"
        )
        db.commit()
    store = ConversationStore(path)
    assert store.get("o", "c1").version == 0  # type: ignore[union-attr]
    store.append("o", "c1", _answer("q"), version=0)
    assert store.get("o", "c1").version == 1  # type: ignore[union-attr]


def test_comments_are_kept_with_their_verdicts(store: ConversationStore, tmp_path: Path) -> None:
    """Flipping 👎 (with a comment) to 👍 keeps the comment with the 👎, in the store and
    in the feedback line that now wins for the answer."""
    cid = store.create("o", "q")
    store.append("o", cid, _answer("q1"))
    store.rate("o", cid, 0, False, "the quotes miss the point")
    store.rate("o", cid, 0, True)
    history = store.rating_history("o", cid, 0)
    assert [(r.verdict, r.comment) for r in history] == [
        (False, "the quotes miss the point"),
        (True, None),
    ]
    settings = Settings(home=tmp_path / "home")
    record_feedback(settings, _answer("q1"), True, None, f"{cid}:0", history)
    last = json.loads(settings.feedback_path.read_text(encoding="utf-8").splitlines()[-1])
    assert last["helpful"] is True
    assert [(h["helpful"], h["comment"]) for h in last["history"]] == [
        (False, "the quotes miss the point"),
        (True, None),
    ]
    store.append("o", cid, _answer("q1 edited"), turn=0)  # an edit drops the old ratings
    assert store.rating_history("o", cid, 0) == []
