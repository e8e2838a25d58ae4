"""Select stage: the sentences that become quotes, and the one decision to abstain.

The best-scored sentences become quote spans; adjacent picks merge into one span, and a
very short sentence (or a question) takes its neighbour along so that it reads on its
own. Whether an answer abstains is decided here, by ``decide``, and nowhere else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from rag.models import Citation, Passage
from rag.policy import ScoringPolicy
from rag.sentences import content_terms
from rag.stages.score import ScoredSentence
from rag.store.chroma import StoredPassage

logger = logging.getLogger(__name__)

NOTHING_FOUND = "nothing in scope was found for the question"
WEAK_EVIDENCE = "no sentence matches the question well enough"
NOT_ADDRESSED = "the closest sentences do not address the question"
NOT_VERBATIM = "no selected quote could be verified"


@dataclass(frozen=True)
class QuoteSpan:
    statement_id: str
    paragraph: int
    start: int
    end: int
    score: float
    quote: str  # taken from the stored passage; checked against the statement's text


@dataclass(frozen=True)
class Selection:
    """The verified quotes of an answer, or an abstention and its reason."""

    quotes: list[Citation] = field(default_factory=list)
    reason: str | None = None  # why it abstains; None when it answers

    @property
    def abstained(self) -> bool:
        return self.reason is not None


def best_evidence(scored: Sequence[ScoredSentence], policy: ScoringPolicy) -> float:
    """The best evidence among the top-ranked sentences (0 when there are none)."""
    return max((s.evidence for s in scored[: policy.abstain_window]), default=0.0)


def best_cross(scored: Sequence[ScoredSentence]) -> float | None:
    """The cross-encoder's best logit among the sentences it read (None: it read none)."""
    logits = [s.features.cross for s in scored if s.features.cross is not None]
    return max(logits) if logits else None


def not_addressed(scored: Sequence[ScoredSentence], policy: ScoringPolicy) -> bool:
    """True when the cross-encoder read the best sentences and none of them is about the
    question (their best logit is below ``rerank_floor``)."""
    cross = best_cross(scored)
    return cross is not None and cross < policy.rerank_floor


def weak_evidence(scored: Sequence[ScoredSentence], policy: ScoringPolicy) -> bool:
    """True when none of the top-ranked sentences matches well enough to answer."""
    return (
        not scored
        or best_evidence(scored, policy) < policy.min_score
        or not_addressed(scored, policy)
    )


def decide(
    scored: Sequence[ScoredSentence], verified: Sequence[Citation], policy: ScoringPolicy
) -> Selection:
    """Answer with the verified quotes, or abstain (saying why) when there are none.

    ``select_quotes`` picks nothing on ``weak_evidence``, so an answer is given exactly
    when the evidence is strong enough and a picked quote survived verification.
    """
    if verified:
        return Selection(list(verified))
    if not scored:
        reason = NOTHING_FOUND
    elif not_addressed(scored, policy):
        reason = NOT_ADDRESSED
    elif weak_evidence(scored, policy):
        reason = WEAK_EVIDENCE
    else:
        reason = NOT_VERBATIM
    logger.debug("abstaining: %s", reason)
    return Selection([], reason)


_CLOSING = "\"'”’)]"
# A transcriber's note in brackets — "(APPLAUSE)", "(CROSSTALK)", "[inaudible]" — is not
# the speaker's words: a quote never includes one (it is cut there).
STAGE_DIRECTION = re.compile(
    r"[(\[]\s*(?:[A-Z][A-Z ,'’.-]{2,}|(?i:applause|laughter|crosstalk|inaudible|cheers|"
    r"booing|cheering|unknown|untranslated|unintelligible|music|silence))\s*[)\]]"
)
_WORDLESS = re.compile(r"^[\W_]*$")
HEADING_WORDS = 12
NEIGHBOUR_WORDS = 30  # a completing neighbour longer than this is not taken along


def is_heading(passage: Passage) -> bool:
    """A title or heading line (a whole short paragraph without final punctuation): it is
    context, never evidence on its own ("Free buses for every city")."""
    if len(passage.sentences) != 1:
        return False
    text = passage.text.strip().rstrip(_CLOSING)
    return len(text.split()) <= HEADING_WORDS and not text.endswith((".", "!", "?", "…", ":"))


def _sentence(passage: Passage, index: int) -> str:
    lo, hi = passage.sentences[index]
    return passage.text[lo - passage.start : hi - passage.start]


def completing_neighbour(
    passage: Passage, index: int, terms: Mapping[str, float], words: int
) -> int | None:
    """The adjacent sentence that holds question terms this one lacks (what makes the
    quote answer: "my first visit … wasn't to Iowa." + "It was to San Juan, Puerto
    Rico."), when it is short enough to read as part of the quote."""
    if not terms:
        return None
    have = set(content_terms(_sentence(passage, index)))
    missing = {t for t in terms if t not in have}
    best, gain = None, 0.0
    for j in (index + 1, index - 1):
        if not 0 <= j < len(passage.sentences):
            continue
        text = _sentence(passage, j)
        if len(text.split()) > words:
            continue
        added = sum(terms[t] for t in missing & set(content_terms(text)))
        if added > gain:
            best, gain = j, added
    return best


