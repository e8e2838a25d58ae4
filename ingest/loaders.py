"""Read one statement file (txt, markdown, HTML, PDF or .docx) into text plus what it declares.

Every way a file can be unusable becomes an :class:`~rag.errors.IngestError` whose message is one
line saying why the file is skipped. Metadata is only ever what the file itself states.
"""

from __future__ import annotations

import codecs
import logging
import re
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag

from ingest.document import RawDocument, file_digest
from ingest.front_matter import split_front_matter
from ingest.metadata import collapse
from ingest.pdf import PDF_MAX_CHARS, load_pdf
from ingest.word import load_docx
from rag.errors import IngestError
from rag.models import StatementMeta

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"})

_MB = 1024 * 1024
_ALLOWED_CONTROLS = frozenset(b"\t\n\r\f")
_CONTROL_BYTES = (frozenset(range(32)) - _ALLOWED_CONTROLS) | {0x7F}
_HTML_DROP = frozenset({
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside",
    "form", "button", "iframe", "svg", "head", "title",
})  # fmt: skip
_HTML_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo"})
_HTML_BLOCKS = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "div",
    "section", "article", "main", "body", "ul", "ol", "dl", "dt", "dd", "table", "tr",
    "figure", "figcaption", "hr",
})  # fmt: skip
_ISO_PREFIX = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?(?!\d)")


