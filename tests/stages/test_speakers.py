"""Plan stage helpers: the speakers a question names, and its topic without the frame."""

from __future__ import annotations

import pytest

from rag.stages.rewrite import topic_of
from rag.stages.speakers import find_speakers, surname, without_names
from tests.stages.helpers import speaker

DEBATE = [
    speaker("sanders", "Bernie Sanders", "Democratic Party"),
    speaker("blasio", "Bill de Blasio", "Democratic Party"),
    speaker("orourke", "Beto O'Rourke", "Democratic Party"),
    speaker("harris", "Kamala Harris", "Democratic Party"),
    speaker("castro", "Julián Castro", "Democratic Party"),
]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What does Sanders say about Medicare for all?", ["sanders"]),
        ("What is Sanders's plan?", ["sanders"]),
        ("What is Sanders' plan?", ["sanders"]),
        ("What did Bernie Sanders propose?", ["sanders"]),
        ("what does sanders say about taxes", ["sanders"]),
        ("What happened to de Blasio's father?", ["blasio"]),
        ("And what does O'Rourke say about it?", ["orourke"]),
        ("How do Harris and Castro differ on the border?", ["harris", "castro"]),
        ("What do the candidates say about guns?", []),
        ("Who is the Democratic Party's nominee?", []),  # everyone's party names no one
        ("Is Harrison Ford mentioned?", []),  # whole words only
    ],
)
def test_speakers_named_in_a_question(question: str, expected: list[str]) -> None:
    found = find_speakers(question, DEBATE)
    assert [sid for s in found for sid in s.statement_ids] == expected


def test_organization_by_initials_and_name() -> None:
    statements = [
        speaker("swp", None, "Socialist Workers Party"),
        speaker("sep", None, "Socialist Equality Party"),
    ]
    found = find_speakers("What does the SWP say?", statements)
    assert [s.name for s in found] == ["Socialist Workers Party"]
    found = find_speakers("Compare the Socialist Equality Party and the SWP", statements)
    assert [s.name for s in found] == ["Socialist Equality Party", "Socialist Workers Party"]


def test_names_are_blanked_and_surnames_keep_particles() -> None:
    question = "What does Sanders say about Medicare?"
    blanked = without_names(question, find_speakers(question, DEBATE))
    assert blanked == "What does say about Medicare?"
    assert surname("Bill de Blasio") == "de Blasio"
    assert surname("Martin Luther King Jr.") == "King"
    assert surname("Plato") is None


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What does say about Medicare for all?", "Medicare for all?"),
        ("What is position on the Iran nuclear deal?", "the Iran nuclear deal?"),
        ("How do and differ on climate change?", "climate change?"),
        ("What is the Quds Force?", "What is the Quds Force?"),  # no frame: unchanged
        ("What does say?", "What does say?"),  # nothing would be left
    ],
)
def test_topic_without_its_frame(question: str, topic: str) -> None:
    assert topic_of(question) == topic
