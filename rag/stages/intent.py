"""What kind of answer a question asks for, and about what.

Most questions want quotes that answer them (``answer``). Questions about speakers want
them grouped: "How do Sanders and Biden differ on Z?" (``compare``: the named speakers
side by side), "Where do the candidates stand on Z?" (``positions``: every speaker in
scope), "What has Obama said about Z over time?" (``timeline``: one speaker's statements
in date order). The mode is read from the wording and the speakers the question names
(``rag.stages.speakers``), or forced by the caller (the UI's controls); the topic is the
question without its frame, names and dates; "since 1990" and "before 2001" become dates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from rag.stages.rewrite import topic_of
from rag.stages.speakers import Speaker, without_names

Mode = Literal["answer", "compare", "positions", "timeline"]
MODES: tuple[Mode, ...] = ("answer", "compare", "positions", "timeline")

_GROUP = (
    r"(?:candidates?|speakers?|presidents?|parties|party|organi[sz]ations?|politicians?|"
    r"senators?|members|leaders?|groups?|people|everyone|everybody|they)"
)
_GROUPS = (  # plural: "which presidents …" asks for several speakers
    r"(?:candidates|speakers|presidents|parties|organi[sz]ations|politicians|senators|"
    r"members|leaders|groups)"
)
_STANCE = (
    r"(?:supports?|opposes?|favou?rs?|backs?|rejects?|endorses?|"
    r"(?:is|are|was|were)\s+(?:for|against|in\s+favou?r\s+of|opposed\s+to))"
)
_AUX = r"(?:do|does|did|have|has|had)"
_SAY = (
    r"(?:say|said|says|think|thought|propose|proposed|believe|want|wanted|talk|talked|"
    r"spoken|spoke|written|wrote)"
)
_POSITIONS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"^\W*(?:and\s+|so\s+)?where\s+{_AUX}\s+(?:all\s+|each\s+of\s+)?(?:the\s+)?"
        rf"(?:\w+\s+)?{_GROUP}\s+(?:each\s+|all\s+)?(?:stand|stood|fall|come\s+down)\s+"
        r"(?:on|regarding|about|when\s+it\s+comes\s+to)\s+",
        rf"^\W*(?:and\s+|so\s+)?what\s+{_AUX}\s+(?:each|every|all)\s+(?:of\s+)?"
        rf"(?:the\s+)?(?:\w+\s+)?(?:{_GROUP}\s+)?{_SAY}\s+(?:about|on|regarding)\s+",
        rf"^\W*(?:and\s+|so\s+)?what\s+{_AUX}\s+(?:all\s+)?the\s+(?:\w+\s+)?{_GROUPS}\s+"
        rf"{_SAY}\s+(?:about|on|regarding)\s+",
        rf"^\W*(?:and\s+|so\s+)?who\s+{_STANCE}\s+",
        rf"^\W*(?:and\s+|so\s+)?(?:which|what)\s+(?:\w+\s+)?{_GROUPS}\s+(?:\w+\s+)?",
        r"^\W*(?:what\s+are\s+)?(?:the\s+)?(?:positions|stances|views)\s+(?:of\s+(?:all\s+)?"
        rf"(?:the\s+)?(?:\w+\s+)?{_GROUP}\s+)?(?:on|about|regarding)\s+",
        rf"^\W*(?:how|where)\s+{_AUX}\s+(?:all\s+)?the\s+(?:\w+\s+)?{_GROUPS}\s+"
        r"(?:differ|compare|disagree|agree|contrast)\s+(?:on|about|over|regarding)\s+",
    )
]
# "Which presidents asked Congress for …": the verb is part of the topic
_WHICH = re.compile(rf"^\W*(?:which|what)\s+(?:\w+\s+)?{_GROUPS}\s+", re.IGNORECASE)
# "<party> members/presidents/candidates": the words before the group noun
_PARTY_GROUP = re.compile(
    r"\b(?:the\s+)?(?!(?:Which|What|Where|Who|How|All|The|Each|Every|Both|Other|These|Those)\b)"
    r"([A-Z][\w-]*(?:\s+[A-Z][\w-]*)?)\s+"
    r"(?:members|presidents|candidates|senators|politicians|leaders)\b"
)
_TIMELINE = re.compile(
    r"\b(?:over\s+(?:time|the\s+years|the\s+decades|(?:his|her|their)\s+(?:terms?|"
    r"presidency|career))|through\s+the\s+years|across\s+(?:the\s+)?(?:years|his|her|their)|"
    r"(?:changed|evolved|shifted)\b|timeline|year\s+(?:by|after)\s+year|"
    r"from\s+year\s+to\s+year)"
    r"|^\W*how\s+(?:has|have|did)\b.*\b(?:change|evolve|shift|develop)\b",
    re.IGNORECASE,
)
# a comparison of every statement in scope, no speaker named ("How do the statements differ")
_COMPARE_ALL = re.compile(
    r"\b(?:each\s+statement|both\s+statements|the\s+two\s+statements)\b"
    r"|\b(?:differ\w*|difference\w*|compar\w*|contrast\w*|versus|vs\.?|disagree\w*)\b"
    r"(?=.*\b(?:statements?|speakers|parties|organi[sz]ations|texts|documents)\b)"
    r"|\b(?:statements?|speakers|parties|organi[sz]ations|texts|documents)\b"
    r"(?=.*\b(?:differ\w*|compar\w*|contrast\w*|disagree\w*)\b)",
    re.IGNORECASE,
)
_COMPARE_WORDS = re.compile(
    r"\b(?:differ\w*|difference\w*|compar\w*|contrast\w*|versus|vs\.?|disagree\w*|agree\w*|"
    r"stand|similar\w*|same\s+(?:view|position))\b",
    re.IGNORECASE,
)
_JOINED = re.compile(r"^\s*(?:,|and|&|or|vs\.?|versus|with|from|to)?\s*$", re.IGNORECASE)
# since / before / after / between / from … to, with a year (or a full date)
_DATE = r"(\d{4}(?:-\d{2}(?:-\d{2})?)?)"
_SINCE = re.compile(rf"\b(?:since|after|from)\s+{_DATE}\b(?!\s*(?:to|until|and)\s+\d)", re.I)
_UNTIL = re.compile(rf"\b(?:before|until|till|up\s+to|through)\s+{_DATE}\b", re.I)
_BETWEEN = re.compile(
    rf"\b(?:between|from)\s+{_DATE}\s+(?:and|to|until|through|-)\s+{_DATE}\b", re.IGNORECASE
)
COMPARE_LEAD = re.compile(
    r"^\s*(?:how|in what ways?|where|what)\s+(?:do|does|did)\s+(?:the\s+)?(?:two\s+|both\s+)?"
    r"(?:statements?|parties|organi[sz]ations)\s+(?:differ|compare|contrast|disagree|agree|say)"
    r"\w*\s*(?:on|about|over|regarding|in|with respect to|when it comes to)?\s*"
    r"|^\s*compare\s+(?:what\s+)?(?:the\s+)?(?:two\s+)?(?:statements?|parties)?\s*(?:say)?\s*"
    r"(?:on|about|regarding)?\s*",
    re.IGNORECASE,
)
_TOPIC_FRAMES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        # timelines: "what has said about", "how has position on … changed"
        r"^\W*(?:and\s+|so\s+)?(?:what|how)\s+(?:has|have|had|did|do|does)\s+(?:'s\s+)?"
        r"(?:(?:position|view|stance|thinking|rhetoric|tone|language|message)s?\s+"
        r"(?:on|about|regarding)\s+|(?:said|say|says|talked|talk|spoken|spoke|written|wrote)\s+"
        r"(?:about|on|regarding)\s+)",
        # comparisons: "where do and stand on", "do and agree on", "compare and on"
        r"^\W*(?:and\s+|so\s+)?(?:how|where|in\s+what\s+ways?|do|does|did)?\s*(?:do|does|did)?"
        r"\s*(?:,|and|&|or)?\s*(?:'s\s+(?:position|view|stance)s?\s+(?:on|about)\s+)?"
        r"(?:differ|compare|disagree|agree|contrast|stand|say|think)\w*\s+"
        r"(?:on|about|over|regarding|in|when\s+it\s+comes\s+to|with\s+respect\s+to)\s+",
        r"^\W*compare\s+(?:what\s+)?(?:,|and|&)?\s*(?:say\s+)?(?:on|about|regarding)\s+",
        r"^\W*(?:what(?:'s|\s+is)\s+the\s+)?differences?\s+(?:between\s+)?(?:,|and|&)?\s*"
        r"(?:on|about|regarding)\s+",
        r"^\W*(?:vs\.?|versus|or)\s+(?:on|about|regarding)\s+",
    )
]
_TOPIC_TAIL = re.compile(
    r"\s*(?:,?\s*(?:and\s+)?who\s+(?:supports?|opposes?)\s+(?:it|them|that)|"
    r",?\s*(?:over\s+time|over\s+the\s+years|over\s+the\s+decades|through\s+the\s+years|"
    r"across\s+the\s+years|year\s+by\s+year)|\s+(?:changed|evolved|shifted|developed|moved)"
    r"(?:\s+over\s+time)?|\s+differ(?:\s+from\s*(?:'s)?)?|\s+(?:agree|disagree)(?:\s+with)?)"
    r"\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_EDGE_WORDS = re.compile(
    r"^(?:\W|and\b|or\b|vs\b\.?|versus\b|on\b|about\b|regarding\b|the\s+issue\s+of\b|'s\b)+"
    r"|(?:\W|\band|\bor|\bon|\babout|'s)+$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Intent:
    """The answer a question asks for: its mode, its topic, and dates it names."""

    mode: Mode
    topic: str
    since: str | None = None
    until: str | None = None
    party: str | None = None  # "<party> members": positions among that organization


def dates_in(question: str) -> tuple[str | None, str | None, str]:
    """``(since, until, question without them)`` from "since 1990", "before 2001", "between
    1990 and 2000". "before Y" is up to the year before; "after Y" from the year after."""
    since = until = None
    text = question
    if m := _BETWEEN.search(text):
        since, until = m.group(1), m.group(2)
        text = text[: m.start()] + text[m.end() :]
    else:
        if m := _SINCE.search(text):
            since = m.group(1)
            if m.group(0).lower().startswith("after") and len(since) == 4:
                since = str(int(since) + 1)
            text = text[: m.start()] + text[m.end() :]
        if m := _UNTIL.search(text):
            until = m.group(1)
            if m.group(0).lower().startswith("before") and len(until) == 4:
                until = str(int(until) - 1)
            text = text[: m.start()] + text[m.end() :]
    return since, until, " ".join(text.split())


