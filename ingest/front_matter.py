"""YAML front matter of txt/markdown statements: parsed safely, turned into metadata.

Hostile YAML is refused, not expanded: anchors and aliases ("billion laughs": a 393-byte
file became a 24 MB title) and nesting deeper than a few levels raise ``ValueError``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import frontmatter
import yaml

from ingest.metadata import collapse, one_line
from rag.models import StatementMeta

META_KEYS = {
    "organization": ("organization", "org", "organisation"),
    "author": ("author", "authors"),
    "date": ("date",),
    "title": ("title",),
    "source": ("source", "url", "link"),
}
FRONT_MATTER_START = re.compile(r"\A---[ \t]*\n")
_MAX_DEPTH = 8  # front matter is a flat mapping; lists of names nest once


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases (so nothing expands) and deep nesting."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested deeper than {_MAX_DEPTH} levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_timestamp(self, node: Any) -> Any:
        """An impossible unquoted date (``date: 2019-02-30``) stays text: ``merge`` then
        ignores it with a warning, where PyYAML's ``ValueError`` cost the whole file (a
        ``.md`` skipped, a ``.txt`` keeping its front matter as quotable text)."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def split_front_matter(text: str, *, strict: bool) -> tuple[StatementMeta, str]:
    """YAML front matter to metadata, and the body after it.

    ``strict`` (markdown) turns malformed front matter into ``ValueError``. Otherwise (txt)
    the file is kept whole unless its opening ``---`` starts valid front matter naming a
    known key, so that a txt statement that merely opens with a rule never loses text.
    """
    if not FRONT_MATTER_START.match(text):
        return StatementMeta(), text
    try:
        data, body = _parse(text)
    except ValueError:
        if not strict:
            return StatementMeta(), text
        raise
    known = {key for keys in META_KEYS.values() for key in keys}
    if not strict and not known & {str(key).strip().lower() for key in data}:
        return StatementMeta(), text
    return _meta_from_mapping(data), body.lstrip("\n")


def _parse(text: str) -> tuple[dict[Any, Any], str]:
    """Split and parse YAML front matter; ``ValueError`` carries a one-line reason."""
    handler = frontmatter.YAMLHandler()
    try:
        head, body = handler.split(text)
    except ValueError as exc:
        raise ValueError("no closing '---'") from exc
    try:
        data = yaml.load(head, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1})" if mark else ""  # head starts after the first ---
        raise ValueError(f"{exc.problem or exc.context}{where}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(one_line(exc)) from exc
    except RecursionError as exc:  # defence in depth: the loader stops at _MAX_DEPTH
        raise ValueError("nested too deeply") from exc
    if data is None:
        return {}, body
    if not isinstance(data, dict):
        raise ValueError("expected 'key: value' lines")
    return data, body


def _meta_from_mapping(data: dict[Any, Any]) -> StatementMeta:
    lowered = {str(key).strip().lower(): value for key, value in data.items()}
    fields: dict[str, str | None] = {}
    for field, keys in META_KEYS.items():
        values = (_meta_value(lowered.get(key)) for key in keys)
        fields[field] = next((value for value in values if value), None)
    return StatementMeta(**fields)


def _meta_value(value: object, depth: int = 0) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return collapse(str(value)) or None
    if isinstance(value, list) and depth < 2:  # authors: [a, b]
        items = (_meta_value(item, depth + 1) for item in value)
        return ", ".join(item for item in items if item) or None
    return None
