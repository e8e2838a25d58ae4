"""Commands over the stored statements: ``ingest``, ``sources``, ``show``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.errors import StatementNotFoundError
from rag.models import StatementMeta
from ui.cli.app import (
    EXIT_SKIPPED,
    UNKNOWN_STATEMENT,
    app,
    edge,
    fail,
    print_json,
    say,
    settings_or_fail,
)


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or folders (.txt .md .html .pdf). Default: the bundled statements."
        ),
    ] = None,
    organization: Annotated[str | None, typer.Option(help="Organization for these files.")] = None,
    author: Annotated[str | None, typer.Option(help="Author for these files.")] = None,
    date: Annotated[str | None, typer.Option(help="Date, YYYY[-MM[-DD]].")] = None,
    title: Annotated[str | None, typer.Option(help="Title for these files.")] = None,
    source: Annotated[str | None, typer.Option(help="Source (URL or citation).")] = None,
    prune: Annotated[bool, typer.Option(help="Remove statements whose files are gone.")] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for another ingest.")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load statements into the store (incremental: unchanged files are not rewritten)."""
    from rich.progress import Progress

    from ingest.metadata import check_date
    from ingest.pipeline import Ingestor, ingest_lock
    from rag.service import build_services

    settings = settings_or_fail()
    with edge():  # an invalid --date is refused before anything runs
        date = check_date(date)
    overrides = StatementMeta(
        organization=organization, author=author, date=date, title=title, source=source
    )
    # The lock comes before the store is opened: two new processes creating the same
    # Chroma database at once would collide inside SQLite instead of on the lock.
    with edge(), ingest_lock(settings, wait):
        services = build_services(settings)
        ingestor = Ingestor(settings, services.store, services.embedder)
        show_bar = sys.stderr.isatty() and not as_json
        with Progress(transient=True, disable=not show_bar) as bar:
            task = bar.add_task("ingesting", total=None)

            def progress(done: int, total: int, path: Path) -> None:
                bar.update(task, completed=done, total=total, description=path.name[:40])

            report = ingestor.run(
                paths or None, overrides, prune=prune, progress=progress, locked=True
            )
    if as_json:
        print_json(
            {
                **report.summary(),
                "seconds": round(report.seconds, 3),
                "passages_written": report.passages_written,
                "files": [vars(o) for o in report.outcomes],
            }
        )
    else:
        for outcome in report.outcomes:
            if outcome.status == "skipped":
                say(f"skipped {outcome.path}: {outcome.reason}", err=True)
            else:
                say(f"{outcome.status:9} {outcome.statement_id} ({outcome.passages} passages)")
        counts = ", ".join(f"{v} {k}" for k, v in report.summary().items())
        say(f"{counts} in {report.seconds:.1f}s")
    if report.skipped:
        raise typer.Exit(EXIT_SKIPPED)


def _statement_json(statement: Any, with_text: bool = False) -> dict[str, Any]:
    data = {
        "statement_id": statement.statement_id,
        "source": statement.source,
        "title": statement.title,
        "speaker": statement.speaker,
        "organization": statement.organization,
        "author": statement.author,
        "date": statement.date,
        "passages": statement.passages,
    }
    if with_text:
        data["text"] = statement.text
    return data


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON list.")] = False,
) -> None:
    """List the speakers and their ingested statements, by date."""
    from rag.stages.sides import speakers_of
    from rag.store.chroma import ChromaStore

    with edge():
        statements = ChromaStore.from_settings(settings_or_fail()).statements()
    if as_json:
        print_json([_statement_json(s) for s in statements])
        return
    if not statements:
        say("No statements yet: run `rag ingest`.")
    sides = speakers_of(sorted(statements, key=lambda s: (s.speaker or "", s.date or "")))
    for side in sorted(sides, key=lambda side: side.speaker.lower()):
        count = len(side.statements)
        party = f" — {side.organization}" if side.author and side.organization else ""
        say(f"{side.speaker}{party} ({count} statement{'s' if count != 1 else ''})")
        for s in side.statements:
            parts = [s.statement_id, s.date or "undated", s.title, f"({s.passages} passages)"]
            say("  " + "  ".join(p for p in parts if p))


@app.command()
def show(
    statement_id: str,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object with the text.")
    ] = False,
) -> None:
    """Print a statement's clean text (the text quote offsets refer to)."""
    from rag.store.chroma import ChromaStore

    with edge():
        try:
            statement = ChromaStore.from_settings(settings_or_fail()).statement(statement_id)
        except StatementNotFoundError:
            # the same words as `rag ask --statement` for an id that is not there
            raise fail(UNKNOWN_STATEMENT.format(statement_id)) from None
    if as_json:
        print_json(_statement_json(statement, with_text=True))
        return
    say(f"{statement.label}" + (f" — {statement.title}" if statement.title else ""))
    say(f"source: {statement.source}\n")
    say(statement.text or "")
