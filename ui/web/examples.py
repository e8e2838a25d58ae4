"""Example questions under the chat, about what is in the store.

Once the user has added statements of their own, the first examples are made from them:
what a named speaker (the author, or else the organization, with the most statements)
says about a topic frequent in their statements and rare elsewhere, and how two speakers
differ on it; the hand-written examples about the bundled statements fill the rest while
those are in the store. With no statements, none are shown.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from ingest import paths as stored_paths
from ingest.pipeline import BUNDLED_CORPUS
from rag.models import Statement
from rag.sentences import STOPWORDS, content_terms
from rag.service import Services
from rag.store.catalog import Snapshot

BUNDLED_EXAMPLES = [
    "What is the Quds Force?",
    "How many US soldiers had died?",
    "How do the statements differ on the Democratic Party?",
    "What do the statements demand?",
]
MAX_EXAMPLES = 4
TEXTS_PER_SPEAKER = 20  # statements read to find a speaker's topic
TEXT_CHARS = 20_000  # of each
_WORD = re.compile(r"[A-Za-z][a-z]{4,}")  # a lower-case word of 5+ letters (no names)


def _bundled(statement: Statement, home: Path) -> bool:
    if not statement.path or stored_paths.is_web(statement.path):
        return False
    try:
        path = stored_paths.local_path(statement.path, home)
        return path.resolve().is_relative_to(BUNDLED_CORPUS.resolve())
    except (OSError, ValueError):
        return False


def _speakers(statements: Sequence[Statement]) -> list[tuple[str, list[Statement]]]:
    """(name, statements) per author, or per organization when none has an author; the
    speakers with the most statements first."""
    key = "author" if any(s.author for s in statements) else "organization"
    by: dict[str, list[Statement]] = {}
    for s in statements:
        if name := getattr(s, key):
            by.setdefault(name, []).append(s)
    return sorted(by.items(), key=lambda item: (-len(item[1]), item[0]))


class Examples:
    """The example questions for the store's statements (made again when they change)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._made: tuple[str, list[str]] | None = None

    def update(self) -> Any:
        """The examples' dataset for the page (hidden when there are none)."""
        made = self.questions()
        return gr.update(samples=[[q] for q in made], visible=bool(made))

    def questions(self) -> list[str]:
        snapshot = self.services.catalog.snapshot()
        if self._made and self._made[0] == snapshot.fingerprint:
            return self._made[1]
        statements = list(snapshot.statements.values())
        home = self.services.settings.home
        own = [s for s in statements if not _bundled(s, home)]
        made = self._from(snapshot, own) if own else []
        if len(own) < len(statements):  # the bundled statements are there too
            made += BUNDLED_EXAMPLES[: MAX_EXAMPLES - len(made)]
        self._made = (snapshot.fingerprint, made)
        return made

    def _topic(self, snapshot: Snapshot, statements: Sequence[Statement], name: str) -> str | None:
        """The word said most often in these statements, weighted by its rarity."""
        keywords = snapshot.keywords
        counts: Counter[str] = Counter()
        for s in statements[:TEXTS_PER_SPEAKER]:
            try:
                text = self.services.store.statement(s.statement_id).text or ""
            except Exception:  # a statement removed meanwhile: skip it
                continue
            counts.update(w for w in _WORD.findall(text[:TEXT_CHARS]) if w.islower())
        own = {w.lower() for w in re.findall(r"\w+", name)}
        best, score = None, 0.0
        for word, count in counts.items():
            if count < 2 or word in STOPWORDS or word in own:
                continue
            stems = content_terms(word)
            if not stems or keywords.doc_freq.get(stems[0], 0) < 2:
                continue
            weight = count * keywords.idf(stems[0])
            if weight > score:
                best, score = word, weight
        return best

    def _from(self, snapshot: Snapshot, statements: list[Statement]) -> list[str]:
        speakers = _speakers(statements)
        made: list[str] = []
        topics: list[tuple[str, str]] = []
        for name, said in speakers[:2]:
            topic = self._topic(snapshot, said, name)
            if topic:
                topics.append((name, topic))
                made.append(f"What does {name} say about {topic}?")
        if len(topics) >= 2:
            (first, topic), (second, _) = topics[0], topics[1]
            made.insert(1, f"How do {first} and {second} differ on {topic}?")
        if not made:
            topic = self._topic(snapshot, statements, "")
            made = [f"What do the statements say about {topic}?"] if topic else []
        return made[: MAX_EXAMPLES - 1]
