"""Starting the Gradio app: ``serve`` (in the background), ``launch`` (``rag ui``), and
``prepare`` (first-run ingest, warm model and index).

The page itself is built in ``ui/web/layout.py``; its handlers live in ``ui/web/handlers.py``
and ``ui/web/sources.py``. ``build_app``, ``auth_for`` and ``parse_auth`` are re-exported
here, where tests and benchmarks import them.

Safety: ``launch`` binds 127.0.0.1 unless told otherwise; any non-loopback address needs
``RAG_UI_AUTH`` (``user:password`` or a file of such lines) unless ``no_auth``; logins
are throttled (``ui/web/auth.py``); no share link, and Gradio's hint to make one is not
printed; uploads over ``settings.max_upload_mb`` or of a type ingest does not read are
skipped with a line in the report (the server refuses files over ``UPLOAD_CEILING`` times
that size outright).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from ingest.discover import discover
from ingest.pipeline import BUNDLED_CORPUS, Ingestor
from rag.errors import RagError
from rag.service import Services, build_services
from rag.settings import Settings
from ui.web.auth import ClientAddressMiddleware, LoginThrottle, auth_for, parse_auth
from ui.web.layout import STATIC, build_app

__all__ = ["auth_for", "build_app", "launch", "parse_auth", "prepare", "serve"]

logger = logging.getLogger(__name__)

UPLOAD_CEILING = 4  # times RAG_MAX_UPLOAD_MB: larger uploads are refused by the server


def serve(
    demo: gr.Blocks,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    no_auth: bool = False,
    quiet: bool = True,
    mcp: Services | None = None,
) -> str:
    """Queue and start ``demo`` in the background; returns its local URL.

    ``mcp``: also serve the MCP tools over these services at ``/mcp`` (same login).

    ``quiet`` (the default) keeps Gradio from printing its banner, whose "set
    share=True" hint contradicts this app's rule of never making a public link.
    """
    pairs = auth_for(settings, host, no_auth)
    throttle = LoginThrottle(pairs) if pairs else None
    # the login check counts failures per client address too
    app_kwargs: dict[str, Any] = {"middleware": [Middleware(ClientAddressMiddleware)]}
    if mcp is not None:
        from ui.mcp_server.http import mcp_lifespan
        from ui.mcp_server.tools import build_mcp

        app_kwargs["lifespan"] = mcp_lifespan(build_mcp(mcp), throttle, host)
    demo.queue(default_concurrency_limit=settings.ui_concurrency)
    try:
        _, url, _ = demo.launch(
            app_kwargs=app_kwargs,
            server_name=host,
            server_port=port,
            share=False,
            auth=throttle,
            # a ceiling against filling the disk; a file over RAG_MAX_UPLOAD_MB but under
            # it is reported as skipped in the upload's summary instead of failing it all
            max_file_size=int(UPLOAD_CEILING * settings.max_upload_mb * 1024 * 1024),
            prevent_thread_lock=True,
            quiet=quiet,
            show_error=False,
            ssr_mode=False,
            footer_links=["api"],
            theme=theme(),
            css_paths=[STATIC / "app.css"],
        )
    except OSError as exc:  # port taken, address not available
        raise RagError(
            f"Cannot listen on {host}:{port}: {str(exc).splitlines()[0]}",
            hint="choose another --port",
        ) from None
    return url


def theme() -> gr.themes.Base:
    """Gradio's Soft theme with every text at least 4.5:1 against its background (WCAG AA,
    checked by axe-core in tests/ui/test_browser.py): the Soft theme's light grey and
    light indigo texts and its indigo-500 buttons fall short."""
    return gr.themes.Soft(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    ).set(
        body_text_color_subdued="*neutral_600",
        block_info_text_color="*neutral_600",
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        color_accent="*primary_700",
        color_accent_soft="*primary_100",
        link_text_color="*primary_700",
        link_text_color_visited="*primary_700",
        button_primary_background_fill="*primary_600",
        checkbox_label_background_fill_selected="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        button_cancel_text_color="#b91c1c",
        button_cancel_text_color_hover="#991b1b",
    )


def prepare(
    services: Services, ingest_if_empty: bool = True, say: Callable[[str], None] | None = None
) -> None:
    """Ingest the bundled statements into an empty store; load the model and the index.
    ``say`` (the CLI's echo) is told what takes time on a first run."""
    if ingest_if_empty and not services.store.statements():
        files, _ = discover([BUNDLED_CORPUS])
        logger.info("The store is empty: ingesting the bundled statements first")
        if say is not None:
            say(f"Loading the {len(files)} bundled statements…")
        report = Ingestor(services.settings, services.store, services.embedder).run()
        done = ", ".join(f"{v} {k}" for k, v in report.summary().items() if v)
        logger.info("Ingested %s in %.1fs", done, report.seconds)
        if say is not None:
            say(f"Loaded them in {report.seconds:.0f} s.")
        services.catalog.invalidate()
    started = time.perf_counter()
    services.embedder.embed_query("warm up")
    services.catalog.snapshot()
    logger.info("model and keyword index ready in %.1fs", time.perf_counter() - started)


def launch(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    no_auth: bool = False,
    ingest_if_empty: bool = True,
    on_ready: Callable[[str], None] | None = None,
    mcp: bool | None = None,
    say: Callable[[str], None] | None = None,
) -> None:
    """Start the UI and block until interrupted (``rag ui``); ``on_ready(url)`` is called
    once it listens (the CLI prints the address), ``say`` with what a first run waits for.
    ``mcp``: serve the MCP tools at ``/mcp`` (default: ``settings.mcp``)."""
    auth_for(settings, host, no_auth)  # fail before the slow parts
    services = build_services(settings)
    prepare(services, ingest_if_empty, say)
    demo = build_app(services, settings)
    with_mcp = settings.mcp if mcp is None else mcp
    url = serve(demo, settings, host, port, no_auth, mcp=services if with_mcp else None)
    logger.info("Statements Q&A is running on %s", url)
    if on_ready is not None:
        on_ready(url)
    try:
        demo.block_thread()
    finally:
        demo.close()
