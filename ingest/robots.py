"""robots.txt, asked before every page and every redirect hop (RFC 9309, read by protego).

One robots.txt per origin per run. Not found (4xx): everything is allowed. A server error
(5xx): nothing is fetched from that origin this run, as the RFC asks ("try again later").
A host that cannot be reached at all fails on the page itself, with that reason.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from protego import Protego

from ingest.fetch import ROBOTS_AGENT, Fetcher, FetchError

logger = logging.getLogger(__name__)

ROBOTS_MAX_BYTES = 512 * 1024  # Google reads the first 500 KiB


class RobotsRules:
    """``check(url)`` raises when the URL's origin's robots.txt disallows it."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self._rules: dict[str, Protego | str] = {}  # origin -> rules, or why nothing is allowed

    def check(self, url: str) -> None:
        """Raises:
        FetchError: disallowed by robots.txt, or robots.txt answered with a server error.
        """
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        if origin not in self._rules:
            self._rules[origin] = self._load(origin)
        rules = self._rules[origin]
        if isinstance(rules, str):
            raise FetchError(rules, hint="try again later")
        if not rules.can_fetch(url, ROBOTS_AGENT):
            raise FetchError(f"robots.txt of {parts.netloc} does not allow fetching {parts.path}")

    def _load(self, origin: str) -> Protego | str:
        try:
            fetched = self.fetcher.get(f"{origin}/robots.txt", max_bytes=ROBOTS_MAX_BYTES)
        except FetchError as exc:
            message = str(exc)
            if message.startswith("HTTP 5"):
                return f"robots.txt of {urlsplit(origin).netloc} answered {message}: not fetched"
            if message.startswith("HTTP 4") or "over the" in message:
                return Protego.parse("")  # no (usable) robots.txt: no rules
            raise  # unreachable, refused address, too slow: the page's own reason
        text = fetched.data.decode(fetched.charset or "utf-8", errors="replace")
        logger.debug("robots.txt of %s: %d bytes", origin, len(fetched.data))
        return Protego.parse(text)
