"""Serving the MCP tools on the UI's port, at ``/mcp`` (streamable HTTP).

The Gradio app's FastAPI gets a lifespan (``launch(app_kwargs={"lifespan": ...})``) that
adds the ``/mcp`` route and runs the SDK's session manager for as long as the app runs.
Stateless, JSON responses: every call stands alone (the tools keep no session), so any
MCP client and any proxy can use it.

With ``RAG_UI_AUTH`` the same users and passwords guard it, sent as HTTP Basic
(``Authorization: Basic base64(user:password)``), through the same throttled check as
the login page. On a loopback address the SDK also refuses requests whose Host is not a
loopback name (DNS rebinding).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import MCPServer
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
Check = Callable[[str, str], bool]


class BasicAuth:
    """ASGI wrapper: 401 unless the request carries credentials that ``check`` accepts."""

    def __init__(self, app: ASGIApp, check: Check | None) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.check is not None and not self._allowed(scope):
            body = b'{"error": "login required: send the UI\'s user and password (Basic)"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"www-authenticate", b'Basic realm="Statements Q&A"'),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, value = header.partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            user, sep, password = (
                base64.b64decode(value.strip(), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            return False
        assert self.check is not None
        return bool(sep) and self.check(user, password)


def mcp_lifespan(server: MCPServer, check: Check | None, host: str) -> Callable[[Any], Any]:
    """A lifespan for the Gradio app that serves ``server`` at ``MCP_PATH``."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        http_app = server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            host=host,  # a loopback host turns on the SDK's DNS-rebinding check
        )
        # first: before Gradio's own routes, none of which is /mcp anyway
        app.router.routes.insert(0, Route(MCP_PATH, endpoint=BasicAuth(http_app, check)))
        async with server.session_manager.run():
            logger.info("MCP tools served at %s", MCP_PATH)
            yield

    return lifespan
