"""``rag ui``: serve the chat app."""

from __future__ import annotations

from typing import Annotated

import typer

from ui.cli.app import app, edge, settings_or_fail


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Allow a non-loopback host without a password.")
    ] = False,
    ingest_bundled: Annotated[
        bool, typer.Option("--ingest/--no-ingest", help="Ingest the bundled statements if empty.")
    ] = True,
    mcp: Annotated[
        bool | None,
        typer.Option(
            "--mcp/--no-mcp",
            help="Also serve the MCP tools at /mcp on the same port (default: RAG_MCP).",
        ),
    ] = None,
) -> None:
    """Start the chat UI (Gradio) on http://HOST:PORT."""
    from ui.web.app import launch

    settings = settings_or_fail()
    with_mcp = settings.mcp if mcp is None else mcp
    with edge():
        launch(
            settings,
            host=host,
            port=port,
            no_auth=no_auth,
            ingest_if_empty=ingest_bundled,
            mcp=mcp,
            on_ready=lambda url: typer.echo(
                f"Statements Q&A is running on {url} (Ctrl+C stops)"
                + (f"; MCP tools at {url.rstrip('/')}/mcp" if with_mcp else "")
            ),
            say=typer.echo,
        )
