"""The quotes of a chat model's answer: found in its text, checked against the statements.

The model's output is never trusted: each quoted span must be found in the cited
passage's statement text (only whitespace and quote-mark styles may differ; see
``rag.stages.verify.SourceText``) and is replaced by that exact substring, with offsets, like an
extractive citation (made by ``rag.stages.verify.cite``). A quote that is not there is removed
and listed; a marker naming a passage that was not given is removed and flagged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from rag.models import Citation, Passage, Segment, Statement
from rag.stages.verify import SourceText, cite

logger = logging.getLogger(__name__)

UNVERIFIED_MARK = "[unverified quote removed]"

_OPENERS = '"“'
_MARKS = '"“”'
_BEFORE_OPENING = "([{/—–-"
_NUM = r"(?:passages?\s*)?\d+(?:\s*[-–]\s*\d+)?"
_GROUP = rf"\[\s*{_NUM}(?:\s*[,;]\s*{_NUM})*\s*\]"
_MARKERS_AFTER = re.compile(rf"(?:[ \t]*{_GROUP})+", re.IGNORECASE)
_MARKER_GROUP = re.compile(rf"(?P<lead>[ \t]*){_GROUP}", re.IGNORECASE)
_EDGE_ELLIPSIS = re.compile(r"^(?:\.{3}|…)\s*|\s*(?:\.{3}|…)$")
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_WORD = re.compile(r"\w")


# -- finding quotes in the model's text ------------------------------------------------


@dataclass(frozen=True)
class _Quote:
    content: str  # between the quote marks
    markers: tuple[int, ...]  # passage numbers in the [n] markers right after it
    tail: str  # the raw marker text


def _numbers(group_text: str) -> tuple[int, ...]:
    numbers: list[int] = []
    for m in re.finditer(r"(\d+)(?:\s*[-–]\s*(\d+))?", group_text):
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        numbers += range(first, min(last, first + 20) + 1) if last >= first else [first]
    return tuple(numbers)


def _closing(text: str, opening: int, limit: int) -> int:
    """Index of the mark that closes the quote opened at ``opening``, or -1.

    Quotes inside the quote (the statements put words in scare quotes) are skipped: a
    straight mark after a space and before a word opens, any other straight mark closes.
    """
    depth = 1
    for i in range(opening + 1, limit):
        ch = text[i]
        if ch not in _MARKS:
            continue
        if ch == '"':
            before = text[i - 1] if i > opening + 1 else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            opens = (before.isspace() or before in _BEFORE_OPENING) and not after.isspace()
        else:
            opens = ch == "“"
        depth += 1 if opens else -1
        if depth == 0:
            return i
    return -1


def scan(text: str, final: bool) -> tuple[list[str | _Quote], int]:
    """Split text into prose and quotes (with the markers that follow them).

    Not ``final``: stop before a quote whose end or markers may still be arriving, and
    return how much was consumed. A quote never runs past a blank line.
    """
    parts: list[str | _Quote] = []
    pos, n = 0, len(text)
    while pos < n:
        opening = next((i for i in range(pos, n) if text[i] in _OPENERS), -1)
        if opening < 0:
            parts.append(text[pos:])
            return parts, n
        if opening > pos:
            parts.append(text[pos:opening])
        blank = text.find("\n\n", opening)
        limit = blank if blank >= 0 else n
        closing = _closing(text, opening, limit)
        if closing < 0:
            if not final and blank < 0:
                return parts, opening
            parts.append(_Quote(text[opening + 1 : limit], (), ""))
            pos = limit
            continue
        m = _MARKERS_AFTER.match(text, closing + 1)
        after = m.end() if m else closing + 1
        rest = text[after:].lstrip(" \t")
        if not final and (not rest or (rest.startswith("[") and "]" not in rest)):
            return parts, opening
        tail = m.group(0) if m else ""
        parts.append(_Quote(text[opening + 1 : closing], _numbers(tail), tail))
        pos = after
    return parts, pos


def visible(raw: str, final: bool) -> str:
    """The output without reasoning blocks; while streaming, hold back an open one."""
    text = _THINK.sub("", raw)
    cut = text.find("<think>")
    if cut >= 0:
        text = text[:cut]
    if not final:
        for k in range(min(len(text), 6), 0, -1):
            if "<think>".startswith(text[-k:]):
                return text[:-k]
    return text


def _variants(content: str) -> Iterator[tuple[str, str]]:
    """The quote as written (minus edge ellipses), then without a final punctuation mark,
    which is then put after the marker."""
    core = _EDGE_ELLIPSIS.sub("", content.strip()).strip()
    yield core, ""
    if len(core) > 1 and core[-1] in ".,;:!?":
        yield core[:-1].rstrip(), core[-1]


@dataclass(frozen=True)
class _Match:
    number: int  # the given passage it is attributed to
    passage: Passage
    start: int
    end: int
    trailing: str


@dataclass
class Checked:
    """The model's answer after checking: text with renumbered markers, and what was dropped."""

    text: str
    citations: list[Citation]
    unverified: list[str] = field(default_factory=list)
    bad_markers: list[int] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)  # the text, piece by piece

    def notice(self) -> str | None:
        notes = []
        if self.unverified:
            k = len(self.unverified)
            notes.append(
                f"{k} quote{'s' if k > 1 else ''} not found verbatim in the cited statement "
                f"{'were' if k > 1 else 'was'} removed"
            )
        if self.bad_markers:
            marks = ", ".join(f"[{n}]" for n in self.bad_markers)
            many = len(self.bad_markers) > 1
            notes.append(f"{marks} cited no given passage and {'were' if many else 'was'} removed")
        return "LLM answer: " + "; ".join(notes) if notes else None


