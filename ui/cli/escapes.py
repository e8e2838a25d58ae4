"""Text made safe for a terminal: every character a terminal would act on (escape
sequences, bidi overrides) shown as an escape, never run. Every line the CLI prints passes
here; imported by ``rag ask`` without the renderers."""

from __future__ import annotations

import re

# What a terminal would act on instead of showing: C0 controls but tab and newline
# (escape sequences set the window title or clear the screen), DEL, C1 controls (0x9b
# starts a sequence too), line/paragraph separators and bidi overrides and isolates
# (they reorder what follows on the line).
_TERMINAL_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# In JSON, C0 controls are already escaped by json.dumps; these are not.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal would act on shown as an escape
    (``\\x1b``, ``\\u202e``); newlines and tabs stay."""
    return _TERMINAL_UNSAFE.sub(_visible, text)


def json_safe(line: str) -> str:
    """A line of JSON with the controls ``json.dumps`` leaves raw written as ``\\uXXXX``
    escapes: the same JSON value, nothing a terminal acts on."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