def load_document(path: Path, max_bytes: int = 50 * _MB) -> RawDocument:
    """Read one statement file.

    txt/md keep the file's newline structure (front matter removed); HTML, PDF and .docx come
    back as paragraphs joined by a blank line, each on one line.

    Raises:
        IngestError: the file is unsupported, too large, unreadable, empty, binary, undecodable,
            has invalid front matter, or holds no usable text (the message says which).
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise IngestError(f"unsupported file type {suffix or '(none)'!r} (supported: {supported})")
    data = _read_bytes(path, max_bytes)
    # the bytes' digest: how ingest knows a copy or a move of content it already holds
    return replace(_parse(path, suffix, data, max_bytes), digest=file_digest(data))


def _parse(path: Path, suffix: str, data: bytes, max_bytes: int) -> RawDocument:
    if not data.strip():
        raise IngestError("empty file")
    if suffix == ".pdf":
        max_chars = min(max_bytes, PDF_MAX_CHARS)  # 8 KB of PDF can expand to megabytes
        text, meta = load_pdf(data, max_chars=max_chars, where=str(path))
        return RawDocument(text=text, meta=meta, markup="plain")
    if suffix == ".docx":
        text, meta = load_docx(data, max_chars=min(max_bytes, PDF_MAX_CHARS), where=str(path))
        return RawDocument(text=text, meta=meta, markup="plain")
    text = _decode(data, path)
    if not text.strip():
        raise IngestError("empty file")
    if suffix in {".html", ".htm"}:
        return _load_html(text)
    try:
        meta, body = split_front_matter(text, strict=suffix != ".txt")
    except ValueError as exc:
        raise IngestError(f"invalid front matter: {exc}") from exc
    if not body.strip():
        raise IngestError("empty file (front matter only)")
    return RawDocument(text=body, meta=meta, markup="markdown")


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IngestError("is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise IngestError("not a regular file")
        if info.st_size > max_bytes:
            raise IngestError(
                f"file is {_human_size(info.st_size)}, over the {_human_size(max_bytes)} limit"
            )
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from exc


def _human_size(n: int) -> str:
    for unit, size in (("MB", _MB), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def _decode(data: bytes, path: Path) -> str:
    """Bytes to text: UTF-8 (BOM dropped), else cp1252, else latin-1; newlines become ``\\n``."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError("cannot decode text: invalid UTF-16") from exc
        logger.info("%s: decoded as utf-16 (byte order mark)", path)
    else:
        data = data.removeprefix(codecs.BOM_UTF8)
        head = data[:8192]
        if sum(b in _CONTROL_BYTES for b in head) > len(head) / 10 or b"\0" in data:
            raise IngestError("binary file, not text")  # a NUL anywhere, not just at the head
        text = _decode_8bit(data, path)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_8bit(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # cp1252 and latin-1 accept (almost) any bytes, so only trust them on text-like content.
    if not _CONTROL_BYTES.isdisjoint(data):
        raise IngestError("cannot decode text: not UTF-8 and has control characters")
    try:
        text, encoding = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # cp1252 leaves a few bytes (0x81, 0x8d, ...) undefined
        text, encoding = data.decode("latin-1"), "latin-1"
    logger.info("%s: not valid UTF-8, decoded as %s", path, encoding)
    return text


def _load_html(text: str) -> RawDocument:
    soup = BeautifulSoup(text, "html.parser")
    meta = _html_meta(soup)  # before dropping <head>, <header> and friends
    for tag in soup.find_all(_is_page_chrome):
        if not tag.decomposed:  # already gone with a dropped ancestor
            tag.decompose()
    articles = _outermost(soup, "article")  # an inner one never has more text
    root: Tag
    if articles:
        root = max(articles, key=lambda tag: len(tag.get_text(strip=True)))
    else:
        root = soup.find("main") or soup.body or soup
    paragraphs = _html_paragraphs(root)
    if not paragraphs:
        raise IngestError("HTML has no main text")
    return RawDocument(text="\n\n".join(paragraphs), meta=meta, markup="plain")


def _outermost(root: Tag, name: str) -> list[Tag]:
    """``name`` tags not inside another one: one pass, so 8,000 nested ``<article>`` take
    milliseconds (measuring every nested one's text took 10.7 s)."""
    found: list[Tag] = []
    stack = [child for child in reversed(root.contents) if isinstance(child, Tag)]
    while stack:
        tag = stack.pop()
        if tag.name == name:
            found.append(tag)
        else:
            stack.extend(child for child in reversed(tag.contents) if isinstance(child, Tag))
    return found


def _is_page_chrome(tag: Tag) -> bool:
    return tag.name in _HTML_DROP or tag.get("role") in _HTML_DROP_ROLES


def _html_paragraphs(root: Tag) -> list[str]:
    """Each run of text between block boundaries (or two ``<br>``) is one paragraph.

    Inline pieces are joined without a separator, so ``<em>war</em>s.`` stays ``wars.``.
    """
    paragraphs: list[str] = []
    run: list[str] = []

    def flush() -> None:
        for part in re.split(r"\n\s*\n", "".join(run)):
            if paragraph := collapse(part):
                paragraphs.append(paragraph)
        run.clear()

    stack: list[tuple[Any, bool]] = [(root, True)]
    while stack:
        node, entering = stack.pop()
        if isinstance(node, Tag):
            if not entering or node.name in _HTML_BLOCKS:
                flush()
            if not entering:
                continue
            if node.name == "br":
                run.append("\n")
                continue
            if node.name in _HTML_BLOCKS:
                stack.append((node, False))
            stack.extend((child, True) for child in reversed(node.contents))
        elif type(node) is NavigableString:  # not comments, doctypes or CDATA
            run.append(str(node))
    flush()
    return paragraphs


def _html_meta(soup: BeautifulSoup) -> StatementMeta:
    metas: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = str(tag.get("property") or tag.get("name") or "").strip().lower()
        content = collapse(str(tag.get("content") or ""))
        if key and content:
            metas.setdefault(key, content)

    def first_text(name: str) -> str | None:
        tag = soup.find(name)
        return (collapse(tag.get_text(" ")) or None) if tag else None

    author = metas.get("author") or metas.get("article:author")
    if author and re.match(r"^(?:https?:)?//", author):
        author = None
    dates = [metas.get("article:published_time"), metas.get("date")]
    time_tag = soup.find("time", attrs={"datetime": True})
    if time_tag:
        dates.append(str(time_tag["datetime"]))
    iso_dates = (_ISO_PREFIX.match(d.strip()) for d in dates if d)
    canonical = soup.find("link", rel="canonical", href=True)
    return StatementMeta(
        organization=metas.get("og:site_name"),
        author=author,
        date=next((m.group() for m in iso_dates if m), None),
        title=metas.get("og:title") or first_text("title") or first_text("h1"),
        source=(str(canonical["href"]).strip() if canonical else None) or metas.get("og:url"),
    )