def _joined(question: str, speakers: Sequence[Speaker]) -> bool:
    """Two named speakers next to each other: "Sanders and Biden", "Obama vs Trump"."""
    spans = sorted(span for s in speakers for span in s.spans)
    return any(_JOINED.match(question[a[1] : b[0]]) for a, b in pairwise(spans))


def topic_in(question: str, speakers: Sequence[Speaker]) -> str:
    """The topic: the question without names, dates and the frame around them."""
    _, _, text = dates_in(without_names(question, speakers))
    for pattern in (*_POSITIONS, _WHICH, COMPARE_LEAD):
        text = pattern.sub("", text, count=1)
    for pattern in _TOPIC_FRAMES:
        rest = pattern.sub("", text, count=1)
        if rest != text and any(ch.isalnum() for ch in rest):
            text = rest
            break
    text = _TOPIC_TAIL.sub("", text)
    text = topic_of(text)
    text = _EDGE_WORDS.sub("", text).strip()
    return text or question


def _positions(question: str) -> bool:
    _, _, text = dates_in(question)
    return any(p.search(text) for p in _POSITIONS)


def _party(question: str) -> str | None:
    m = _PARTY_GROUP.search(question)
    return m.group(1) if m else None


def read_intent(question: str, speakers: Sequence[Speaker], forced: Mode | None = None) -> Intent:
    """The mode of ``question`` given the ``speakers`` it names (or ``forced``)."""
    since, until, _ = dates_in(question)
    authors = [s for s in speakers if s.kind == "author"] or list(speakers)
    mode: Mode = "answer"
    if forced is not None:
        mode = forced
    elif len(authors) >= 2 and (_COMPARE_WORDS.search(question) or _joined(question, authors)):
        mode = "compare"
    elif len(authors) == 1 and (_TIMELINE.search(question) or (since or until)):
        mode = "timeline" if _TIMELINE.search(question) or _said_about(question) else "answer"
    elif not authors and _positions(question):
        mode = "positions"
    elif not authors and _COMPARE_ALL.search(question):
        mode = "compare"  # every speaker in scope, side by side
    party = _party(question) if mode == "positions" else None
    return Intent(mode, topic_in(question, speakers), since, until, party)


_SAID = re.compile(r"\b(?:said|say|says|talked|spoken|spoke|written)\s+(?:about|on)\b", re.I)


def _said_about(question: str) -> bool:
    """ "What did X say about Z since 1990?": a speaker's words over a period."""
    return _SAID.search(question) is not None
