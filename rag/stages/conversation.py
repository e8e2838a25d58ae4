"""Follow-up questions without an LLM.

A question is read against the previous turn only when it leans on it:
- elliptical ("What about Yang?", "And Buttigieg?", "And what else?"): nothing of its own
  to ask, so it takes the previous topic (and, with a new name, the new speaker; the
  previous answer's mode too: "And Clinton?" after a timeline is Clinton's timeline);
- pronouns: "he/she/they/his/her" carry the speakers the previous answer was narrowed to,
  "it/that/this/those" the previous topic ("How would he pay for it?");
- "the other statement/candidate" excludes what was cited;
- a short question without names ("How many were killed?") prefers the statements just
  cited and weighs the previous topic a little (never replaced by it).
A question with a topic of its own and no pronoun stands alone, even when it names a
speaker ("What does Yang say about China?" after a Biden question). How a follow-up was
read is said in words (``understood``): the question with its pronouns or names replaced.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.models import Answer, Statement
from rag.sentences import content_terms
from rag.stages.rewrite import topic_of
from rag.stages.speakers import Speaker, find_speakers, without_names

_FOLLOWUP_START = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about|what else|who said|which one|is that|"
    r"was that|did they|does it|do they)\b",
    re.IGNORECASE,
)
_PERSON = re.compile(r"\b(he|she|him|her|his|hers|they|them|their|theirs)\b", re.IGNORECASE)
_SINGULAR = re.compile(r"\b(he|she|him|her|his|hers)\b", re.IGNORECASE)
_PLURAL_THING = re.compile(r"\b(they|them|their)\b", re.IGNORECASE)
# a new topic named outright: "What does he say about guns?", "her position on trade"
_NEW_TOPIC = re.compile(
    r"\b(?:say|says|said|think|thinks|thought|talk|talks|talked|speak|speaks|spoke|position|"
    r"positions|view|views|stance|plan|plans|stand|stands)\b[^?]*?\b(?:about|on|regarding)\s+\w",
    re.IGNORECASE,
)
# "did it say": an organization speaking
_IT_SPEAKS = re.compile(
    r"\b(?:does|did|do|has|would|will)\s+(it|they)\s+(?:say|said|think|propose|want|mention|"
    r"talk|call|demand|argue|claim)\w*",
    re.IGNORECASE,
)
# Words that point back at the previous topic. "that/this/there" only count at the end
# ("Who said that?"), since "the claim that …" is no reference to anything.
_THING = re.compile(
    r"\b(it|its|those|these|same)\b|\b(that|this|there|then)\s*[?.!]*\s*$", re.IGNORECASE
)
_OTHER = re.compile(
    r"\b(?:the\s+)?other\s+(?:statement|one|party|organi[sz]ation|group|text|side|document|"
    r"candidate|speaker|person|speech|president)s?\b(?!['’])",  # not "the other's plan"
    re.IGNORECASE,
)
_LEAD = re.compile(
    r"^\s*(?:and|but|also|so|then)?\s*(?:(?:what|how)\s+about|what\s+else|anything\s+else)\b\s*",
    re.IGNORECASE,
)
_CONNECTIVE = re.compile(r"^\s*(?:and|but|also|so|then)\b\s*", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_ENTITY = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'’-]+")
_PRONOUN_TERMS = frozenset(
    content_terms("he she him her his hers they them their theirs it its that this those these")
)
BOOST = 0.05


@dataclass(frozen=True)
class Resolution:
    """How a question is to be searched, given the conversation so far."""

    question: str
    retrieval_text: str
    context_text: str | None = None  # the carried-over topic, scored with less weight
    scope: list[str] | None = None  # restrict to these statement ids
    boosts: dict[str, float] = field(default_factory=dict)
    # words that name who said it ("SEP"): they choose statements, they are not the topic,
    # so keyword scoring ignores them (otherwise every sentence saying "SEP" would win)
    ignore_terms: frozenset[str] = frozenset()
    understood: str | None = None  # a follow-up, as the question it was read as
    carried_topic: bool = False  # the topic came from the previous turn
    mode: str | None = None  # the previous answer's mode, taken by an elliptical turn


def _names_removed(question: str, speakers: Sequence[Speaker]) -> str:
    """The topic: without a frame such as "What does <speaker> say about". A question
    about the speaker themselves ("What office was Naomi Craine running for?") keeps the
    name for the embedding; its words are never keyword evidence (``ignore_terms``)."""
    if not speakers:
        return question
    blanked = " ".join(without_names(question, speakers).split())
    topic = topic_of(blanked)
    return topic if topic != blanked else question


def _topic(answer: Answer, statements: Sequence[Statement]) -> str:
    """What the previous turn was about: its topic without the speakers it named."""
    if answer.mode != "answer" and answer.topic:
        return answer.topic
    question = answer.resolved_question if answer.resolved_question else answer.question
    if answer.resolved_question and answer.topic:
        return answer.topic
    return _names_removed(question, find_speakers(question, statements))


def _without_entities(text: str) -> str:
    """``text`` without its capitalised names (a new name replaces them)."""
    return " ".join(_ENTITY.sub(" ", text).split())


def _previous_speakers(answer: Answer, statements: Sequence[Statement]) -> list[str]:
    """The statement ids of the speakers the previous answer was narrowed to (or, for an
    answer saved before that was recorded, of the one speaker it quoted)."""
    names = list(answer.speakers)
    if not names:
        quoted = {c.speaker for c in answer.citations if c.speaker}
        names = list(quoted) if len(quoted) == 1 else []
    return [s.statement_id for s in statements if s.speaker in names]


def _speakers_of(statements: Sequence[Statement], ids: Sequence[str]) -> str:
    wanted = set(ids)
    return "; ".join(
        dict.fromkeys(s.speaker or s.statement_id for s in statements if s.statement_id in wanted)
    )


def _own_terms(text: str, ignore: frozenset[str]) -> list[str]:
    return [t for t in content_terms(text) if t not in ignore and t not in _PRONOUN_TERMS]


def _replace_pronoun(question: str, person: str | None, thing: str | None) -> str:
    """The question with its first person pronoun and its first "it/that" replaced."""
    text = question
    if person:
        text = _PERSON.sub(
            lambda m: f"{person}'s" if m.group(1).lower() in {"his", "their", "hers"} else person,
            text,
            count=1,
        )
    if thing:
        thing = thing.strip(" ?.!")
        before = text
        text = _THING.sub(lambda m: m.group(0).replace(m.group(m.lastindex or 0), thing), text, 1)
        if text == before:  # "How would he pay for them?"
            text = _PLURAL_THING.sub(thing, text, count=1)
        if text == before:
            text = f"{text} — on {thing}"
    return text


def _named_in(
    previous: Answer, speakers: Sequence[Speaker], statements: Sequence[Statement]
) -> str:
    """The previous question (as it was understood, for a follow-up) with its speakers'
    names replaced by the new ones."""
    names = " and ".join(s.name for s in speakers)
    asked = previous.resolved_question if previous.mode == "answer" else None
    asked = asked or previous.question
    before = find_speakers(asked, statements)
    if not before:
        return f"{_topic(previous, statements)} — {names}"
    chars = list(asked)
    found = {span for s in before for span in s.spans}
    outer = [a for a in found if not any(b != a and b[0] <= a[0] and a[1] <= b[1] for b in found)]
    spans = sorted(outer, reverse=True)  # "Amy Klobuchar" holds "Klobuchar": replaced once
    for i, (start, end) in enumerate(spans):
        chars[start:end] = list(names if i == len(spans) - 1 else "")
    return " ".join("".join(chars).split())


def resolve(
    question: str,
    history: Sequence[Answer],
    statements: Sequence[Statement],
    speakers: Sequence[Speaker] | None = None,
) -> Resolution:
    """Read ``question`` in the light of the last answer in ``history`` (``speakers``: those
    the question names among ``statements``, when the caller has found them already)."""
    if speakers is None:
        speakers = find_speakers(question, statements)
    named = list(dict.fromkeys(sid for s in speakers for sid in s.statement_ids))
    narrowed = named if named and len(named) < len(statements) else None
    ignore = frozenset(
        t for s in speakers for a, b in s.spans for t in content_terms(question[a:b])
    )
    topic_here = _names_removed(question, speakers)
    if not history:
        return Resolution(question, topic_here, scope=narrowed, ignore_terms=ignore)
    previous = history[-1]
    lead = bool(_LEAD.match(question))
    rest = _LEAD.sub("", _CONNECTIVE.sub("", without_names(question, speakers)))
    if lead:  # "What about Kerry?": a name in place of the previous one, no topic of its own
        rest = _without_entities(" " + rest)
    own = _own_terms(topic_of(rest) if rest.strip() else "", ignore)
    names = [w for w in _WORD.findall(topic_here)[1:] if w[0].isupper()]
    singular = bool(_SINGULAR.search(question))
    person = singular or bool(_PERSON.search(question) or _IT_SPEAKS.search(question))
    # "How would he pay for them?": with "he" the person, "them" is a thing
    thing = bool(_THING.search(_IT_SPEAKS.sub(" ", question))) or (
        singular and bool(_PLURAL_THING.search(question))
    )
    short = len(own) <= 2 and not names and not speakers
    elliptical = not own
    if not (elliptical or person or thing or short or _FOLLOWUP_START.match(question)):
        return Resolution(question, topic_here, scope=narrowed, ignore_terms=ignore)
    if speakers and own and not thing and not person:
        return Resolution(question, topic_here, scope=narrowed, ignore_terms=ignore)
    topic = _topic(previous, statements)
    cited = list(dict.fromkeys(c.statement_id for c in previous.citations))
    if _OTHER.search(question):
        extra = _LEAD.sub("", _OTHER.sub("", topic_here)).strip(" ?.!,")
        others = [s.statement_id for s in statements if s.statement_id not in cited]
        text = f"{topic} {extra}".strip() if len(content_terms(extra)) else topic
        return Resolution(
            question,
            text,
            context_text=topic,
            scope=others or None,
            understood=f"{text} — {_speakers_of(statements, others)}",
            carried_topic=True,
        )
    carried = _previous_speakers(previous, statements) if person and not speakers else []
    scope = narrowed or (carried if carried and len(carried) < len(statements) else None)
    who = _speakers_of(statements, carried)
    if elliptical:
        base = _without_entities(topic) if names and not speakers else topic
        extra = " ".join(names) if names and not speakers else ""
        text = f"{extra} {base}".strip()
        if speakers:
            understood = _named_in(previous, speakers, statements)
        elif who:
            understood = _replace_pronoun(question, who, None) + f" — about {topic}"
        else:
            understood = text
        return Resolution(
            question,
            text,
            context_text=topic,
            scope=scope,
            ignore_terms=ignore,
            understood=understood,
            carried_topic=True,
            mode=previous.mode if previous.mode != "answer" else None,
        )
    if thing:
        text = f"{topic_here} {topic}".strip()
        understood = _replace_pronoun(question, who or None, topic)
        return Resolution(
            question,
            text,
            context_text=topic,
            scope=scope,
            ignore_terms=ignore,
            boosts={} if scope else {sid: BOOST for sid in cited},
            understood=understood,
            carried_topic=True,
        )
    if who and _NEW_TOPIC.search(question):  # "What does she say about guns?": a new topic
        return Resolution(
            question,
            topic_here,
            scope=scope,
            ignore_terms=ignore,
            understood=_replace_pronoun(question, who, None),
        )
    if who:  # "What would she do if there is a conflict?": still on the previous topic
        return Resolution(
            question,
            f"{topic_here} {topic}".strip(),
            context_text=topic,
            scope=scope,
            ignore_terms=ignore,
            understood=_replace_pronoun(question, who, None) + f" — on {topic.strip(' ?.!')}",
            carried_topic=True,
        )
    return Resolution(  # short: prefer what was just cited, weigh the previous topic a little
        question,
        topic_here,
        context_text=topic,
        scope=narrowed,
        boosts={sid: BOOST for sid in cited},
        ignore_terms=ignore,
    )
