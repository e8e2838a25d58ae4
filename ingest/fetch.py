"""Fetch one web page, within bounds: the only code here that reaches the network.

Every hop (the URL and each redirect) is checked before it is requested: http or https only,
no user name or password in the URL, and the host's resolved addresses must be public unless
``allow_private`` (SSRF: a URL handed in must not reach this machine's or its network's
services). The connection then goes to the address that was checked, not to a second look-up
of the name (a name that resolves to a public address once and to 127.0.0.1 the next time
gains nothing); https still verifies the certificate for the name. The whole fetch, redirects
included, has one deadline; the body is read in pieces and dropped once over ``max_bytes``
(after decompression); robots.txt is asked before each hop (``ingest.robots``).

Every failure is a :class:`FetchError` whose message is one line saying why.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from ingest.metadata import one_line
from rag.errors import IngestError
from rag.settings import Settings

logger = logging.getLogger(__name__)

USER_AGENT = "StatementsQA/0.1 (statement ingest; respects robots.txt)"
ROBOTS_AGENT = "StatementsQA"
_MB = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ACCEPT = "text/html,application/xhtml+xml,text/plain;q=0.8,application/pdf;q=0.7,*/*;q=0.1"

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class FetchError(IngestError):
    """A web page cannot be fetched (the message says why, on one line)."""


@dataclass(frozen=True)
class FetchLimits:
    """How far one fetch may go."""

    seconds: float = 20.0
    max_bytes: int = 5 * _MB
    max_redirects: int = 5
    allow_private: bool = False
    user_agent: str = USER_AGENT

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchLimits:
        return cls(
            seconds=settings.fetch_timeout,
            max_bytes=int(settings.fetch_max_mb * _MB),
            max_redirects=settings.fetch_max_redirects,
            allow_private=settings.fetch_allow_private,
        )


@dataclass(frozen=True)
class Fetched:
    """A page as the server sent it."""

    url: str  # as asked for
    final_url: str  # after redirects
    content_type: str  # "text/html", without parameters
    charset: str | None
    data: bytes
    seconds: float


def check_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL that may be fetched at all.

    Raises:
        FetchError: not http/https, no host, a user name or password in it, a bad port.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"not a valid URL ({one_line(exc)})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "a URL without http:// or https://"
        raise FetchError(f"only http and https URLs are fetched, not {shown}")
    if not parts.hostname:
        raise FetchError("the URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise FetchError("URLs with a user name or password are not fetched")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (IP literals resolve to themselves)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def public(address: IP) -> bool:
    """An address on the public internet (not loopback, private, link-local, CGNAT,
    multicast, reserved or unspecified); an IPv4-mapped IPv6 address is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def pick_address(
    host: str,
    port: int,
    allow_private: bool,
    resolve: Resolver = system_resolver,
    is_public: Callable[[IP], bool] = public,
) -> IP:
    """The address to connect to, after checking every address ``host`` resolves to.

    Raises:
        FetchError: the name does not resolve, or (unless ``allow_private``) any of its
            addresses is not public.
    """
    try:
        found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host, port)]
    except (OSError, UnicodeError, ValueError) as exc:
        raise FetchError(f"cannot resolve {host}: {one_line(exc)}") from None
    if not found:
        raise FetchError(f"cannot resolve {host}")
    blocked = [a for a in found if not is_public(a)]
    if blocked and not allow_private:
        what = "is" if host == str(blocked[0]) else f"resolves to {blocked[0]},"
        raise FetchError(
            f"{host} {what} a private or local address: not fetched",
            hint="set RAG_FETCH_ALLOW_PRIVATE=true to allow it",
        )
    return found[0]


