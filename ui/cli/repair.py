"""``rag repair``: check the embedded store, and rebuild it when something is damaged."""

from __future__ import annotations

from typing import Annotated

import typer

from ui.cli.app import EXIT_ERROR, app, edge, settings_or_fail


@app.command()
def repair(
    check: Annotated[
        bool, typer.Option("--check", help="Only say what is damaged (exit 1 if anything).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be rebuilt; change nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even when nothing is found damaged.")
    ] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a running ingest.")] = 0.0,
) -> None:
    """Rebuild the store from its stored texts and metadata, keeping statement ids (run it
    with the app stopped). The old store is kept beside it."""
    from ingest.pipeline import ingest_lock
    from ingest.repair import check_store, repair_store
    from rag.encoders.embeddings import SentenceTransformerEmbedder

    settings = settings_or_fail()
    with edge(), ingest_lock(settings, wait):
        if check:
            findings, statements = check_store(settings)
            for finding in findings:
                typer.echo(f"damaged: {finding.what}")
            if findings:
                typer.echo("run `rag repair` to rebuild the store", err=True)
                raise typer.Exit(EXIT_ERROR)
            typer.echo(
                f"the store at {settings.chroma_path} is sound ({len(statements)} statements)"
            )
            return
        embedder = SentenceTransformerEmbedder(
            settings.embedding_model, settings.embedding_device, settings.embedding_batch_size
        )
        report = repair_store(settings, embedder, dry_run=dry_run, force=force)
    for finding in report.findings:
        typer.echo(f"damaged: {finding.what}")
    if not report.rebuilt and not report.lost:
        typer.echo(f"the store at {settings.chroma_path} is sound: nothing to repair")
        return
    for sid in report.from_files:
        typer.echo(f"{sid}: its stored text is gone; read again from its file")
    for sid in report.lost:
        typer.echo(f"{sid}: no stored text and no file: not rebuilt (ingest it again)", err=True)
    verb = "would rebuild" if dry_run else "rebuilt"
    typer.echo(f"{verb} {len(report.rebuilt)} statement(s), {report.passages} passages")
    if report.kept_at is not None:
        typer.echo(f"the damaged store is kept at {report.kept_at} (delete it when satisfied)")
    if dry_run:
        typer.echo("dry run: nothing changed")
