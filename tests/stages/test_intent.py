"""Which answer a question asks for (plan stage, ``rag.stages.intent``)."""

from __future__ import annotations

import pytest

from rag.stages.intent import dates_in, read_intent
from rag.stages.speakers import find_speakers
from tests.stages.helpers import speaker

STORE = [
    speaker("sanders", "Bernie Sanders", "Democratic Party", "2019-06-27"),
    speaker("biden", "Joe Biden", "Democratic Party", "2019-06-27"),
    speaker("obama-2010", "Barack Obama", "Democratic Party", "2010"),
    speaker("obama-2014", "Barack Obama", "Democratic Party", "2014"),
    speaker("bush-1990", "George H. W. Bush", "Republican Party", "1990"),
    speaker("bush-2002", "George W. Bush", "Republican Party", "2002"),
    speaker("fdr", "Franklin D. Roosevelt", "Democratic Party", "1944"),
    speaker("tr", "Theodore Roosevelt", "Republican Party", "1905"),
]


def read(question: str) -> tuple[str, str]:
    intent = read_intent(question, find_speakers(question, STORE))
    return intent.mode, intent.topic


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("How do Sanders and Biden differ on health care?", "health care"),
        ("Where do Sanders and Biden stand on the Iraq war?", "the Iraq war"),
        ("Do Sanders and Biden agree on student debt?", "student debt"),
        ("Sanders vs Biden on free college", "free college"),
        ("Compare Sanders and Biden on trade", "trade"),
        ("What's the difference between Sanders and Biden on guns?", "guns"),
        ("How does Sanders's position on Iran differ from Biden's?", "Iran"),
    ],
)
def test_comparisons_of_two_named_speakers(question: str, topic: str) -> None:
    assert read(question) == ("compare", topic)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Where do the candidates stand on climate change?", "climate change"),
        ("Where do the speakers stand on the minimum wage?", "the minimum wage"),
        ("What does each candidate say about Russia?", "Russia"),
        ("Who supports a carbon tax?", "a carbon tax"),
        ("Who opposes the Trump tax cut?", "the Trump tax cut"),
        ("Which presidents support a ban on nuclear testing?", "a ban on nuclear testing"),
        ("What do the presidents say about climate change?", "climate change"),
    ],
)
def test_positions_across_speakers(question: str, topic: str) -> None:
    assert read(question) == ("positions", topic)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What has Obama said about health care over time?", "health care"),
        ("How has Obama's position on immigration changed?", "immigration"),
        ("How did Obama talk about energy over the years?", "energy"),
        ("What did Obama say about taxes since 2012?", "taxes"),
    ],
)
def test_timelines_of_one_speaker(question: str, topic: str) -> None:
    assert read(question) == ("timeline", topic)


@pytest.mark.parametrize(
    "question",
    [
        "What does Sanders say about Medicare for all?",
        "What is Obama's position on climate change?",  # "change" is no timeline word
        "Who wants people to need a permit to own a gun?",  # one proposal: one speaker
        "Which candidate wants to send astronauts to Mars?",
        "How does the care of children at the border compare with Guantanamo Bay?",
        "What did Biden say about Sanders's plan?",  # one named speaker talking of another
    ],
)
def test_plain_questions_stay_plain(question: str) -> None:
    assert read(question)[0] == "answer"


def test_comparing_every_statement_without_names() -> None:
    assert read("How do the statements differ on Iran?")[0] == "compare"


def test_dates_become_a_period() -> None:
    assert dates_in("What did Obama say since 2012?")[:2] == ("2012", None)
    assert dates_in("before 2001")[:2] == (None, "2000")
    assert dates_in("after 1990")[:2] == ("1991", None)
    assert dates_in("between 1990 and 2000")[:2] == ("1990", "2000")
    assert dates_in("from 1990 to 2000")[:2] == ("1990", "2000")


def test_a_party_narrows_positions() -> None:
    question = "Where do the Republican presidents stand on balancing the budget?"
    intent = read_intent(question, find_speakers(question, STORE))
    assert (intent.mode, intent.party) == ("positions", "Republican")


def test_a_surname_two_speakers_share_is_no_comparison() -> None:
    """ "Roosevelt" names both Roosevelts, at one place in the question: not two speakers
    joined by "and" (the plan then asks for the full name)."""
    question = "How did Roosevelt talk about trusts over the years?"
    assert read(question)[0] == "timeline"


def test_people_who_share_a_surname_stay_apart_by_full_name() -> None:
    names = [s.name for s in find_speakers("What did George W. Bush say about Iraq?", STORE)]
    assert names == ["George W. Bush"]
    names = [s.name for s in find_speakers("What did George H. W. Bush say?", STORE)]
    assert names == ["George H. W. Bush"]
    both = {s.name for s in find_speakers("What did Roosevelt say about trusts?", STORE)}
    assert both == {"Franklin D. Roosevelt", "Theodore Roosevelt"}


def test_a_first_name_or_initials_tell_two_people_of_one_surname_apart() -> None:
    store = [
        speaker("lbj", "Lyndon B. Johnson", "Democratic Party", "1966"),
        speaker("aj", "Andrew Johnson", "Democratic Party", "1867"),
        speaker("fdr", "Franklin D. Roosevelt", "Democratic Party", "1944"),
        speaker("tr", "Theodore Roosevelt", "Republican Party", "1905"),
    ]
    for question, name in (
        ("How has Lyndon Johnson's position on Vietnam changed?", "Lyndon B. Johnson"),
        ("What did LBJ say about poverty?", "Lyndon B. Johnson"),
        ("What did FDR say about the war?", "Franklin D. Roosevelt"),
        ("What did Andrew Johnson say about Reconstruction?", "Andrew Johnson"),
    ):
        assert [s.name for s in find_speakers(question, store)] == [name], question
    assert len(find_speakers("What did Johnson say?", store)) == 2  # truly ambiguous
