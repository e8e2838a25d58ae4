"""Word (.docx) statements: paragraphs and headings in document order, and the core
properties (title, author, created date) as metadata. Read by python-docx in the worker of
:mod:`ingest.isolation`, after the zip's declared sizes are checked (a zip bomb is refused
before anything is unpacked; Python's zipfile never unpacks more than a member declares).

Each paragraph (body, tables, content controls; tracked insertions kept, deletions and field
codes left out) is one line of the text, so offsets work as for every other format. Text
boxes and shapes are left out: they hold pull quotes and captions that repeat the body.
"""

from __future__ import annotations

import io
import logging
import zipfile
from typing import Any

from ingest.metadata import collapse
from rag.errors import IngestError
from rag.models import StatementMeta

logger = logging.getLogger(__name__)

DOCX_SECONDS = 30.0
DOCX_MAX_UNPACKED = 200 * 1024 * 1024  # all parts together, as the zip declares them
DOCX_MAX_XML = 50 * 1024 * 1024  # one XML part (python-docx parses it whole)
DOCX_MAX_MEMBERS = 10_000
# Names word processors and libraries write when nobody set an author: not a statement's author.
_PLACEHOLDER_AUTHORS = frozenset({
    "python-docx", "microsoft office user", "windows user", "user", "admin",
    "administrator", "author", "unknown", "owner",
})  # fmt: skip
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# inside a paragraph: what is not its text
_NOT_TEXT = frozenset({
    f"{_W}del", f"{_W}delText", f"{_W}instrText", f"{_W}drawing", f"{_W}pict",
    f"{_W}footnoteReference", f"{_W}endnoteReference", f"{_W}commentReference",
    f"{_W}rPr", f"{_W}pPr", f"{_MC}AlternateContent", f"{_W}object",
})  # fmt: skip
_SPACES = frozenset({f"{_W}tab", f"{_W}br", f"{_W}cr", f"{_W}ptab"})


def load_docx(
    data: bytes, *, max_chars: int, where: str = "Word file"
) -> tuple[str, StatementMeta]:
    """Text (paragraphs joined by a blank line) and declared metadata of a .docx file.

    Raises:
        IngestError: not a .docx, damaged, a zip bomb, over the time budget, or no text.
    """
    from ingest.isolation import call_isolated

    paragraphs, info, stopped = call_isolated("docx", (data, max_chars), DOCX_SECONDS)
    if not paragraphs:
        raise IngestError("Word file has no text")
    if stopped:
        logger.warning("%s: %s; the text before it is kept", where, stopped)
    meta = StatementMeta(title=info.get("title"), author=info.get("author"), date=info.get("date"))
    return "\n\n".join(paragraphs), meta


def check_zip(data: bytes) -> None:
    """Refuse what is not a zip, or declares more than the limits once unpacked.

    Raises:
        IngestError: which limit, or why it is not a .docx.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise IngestError(f"not a Word file (damaged or not a .docx: {exc})") from None
    if len(members) > DOCX_MAX_MEMBERS:
        raise IngestError(f"Word file has {len(members):,} parts, over {DOCX_MAX_MEMBERS:,}")
    total = sum(m.file_size for m in members)
    if total > DOCX_MAX_UNPACKED:
        raise IngestError(
            f"Word file unpacks to {total / 2**20:,.0f} MB, over the "
            f"{DOCX_MAX_UNPACKED // 2**20} MB limit (a zip bomb?)"
        )
    for member in members:
        if member.filename.endswith((".xml", ".rels")) and member.file_size > DOCX_MAX_XML:
            raise IngestError(
                f"Word file part {member.filename} unpacks to "
                f"{member.file_size / 2**20:,.0f} MB, over {DOCX_MAX_XML // 2**20} MB"
            )
    if not any(m.filename == "[Content_Types].xml" for m in members):
        raise IngestError("not a Word file (no [Content_Types].xml: not a .docx)")


def parse_docx(data: bytes, max_chars: int) -> tuple[list[str], dict[str, str], str | None]:
    """Paragraphs, declared title/author/date, and why it stopped early (or ``None``).

    Runs in the worker (``call_isolated("docx", ...)``)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError) as exc:
        raise IngestError(f"not a Word document ({collapse(str(exc)) or 'no main part'})") from None
    except ValueError as exc:  # e.g. a .dotx or .docm content type
        raise IngestError(f"not a Word document ({collapse(str(exc))[:120]})") from None
    except Exception as exc:  # a damaged package: python-docx fails in many ways
        logger.debug("python-docx failed", exc_info=True)
        raise IngestError(f"unreadable Word file (damaged: {type(exc).__name__})") from None
    paragraphs: list[str] = []
    styles: list[str] = []
    chars, stopped = 0, None
    for element in document.element.body.iter(f"{_W}p"):
        if _in_shape(element):
            continue
        text = collapse(_paragraph_text(element))
        if not text:
            continue
        if chars + len(text) > max_chars:
            stopped = f"stopped at {max_chars:,} characters of text"
            break
        chars += len(text) + 2
        paragraphs.append(text)
        styles.append(_style_id(element))
    return paragraphs, _core_info(document, paragraphs, styles), stopped


def _in_shape(element: Any) -> bool:
    """A paragraph of a text box or shape (``w:txbxContent``), or a fallback copy of one."""
    parent = element.getparent()
    while parent is not None:
        if parent.tag in (f"{_W}txbxContent", f"{_MC}AlternateContent"):
            return True
        parent = parent.getparent()
    return False


def _paragraph_text(paragraph: Any) -> str:
    """The paragraph's text in order: its runs (also inside links, fields, content controls
    and tracked insertions); not deleted text, field codes or shapes."""
    parts: list[str] = []
    stack = list(reversed(paragraph))
    while stack:
        element = stack.pop()
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _NOT_TEXT or tag == f"{_W}p":
            continue
        if tag == f"{_W}t":
            parts.append(element.text or "")
        elif tag in _SPACES:
            parts.append(" ")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
        elif tag == f"{_W}sym":
            continue  # a glyph of a symbol font: no reliable character
        else:
            stack.extend(reversed(element))
    return "".join(parts)


def _style_id(paragraph: Any) -> str:
    style = paragraph.find(f"{_W}pPr/{_W}pStyle")
    return str(style.get(f"{_W}val") or "") if style is not None else ""


def _core_info(document: Any, paragraphs: list[str], styles: list[str]) -> dict[str, str]:
    """Title, author and created date, as the file declares them (placeholders dropped); a
    paragraph styled Title, or a first paragraph styled Heading 1, when no title is set."""
    info: dict[str, str] = {}
    try:
        core = document.core_properties
        title, author, created = core.title, core.author, core.created
    except Exception:  # a damaged core.xml is no reason to lose the text
        title = author = created = None
    if title and collapse(title):
        info["title"] = collapse(title)[:500]
    elif paragraphs:
        styled = [p for p, s in zip(paragraphs, styles) if s.lower() == "title"]
        if styled:
            info["title"] = styled[0][:500]
        elif styles[0].lower() in ("heading1", "heading 1"):
            info["title"] = paragraphs[0][:500]
    if author and collapse(author) and collapse(author).lower() not in _PLACEHOLDER_AUTHORS:
        info["author"] = collapse(author)[:500]
    if created is not None and 1900 <= created.year <= 2200:
        info["date"] = created.date().isoformat()
    return info