def select_quotes(
    scored: Sequence[ScoredSentence],
    passages: Mapping[str, StoredPassage],
    max_quotes: int,
    policy: ScoringPolicy,
    terms: Mapping[str, float] | None = None,
) -> list[QuoteSpan]:
    """The best sentences as quote spans, best first; adjacent picks are merged, a
    heading is never picked, and the same words quoted twice (one text under two file
    names) are shown once. ``terms``: the question's weighted terms, for a neighbour
    that completes a quote.

    None when the evidence is too weak to answer (see ``decide``).
    """
    if weak_evidence(scored, policy):
        return []
    # a heading is context, never a quote: its score sets no bar for the quotes either
    quotable = [s for s in scored if not is_heading(passages[s.passage_id].passage)]
    if not quotable:
        return []
    floor = quotable[0].score * policy.relative_cutoff
    evidence_floor = max(
        policy.min_score * policy.quote_evidence_factor,
        best_evidence(scored, policy) * policy.relative_evidence,
    )
    picked: list[ScoredSentence] = []
    for sentence in quotable:
        if sentence.score < floor or len(picked) >= max_quotes:
            break
        if sentence.evidence < evidence_floor:
            continue
        picked.append(sentence)
    spans = _merge(picked, passages, policy.short_sentence_words, terms or {})
    seen: set[str] = set()
    unique = []
    for span in spans:
        if span.quote not in seen:
            seen.add(span.quote)
            unique.append(span)
    return unique


def _merge(
    picked: Sequence[ScoredSentence],
    passages: Mapping[str, StoredPassage],
    short_sentence_words: int,
    terms: Mapping[str, float],
) -> list[QuoteSpan]:
    by_passage: dict[str, list[ScoredSentence]] = {}
    for s in picked:
        by_passage.setdefault(s.passage_id, []).append(s)
    spans: list[QuoteSpan] = []
    for pid, sentences in by_passage.items():
        p = passages[pid].passage
        indices = sorted({s.index for s in sentences})
        best = {s.index: s.score for s in sentences}
        # a very short sentence ("Get out now!") takes its neighbour along, and a
        # (rhetorical) question takes the sentence that answers it
        for i in list(indices):
            lo, hi = p.sentences[i]
            sentence = p.text[lo - p.start : hi - p.start]
            asks = sentence.rstrip("\"'”’) ").endswith("?") and i + 1 < len(p.sentences)
            if asks or len(sentence.split()) < short_sentence_words:
                neighbour = i + 1 if i + 1 < len(p.sentences) else i - 1
                if neighbour >= 0 and neighbour not in best:
                    indices.append(neighbour)
                    best[neighbour] = best[i]
            completing = completing_neighbour(p, i, terms, NEIGHBOUR_WORDS)
            if completing is not None and completing not in best:
                indices.append(completing)
                best[completing] = best[i]
        indices = sorted(set(indices))
        runs: list[list[int]] = [[indices[0]]]
        for i in indices[1:]:
            if i == runs[-1][-1] + 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            start, end = p.sentences[run[0]][0], p.sentences[run[-1]][1]
            spans.append(
                QuoteSpan(
                    p.statement_id,
                    p.paragraph,
                    start,
                    end,
                    max(best[i] for i in run),
                    p.text[start - p.start : end - p.start],
                )
            )
    spans = [part for span in spans for part in without_stage_directions(span)]
    spans.sort(key=lambda q: -q.score)
    return spans


def without_stage_directions(span: QuoteSpan) -> list[QuoteSpan]:
    """``span`` cut around any transcriber's note it holds (each part trimmed of spaces;
    parts without a word dropped). Offsets stay exact: each part is a slice of the quote."""
    if not STAGE_DIRECTION.search(span.quote):
        return [span]
    parts: list[QuoteSpan] = []
    last = 0
    bounds = [(m.start(), m.end()) for m in STAGE_DIRECTION.finditer(span.quote)]
    for a, b in [*bounds, (len(span.quote), len(span.quote))]:
        piece = span.quote[last:a]
        lead = len(piece) - len(piece.lstrip())
        text = piece.strip()
        if text and not _WORDLESS.match(text):
            start = span.start + last + lead
            parts.append(replace(span, start=start, end=start + len(text), quote=text))
        last = b
    return parts


class Selector:
    """The select stage: quote spans from scored sentences, then answer or abstain."""

    def __init__(self, policy: ScoringPolicy) -> None:
        self.policy = policy

    def run(
        self,
        scored: Sequence[ScoredSentence],
        passages: Mapping[str, StoredPassage],
        max_quotes: int | None = None,
        terms: Mapping[str, float] | None = None,
    ) -> list[QuoteSpan]:
        """At most ``max_quotes`` (default: the policy's) spans, best first."""
        return select_quotes(
            scored, passages, max_quotes or self.policy.max_quotes, self.policy, terms
        )

    def decide(self, scored: Sequence[ScoredSentence], verified: Sequence[Citation]) -> Selection:
        return decide(scored, verified, self.policy)
