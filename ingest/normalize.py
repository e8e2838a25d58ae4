"""Turn a loaded document into the one clean text that quotes may come from.

Markup is removed, typography (curly quotes, dashes) is kept, paragraphs are joined by
a blank line and numbered from 1. Trailing scraping artifacts ("full story:") go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.document import RawDocument

_BLANK_LINE = re.compile(r"\n[ \t\f\v]*\n")
_WS = re.compile(r"\s+")
# Invisible control characters (NUL, escape, C1) never reach a quote, whatever the format
# (a PDF or HTML can carry them too). The whitespace ones are collapsed by _WS instead.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
# Lines scrapers leave at the end of an article; never part of the statement.
_ARTIFACT = re.compile(
    r"^\s*(full story|read more|continue reading|read the full story|share this( article)?|"
    r"print this( page)?|click here.*|source|advertisement)\s*:?\s*$",
    re.IGNORECASE,
)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_QUOTE = re.compile(r"^\s{0,3}>\s?")
_MD_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(?=\S)")
_MD_HR = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
# Inline patterns must stay linear in the line length (a hostile file of 40 KB of "[" froze
# the app for 25 s): no repetition may scan past the next opener of its own kind, and
# possessive quantifiers (``*+``, ``++``) never backtrack into what they consumed.
# A link target may hold one level of parentheses (``wiki/Foo_(bar)``).
_MD_TARGET = r"\((?:[^()]|\([^()]*+\))*+\)"
_MD_IMAGE = re.compile(r"!\[([^\[\]]*+)\]" + _MD_TARGET)
_MD_LINK = re.compile(r"\[([^\[\]]++)\]" + _MD_TARGET)
_MD_CODE = re.compile(r"`([^`]++)`")
_MD_STRONG = re.compile(
    r"\*\*(?=\S)((?:[^*]|\*(?!\*))+?)(?<=\S)\*\*|__(?=\S)((?:[^_]|_(?!_))+?)(?<=\S)__"
)
# Inside emphasis, a marker between two letters or digits (``snake_case``) can neither open
# nor close, so it is passed over; any other marker ends the scan.
_INNER = r"(?<=[^\W_]){0}(?=[^\W_])"
_MD_EM_STAR = re.compile(
    r"(?<![\w*])\*(?=[^\s*])((?:[^*]|" + _INNER.format(r"\*") + r")++)(?<=\S)\*(?![\w*])"
)
_MD_EM_UNDERSCORE = re.compile(
    r"(?<![\w_])_(?=[^\s_])((?:[^_]|" + _INNER.format("_") + r")++)(?<=\S)_(?![\w_])"
)
_ONLY_MARKUP = re.compile(r"^[\s*_#>`~=-]*$")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]*_]*\s*$")
_UNWRAPPED_LINE = 120  # hard-wrapped text keeps its lines shorter than this
# A paragraph of fewer words is shorter than a sentence ("(APPLAUSE)", "Yes.", a heading);
# this many of them in a row are one paragraph. Real statements have a few in a row (the
# debates at most 4); a file of one-letter lines had 100,000, each of which became a
# passage: 230 s to embed 200 kB of nothing (issue 22, F4).
TINY_WORDS = 3
TINY_RUN = 8


@dataclass(frozen=True)
class CleanText:
    text: str
    paragraphs: tuple[tuple[int, int], ...]  # (start, end) of paragraph 1, 2, …


def _strip_markdown_line(line: str) -> str:
    if _MD_HR.match(line):
        return ""
    line = _MD_HEADING.sub("", line)
    line = _MD_QUOTE.sub("", line)
    return _MD_BULLET.sub("", line)


def _strip_markdown_inline(text: str) -> str:
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_CODE.sub(r"\1", text)
    text = _MD_STRONG.sub(lambda m: m.group(1) or m.group(2), text)
    text = _MD_EM_STAR.sub(r"\1", text)
    return _MD_EM_UNDERSCORE.sub(r"\1", text)


def _is_unwrapped(lines: list[str]) -> bool:
    """A block of whole paragraphs, one per line (not a paragraph hard-wrapped over lines):
    long lines, each but the last ending a sentence."""
    return (
        len(lines) > 1
        and max(len(line.strip()) for line in lines) > _UNWRAPPED_LINE
        and all(_SENTENCE_END.search(line) for line in lines[:-1])
    )


def _blocks(text: str) -> list[list[str]]:
    """Paragraphs as lists of lines: blank-line separated if the text uses blank lines,
    otherwise one paragraph per line. A blank-line block that holds one paragraph per
    line (a title, a blank line, then single-newline paragraphs) is split per line."""
    text = text.strip("\n")
    if _BLANK_LINE.search(text):
        blocks: list[list[str]] = []
        for block in _BLANK_LINE.split(text):
            lines = block.split("\n")
            blocks.extend([[line] for line in lines] if _is_unwrapped(lines) else [lines])
        return blocks
    return [[line] for line in text.split("\n")]


def _drop_trailing_artifact_lines(text: str, markdown: bool) -> str:
    """Trailing artifact lines go before paragraphs are built: in a blank-line separated
    text an artifact right under the last paragraph would otherwise be joined into it."""
    lines = text.rstrip().split("\n")
    while lines:
        probe = lines[-1]
        if markdown:
            probe = _strip_markdown_inline(_strip_markdown_line(probe))
        if probe.strip() and not _ARTIFACT.match(probe):
            break
        lines.pop()
    return "\n".join(lines)


def _drop_trailing_artifacts(paragraphs: list[str]) -> list[str]:
    while paragraphs and _ARTIFACT.match(paragraphs[-1]):
        paragraphs.pop()
    return paragraphs


def _merge_tiny_runs(paragraphs: list[str]) -> list[str]:
    """Each run of ``TINY_RUN`` or more paragraphs shorter than a sentence, as one."""
    merged: list[str] = []
    run: list[str] = []
    for paragraph in [*paragraphs, None]:
        if paragraph is not None and len(paragraph.split(maxsplit=TINY_WORDS)) < TINY_WORDS:
            run.append(paragraph)
            continue
        merged.extend([" ".join(run)] if len(run) >= TINY_RUN else run)
        run = []
        if paragraph is not None:
            merged.append(paragraph)
    return merged


def normalize(doc: RawDocument) -> CleanText:
    """Clean text and paragraph spans of a loaded document."""
    markdown = doc.markup == "markdown"
    paragraphs: list[str] = []
    text = _CONTROL.sub("", doc.text.replace("\r\n", "\n").replace("\r", "\n"))
    for lines in _blocks(_drop_trailing_artifact_lines(text, markdown)):
        if markdown:
            lines = [_strip_markdown_line(line) for line in lines]
        joined = " ".join(line.strip() for line in lines if line.strip())
        if markdown:
            if _ONLY_MARKUP.match(joined):
                continue
            joined = _strip_markdown_inline(joined)
        joined = _WS.sub(" ", joined).strip()
        if joined and not _ONLY_MARKUP.match(joined):
            paragraphs.append(joined)
    paragraphs = _merge_tiny_runs(_drop_trailing_artifacts(paragraphs))
    return from_clean_text("\n\n".join(paragraphs))  # each one line, none empty


def from_clean_text(text: str) -> CleanText:
    """The ``CleanText`` a stored statement's text came from (``rag repair`` rebuilds its
    passages from it): paragraphs are what ``normalize`` joined with a blank line, and
    hold no line break themselves."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for paragraph in text.split("\n\n"):
        if paragraph:
            spans.append((cursor, cursor + len(paragraph)))
        cursor += len(paragraph) + 2
    return CleanText(text=text, paragraphs=tuple(spans))