class QuoteChecker:
    """Checks the quotes of a model's output against the passages it was given."""

    def __init__(self, passages: Sequence[Passage], statements: Mapping[str, Statement]) -> None:
        self.passages = list(passages)
        self.statements = statements
        self._sources: dict[str, SourceText | None] = {}
        self._matches: dict[tuple[str, tuple[int, ...]], _Match | None] = {}

    def _source(self, statement_id: str) -> SourceText | None:
        if statement_id not in self._sources:
            statement = self.statements.get(statement_id)
            text = statement.text if statement else None
            if text is None:
                logger.warning(
                    "no text for statement %s: its quotes cannot be checked", statement_id
                )
            self._sources[statement_id] = SourceText(text) if text else None
        return self._sources[statement_id]

    def match(self, quote: _Quote) -> _Match | None:
        """Where the quote is, verbatim, in a cited passage's statement; None if nowhere.

        Without a valid marker every passage is tried. A quote from another statement
        than the cited one does not count: the prose around it would misattribute it.
        """
        key = (quote.content, quote.markers)
        if key not in self._matches:
            self._matches[key] = self._match(quote)
        return self._matches[key]

    def _match(self, quote: _Quote) -> _Match | None:
        valid = [n for n in dict.fromkeys(quote.markers) if 1 <= n <= len(self.passages)]
        numbers = valid or range(1, len(self.passages) + 1)
        for variant, trailing in _variants(quote.content):
            if not _WORD.search(variant):
                continue
            for anywhere in (False, True):
                for n in numbers:
                    p = self.passages[n - 1]
                    source = self._source(p.statement_id)
                    if source is None:
                        continue
                    span = (
                        source.find(variant, None, None)
                        if anywhere
                        else source.find(variant, p.start, p.end)
                    )
                    if span is not None:
                        return self._attribute(n, p, span, trailing)
        return None

    def _attribute(self, n: int, cited: Passage, span: tuple[int, int], trailing: str) -> _Match:
        """Credit the given passage that holds the span (the cited one when it does)."""
        start, end = span
        holders = [
            (k, p)
            for k, p in enumerate(self.passages, start=1)
            if p.statement_id == cited.statement_id and p.start <= start and end <= p.end
        ]
        if holders and not any(k == n for k, _ in holders):
            n, cited = holders[0]
        return _Match(n, cited, start, end, trailing)

    def _citation(self, number: int, m: _Match) -> Citation | None:
        statement = self.statements[m.passage.statement_id]
        text = statement.text or ""
        inside = m.passage.start <= m.start and m.end <= m.passage.end
        paragraph = m.passage.paragraph if inside else text.count("\n\n", 0, m.start) + 1
        return cite(number, statement, text, paragraph, m.start, m.end, text[m.start : m.end])

    def provisional(self, part: str | _Quote) -> str:
        """How a part may be shown while streaming: a quote only once checked."""
        if isinstance(part, str):
            return part
        m = self.match(part)
        if m is None:
            return UNVERIFIED_MARK if _WORD.search(part.content) else f'"{part.content}"'
        quote = self.statements[m.passage.statement_id].text or ""
        return f"“{quote[m.start : m.end]}”{part.tail}{m.trailing}"

    def check(self, raw: str) -> Checked:
        """The final answer text: verified quotes exact and renumbered, the rest removed."""
        parts, _ = scan(visible(raw.replace("\0", ""), final=True), final=True)
        citations: list[Citation] = []
        by_span: dict[tuple[str, int, int], int] = {}
        by_passage: dict[int, int] = {}
        rendered: list[str] = []
        quoted: list[tuple[str, int, str]] = []  # verified quotes: text, number, trailing
        unverified: list[str] = []
        bad: set[int] = set()
        count = len(self.passages)
        for part in parts:
            if isinstance(part, str):
                rendered.append(part)  # markers are resolved once all quotes are known
                continue
            bad.update(n for n in part.markers if not 1 <= n <= count)
            m = self.match(part)
            citation = None
            if m is not None:
                key = (m.passage.statement_id, m.start, m.end)
                if key not in by_span:
                    citation = self._citation(len(citations) + 1, m)
                    if citation is not None:
                        citations.append(citation)
                        by_span[key] = citation.n
                        by_passage.setdefault(m.number, citation.n)
                else:
                    citation = citations[by_span[key] - 1]
            if citation is not None and m is not None:
                rendered.append(f"\0“{citation.quote}” [{citation.n}]{m.trailing}\0")
                quoted.append((f"“{citation.quote}”", citation.n, m.trailing))
            elif _WORD.search(part.content):
                unverified.append(part.content.strip())
                rendered.append(UNVERIFIED_MARK)
            else:
                rendered.append(f'"{part.content}"{part.tail}')

        def refs(match: re.Match[str]) -> list[int]:
            numbers: list[int] = []
            for n in _numbers(match.group(0)):
                if not 1 <= n <= count:
                    bad.add(n)
                elif n in by_passage and by_passage[n] not in numbers:
                    numbers.append(by_passage[n])
            return numbers

        def marker(match: re.Match[str]) -> str:
            numbers = refs(match)
            return match.group("lead") + "".join(f"[{n}]" for n in numbers) if numbers else ""

        # Quotes are fenced with NUL so that marker clean-up never touches quoted text.
        pieces = "".join(rendered).split("\0")
        text = "".join(p if i % 2 else _MARKER_GROUP.sub(marker, p) for i, p in enumerate(pieces))
        segments = _Segments()
        for i, piece in enumerate(pieces):
            if i % 2:
                quote, n, trailing = quoted[i // 2]
                segments.add(quote, [n])
                segments.add(trailing)
                continue
            pos = 0
            for match in _MARKER_GROUP.finditer(piece):
                segments.add(piece[pos : match.start()], refs(match))
                pos = match.end()
            segments.add(piece[pos:])
        return Checked(text.strip(), citations, unverified, sorted(bad), segments.done())


class _Segments:
    """Generated prose cut after each group of [n] markers: the text, then what it cites.

    The markers themselves are left out of the text (a face shows ``refs`` its own way).
    """

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.text = ""

    def add(self, text: str, refs: Sequence[int] = ()) -> None:
        self.text += text
        if not refs:
            return
        if not self.text.strip() and self.segments:  # "[1][2]": one more ref of the last
            self.segments[-1].refs.extend(n for n in refs if n not in self.segments[-1].refs)
        else:
            self.segments.append(Segment(text=self.text, refs=list(refs)))
        self.text = ""

    def done(self) -> list[Segment]:
        if self.text.strip():
            self.segments.append(Segment(text=self.text))
        if self.segments:  # as the answer text, stripped at both ends
            first, last = self.segments[0], self.segments[-1]
            first.text = first.text.lstrip()
            last.text = last.text.rstrip()
        return [s for s in self.segments if s.text or s.refs]
