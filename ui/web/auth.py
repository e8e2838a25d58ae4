"""Who may open the UI: credentials from ``RAG_UI_AUTH``, the rule that a public address
needs them, and a login check that slows down guessing.

Gradio calls the ``auth=`` function with only the user name and password (not the
client), so failed logins are counted per user name, and across all names together.
After a few free failures each further failure locks that name out for twice as long
as the last time (1 s, 2 s, 4 s … up to 5 minutes); a locked-out attempt is refused
without looking at the password, so guessing is limited to a few tries per lockout.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError
from rag.settings import Settings

logger = logging.getLogger(__name__)

ANY_USER = "\0any"  # the key counting failures across all user names


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> list[tuple[str, str]]:
    """``user:password``, or a path to a file with one such line per user."""
    if not value:
        return []
    path = Path(value).expanduser()
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else [value]
    except OSError as exc:
        raise RagError(f"Cannot read the UI auth file {path}: {exc.strerror}") from exc
    pairs = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not (sep and user.strip() and password):
            raise RagError(
                "RAG_UI_AUTH must be user:password or a file of such lines",
                hint="e.g. RAG_UI_AUTH=alice:long-secret",
            )
        pairs.append((user.strip(), password))
    return pairs


def auth_for(settings: Settings, host: str, no_auth: bool) -> list[tuple[str, str]] | None:
    """The credentials to require, or a clear error for an unprotected public address."""
    pairs = parse_auth(settings.ui_auth)
    if pairs:
        return pairs
    if _is_loopback(host) or no_auth:
        return None
    raise RagError(
        f"Refusing to listen on {host} without a password",
        hint="set RAG_UI_AUTH=user:password (or a file of such lines), or pass --no-auth",
    )


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    """Gradio's ``auth=`` callable: checks the pairs; failed logins lock the name out.

    ``free`` failures per name (``free_any`` across all names) cost nothing; each one
    after that locks out for ``base * 2**k`` seconds (at most ``longest``). A success
    clears the name's count; ``forget_after`` seconds without a failure clear it too.
    """

    def __init__(
        self,
        pairs: Sequence[tuple[str, str]],
        free: int = 3,
        free_any: int = 20,
        base: float = 1.0,
        longest: float = 300.0,
        forget_after: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        remembered: int = 10_000,
    ) -> None:
        self._users = dict(pairs)
        self._free = {ANY_USER: free_any}
        self._default_free = free
        self._base, self._longest, self._forget_after = base, longest, forget_after
        self._clock = clock
        self._remembered = remembered
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def locked_for(self, username: str) -> float:
        """Seconds until ``username`` may try again (0: now)."""
        now = self._clock()
        waits = [
            self._failures[key].locked_until - now
            for key in (username, ANY_USER)
            if key in self._failures
        ]
        return max([0.0, *waits])

    def _fail(self, key: str) -> None:
        now = self._clock()
        record = self._failures.pop(key, None)
        if record is None or now - record.last > self._forget_after:
            record = _Failures()  # a quiet spell starts the count again
        self._failures[key] = record  # most recent last; the oldest are forgotten
        record.count += 1
        record.last = now
        over = record.count - self._free.get(key, self._default_free)
        if over > 0:
            lockout = min(self._base * 2 ** (over - 1), self._longest)
            record.locked_until = now + lockout
        while len(self._failures) > self._remembered:
            self._failures.popitem(last=False)

    def __call__(self, username: str, password: str) -> bool:
        name = username[:256]
        wait = self.locked_for(name)
        if wait > 0:
            logger.warning("login for %r refused: locked out for %.0f s more", name, wait)
            return False
        expected = self._users.get(name)
        ok = expected is not None and hmac.compare_digest(password.encode(), expected.encode())
        if ok:
            self._failures.pop(name, None)
            return True
        self._fail(name)
        self._fail(ANY_USER)
        logger.warning("failed login for %r", name)
        return False


def admins(settings: Settings) -> frozenset[str] | None:
    """The user names of ``RAG_UI_ADMINS``, or None when it is unset (everyone may)."""
    if settings.ui_admins is None or not settings.ui_admins.strip():
        return None
    return frozenset(n.strip() for n in settings.ui_admins.split(",") if n.strip())


def may_change(settings: Settings, username: str | None) -> bool:
    """Whether this (logged-in) user may upload and delete statements."""
    allowed = admins(settings)
    return allowed is None or (username is not None and username in allowed)