class Fetcher:
    """Bounded GETs over one HTTP client (no proxies or credentials from the environment)."""

    def __init__(
        self,
        limits: FetchLimits,
        resolve: Resolver = system_resolver,
        verify: object = True,
        is_public: Callable[[IP], bool] = public,
    ) -> None:
        """``resolve``, ``verify`` and ``is_public`` are seams for tests (a name that
        resolves to a test server, its certificate, which addresses count as public)."""
        self.limits = limits
        self.resolve = resolve
        self.is_public = is_public
        self._client = httpx.Client(
            trust_env=False,  # a proxy would connect somewhere other than the address checked
            follow_redirects=False,  # each hop is checked here
            # no connection is reused: the pool is keyed by the address connected to, so a
            # kept-alive TLS connection made for one name would serve another name's request
            limits=httpx.Limits(max_keepalive_connections=0),
            verify=verify,  # type: ignore[arg-type]  # an ssl.SSLContext in tests
            headers={"User-Agent": limits.user_agent, "Accept": _ACCEPT},
        )

    def close(self) -> None:
        self._client.close()

    def get(
        self,
        url: str,
        allowed: Callable[[str], None] | None = None,
        max_bytes: int | None = None,
        deadline: float | None = None,
    ) -> Fetched:
        """Fetch ``url``, following up to ``max_redirects`` redirects, each hop checked
        (and passed to ``allowed``, which raises to refuse it: robots.txt).

        Raises:
            FetchError: one line: refused, unreachable, an HTTP error, too slow, too large.
        """
        started = time.monotonic()
        deadline = deadline if deadline is not None else started + self.limits.seconds
        limit = max_bytes if max_bytes is not None else self.limits.max_bytes
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            if allowed is not None:
                allowed(current)
            response = self._send(current, deadline)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = urljoin(current, response.headers["location"].strip())
                    continue
                if response.status_code >= 400:
                    reason = response.reason_phrase or "error"
                    raise FetchError(f"HTTP {response.status_code} {reason}")
                data = self._read(response, limit, deadline)
            finally:
                response.close()
            content_type, charset = _content_type(response.headers.get("content-type", ""))
            return Fetched(url, current, content_type, charset, data, time.monotonic() - started)
        raise FetchError(f"more than {self.limits.max_redirects} redirects")

    def _send(self, url: str, deadline: float) -> httpx.Response:
        scheme, host, port = check_url(url)
        address = pick_address(host, port, self.limits.allow_private, self.resolve, self.is_public)
        parts = urlsplit(url)
        literal = f"[{address}]" if address.version == 6 else str(address)
        pinned = parts._replace(netloc=f"{literal}:{port}").geturl()
        name = f"[{host}]" if ":" in host else host
        default_port = port == (443 if scheme == "https" else 80)
        remaining = _remaining(deadline)
        request = self._client.build_request(
            "GET",
            pinned,
            headers={"Host": name if default_port else f"{name}:{port}"},
            extensions={"sni_hostname": host},  # the certificate is checked for the name
            timeout=httpx.Timeout(remaining, connect=min(remaining, 10.0)),
        )
        try:
            return self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise FetchError(f"no answer from {host} within the time limit") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch from {host}: {_reason(exc)}") from None

    def _read(self, response: httpx.Response, limit: int, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"the page is {_size(int(declared))}, over the {_size(limit)} limit")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():  # decompressed: the limit is on the real size
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"the page is over the {_size(limit)} limit")
                chunks.append(chunk)
                _remaining(deadline)
        except httpx.TimeoutException:
            raise FetchError("the page did not arrive within the time limit") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"the page broke off: {_reason(exc)}") from None
        return b"".join(chunks)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("the page did not arrive within the time limit")
    return left


def _content_type(header: str) -> tuple[str, str | None]:
    kind, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return kind.strip().lower(), charset


def _reason(exc: BaseException) -> str:
    text = one_line(exc)
    cause = exc.__cause__ or exc.__context__
    while cause is not None and not text:
        text, cause = one_line(cause), cause.__cause__
    return text[:200] or type(exc).__name__


def _size(n: int) -> str:
    return f"{n / _MB:.1f}".removesuffix(".0") + " MB" if n >= _MB else f"{n // 1024} KB"
