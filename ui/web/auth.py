"""Who may open the UI: credentials from ``RAG_UI_AUTH``, the rule that a public address
needs them, and a login check that slows down guessing.

Failed logins are counted per user name and per client address (Gradio calls the
``auth=`` function with only the name and password, so ``client_address_middleware``
notes the address of each login request). After a few free failures each further
failure locks that name (or address) out for twice as long as the last time (1 s, 2 s,
4 s … up to 5 minutes); a locked-out attempt is refused without looking at the password,
so guessing is limited to a few tries per lockout. A locked address does not lock out a
user who has no failures of their own: many users behind one proxy share an address, and
one person guessing made-up names must not keep everyone else out.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.settings import Settings

logger = logging.getLogger(__name__)

CLIENT: ContextVar[str | None] = ContextVar("rag_login_client", default=None)
_ADDRESS = "\0addr:"  # failures of a client address are kept under this prefix

Scope = MutableMapping[str, Any]
Asgi = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any]


class ClientAddressMiddleware:
    """ASGI middleware: the client's address of a request, for the login check (Gradio
    calls ``auth=`` inside the request, in the same context)."""

    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        client = scope.get("client") if scope.get("type") == "http" else None
        token = CLIENT.set(str(client[0]) if client else None)
        try:
            await self.app(scope, receive, send)
        finally:
            CLIENT.reset(token)


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
    """Gradio's ``auth=`` callable: checks the pairs; failed logins lock out the name and
    the client address they came from.

    ``free`` failures per name (``free_address`` per address) cost nothing; each one
    after that locks out for ``base * 2**k`` seconds (at most ``longest``). A success
    clears the name's count; ``forget_after`` seconds without a failure clear a count too.
    ``client`` gives the address of the login being checked (default: what
    ``ClientAddressMiddleware`` noted).
    """

    def __init__(
        self,
        pairs: Sequence[tuple[str, str]],
        free: int = 3,
        free_address: int = 20,
        base: float = 1.0,
        longest: float = 300.0,
        forget_after: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        remembered: int = 10_000,
        client: Callable[[], str | None] = CLIENT.get,
    ) -> None:
        self._users = dict(pairs)
        self._free, self._free_address = free, free_address
        self._base, self._longest, self._forget_after = base, longest, forget_after
        self._clock = clock
        self._client = client
        self._remembered = remembered
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def _wait(self, key: str) -> float:
        record = self._failures.get(key)
        return max(0.0, record.locked_until - self._clock()) if record else 0.0

    def locked_for(self, username: str, address: str | None = None) -> float:
        """Seconds until ``username`` (from ``address``) may try again (0: now)."""
        waits = [self._wait(username)]
        if address is not None:
            waits.append(self._wait(_ADDRESS + address))
        return max(waits)

    def _has_failures(self, key: str) -> bool:
        record = self._failures.get(key)
        return record is not None and self._clock() - record.last <= self._forget_after

    def _fail(self, key: str, free: int) -> None:
        now = self._clock()
        record = self._failures.pop(key, None)
        if record is None or now - record.last > self._forget_after:
            record = _Failures()  # a quiet spell starts the count again
        self._failures[key] = record  # most recent last; the oldest are forgotten
        record.count += 1
        record.last = now
        over = record.count - free
        if over > 0:
            lockout = min(self._base * 2 ** (over - 1), self._longest)
            record.locked_until = now + lockout
        while len(self._failures) > self._remembered:
            self._failures.popitem(last=False)

    def __call__(self, username: str, password: str) -> bool:
        name = username[:256]
        address = self._client()
        wait = self._wait(name)
        if wait > 0:
            logger.warning("login for %r refused: locked out for %.0f s more", name, wait)
            return False
        expected = self._users.get(name)
        ok = expected is not None and hmac.compare_digest(password.encode(), expected.encode())
        address_locked = address is not None and self._wait(_ADDRESS + address) > 0
        if ok and not (address_locked and self._has_failures(name)):
            self._failures.pop(name, None)
            return True
        if address_locked:
            logger.warning("login for %r refused: %s is locked out", name, address)
        else:
            logger.warning("failed login for %r from %s", name, address or "an unknown address")
        if not ok:
            self._fail(name, self._free)
            if address is not None and not address_locked:
                self._fail(_ADDRESS + address, self._free_address)
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
