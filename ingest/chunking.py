"""Split a clean text into paragraph-aware passages with exact offsets.

A passage never crosses a paragraph and never cuts a sentence: short paragraphs are one
passage, long ones are packed sentence by sentence up to ``max_chars``. Invariant:
``clean.text[p.start:p.end] == p.text`` for every passage.
"""

from __future__ import annotations

import hashlib

from ingest.normalize import CleanText
from rag.models import Passage
from rag.sentences import split_sentences


def passage_id(statement_id: str, start: int, text: str) -> str:
    """Stable id derived from the statement, the position and the content."""
    digest = hashlib.sha256(f"{statement_id}\x00{start}\x00{text}".encode()).hexdigest()
    return f"{statement_id}:{digest[:16]}"


def _pack(sentences: list[tuple[int, int]], max_chars: int) -> list[list[tuple[int, int]]]:
    groups: list[list[tuple[int, int]]] = []
    for span in sentences:
        if groups and span[1] - groups[-1][0][0] <= max_chars:
            groups[-1].append(span)
        else:
            groups.append([span])
    return groups


def chunk(statement_id: str, clean: CleanText, max_chars: int = 900) -> list[Passage]:
    """Passages of a statement, in reading order."""
    text = clean.text
    passages: list[Passage] = []
    for number, (p_start, p_end) in enumerate(clean.paragraphs, start=1):
        sentences = split_sentences(text, p_start, p_end)
        groups = [sentences] if p_end - p_start <= max_chars else _pack(sentences, max_chars)
        for group in groups:
            start, end = group[0][0], group[-1][1]
            body = text[start:end]
            passages.append(
                Passage(
                    passage_id=passage_id(statement_id, start, body),
                    statement_id=statement_id,
                    paragraph=number,
                    start=start,
                    end=end,
                    text=body,
                    sentences=tuple(group),
                )
            )
    return passages
