"""The topic of a question, without the frame around it.

"What does Sanders say about Medicare for all?" asks about Medicare for all, in Sanders's
statements: the speaker goes to the scope (``rag.stages.speakers``), and the frame ("what does …
say about") carries no topic, so it is dropped before the question is embedded and its
words are not scored as keywords. Only leading frames are removed; the rest of the
question is kept word for word.
"""

from __future__ import annotations

import re

_VERBS = (
    r"say|said|says|think|thinks|thought|believe|believes|feel|feels|propose|proposes|proposed|"
    r"want|wants|argue|argues|argued|claim|claims|claimed|mention|mentions|mentioned|"
    r"talk|talks|talked|speak|speaks|spoke|suggest|suggests|suggested|plan|plans|"
    r"promise|promises|promised|support|supports|stand|stands|write|writes|wrote|tell|tells|told"
)
_FRAMES = [
    # what does/did (X) say/think about …
    rf"^(?:so\s+|and\s+|but\s+)?(?:what|how)\s+(?:do|does|did|would|will|should)\s+"
    rf"(?:(?:the\s+)?(?:candidates?|speakers?|statements?)\s+)?(?:{_VERBS})\s+"
    r"(?:about|on|regarding|concerning|of|with respect to|when it comes to)?\s*",
    # what is (X's) position/view/stance on …
    r"^(?:so\s+|and\s+|but\s+)?what\s+(?:is|was|are|were)\s+(?:the\s+)?"
    r"(?:position|view|views|stance|opinion|take|thoughts?|plan|policy|proposal)s?\s+"
    r"(?:on|about|regarding|of|for)\s+",
    # how do (X and Y) differ on …
    r"^(?:how|where|in what ways?)\s+(?:do|does|did)\s+(?:and\s+)?"
    r"(?:differ|compare|disagree|agree|contrast)\s+"
    r"(?:on|about|over|regarding|in|when it comes to)?\s*",
    # according to (X), …
    r"^according\s+to\s*,?\s*",
    # does/did (X) mention/talk about …
    rf"^(?:does|did|do|has|have)\s+(?:{_VERBS})\s+(?:about\s+|on\s+)?",
]
_FRAME = [re.compile(p, re.IGNORECASE) for p in _FRAMES]


def topic_of(question: str) -> str:
    """``question`` without a leading frame, or unchanged when nothing would be left."""
    text = " ".join(question.split())
    for pattern in _FRAME:
        rest = pattern.sub("", text, count=1).strip()
        if rest != text and any(ch.isalnum() for ch in rest):
            return rest
    return text
