"""Commands over the stored statements: ``ingest``, ``sources``, ``show``, ``remove``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.errors import RagError, StatementNotFoundError
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
        list[str] | None,
        typer.Argument(
            help="Files, folders (.txt .md .html .pdf .docx) or web page URLs (https://…). "
            "Default: the bundled statements."
        ),
    ] = None,
    urls: Annotated[
        Path | None,
        typer.Option(
            "--urls", help="A file with one URL per line ('#' starts a comment; '-': stdin)."
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
    from ingest.urls import read_url_list
    from ingest.web import WebReader, is_url
    from rag.service import build_services

    settings = settings_or_fail()
    with edge():  # an invalid --date or an unreadable --urls file is refused first
        date = check_date(date)
        targets: list[Path | str] = [p if is_url(p) else Path(p) for p in paths or []]
        if urls is not None:
            targets += read_url_list(sys.stdin if str(urls) == "-" else urls)
    overrides = StatementMeta(
        organization=organization, author=author, date=date, title=title, source=source
    )
    # The lock comes before the store is opened: two new processes creating the same
    # Chroma database at once would collide inside SQLite instead of on the lock.
    with edge(), ingest_lock(settings, wait):
        services = build_services(settings)
        web = WebReader(settings, report=lambda line: say(line, err=True))
        ingestor = Ingestor(settings, services.store, services.embedder, web=web)
        show_bar = sys.stderr.isatty() and not as_json
        with Progress(transient=True, disable=not show_bar) as bar:
            task = bar.add_task("ingesting", total=None)

            def progress(done: int, total: int, path: Path) -> None:
                bar.update(task, completed=done, total=total, description=path.name[:40])

            try:
                report = ingestor.run(
                    targets or None, overrides, prune=prune, progress=progress, locked=True
                )
            except RagError:  # a full disk, say: what was committed first, then why
                if not as_json:
                    for outcome in ingestor.last_report.committed:
                        say(f"{outcome.status:9} {outcome.statement_id} (committed)")
                raise
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
                more = f"; {outcome.reason}" if outcome.reason else ""  # a copy: of which
                say(
                    f"{outcome.status:9} {outcome.statement_id} ({outcome.passages} passages{more})"
                )
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


@app.command()
def remove(
    statement_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Ids of the statements to remove (`rag sources` lists them)."),
    ] = None,
    missing: Annotated[
        bool, typer.Option("--missing", help="Also every statement whose file is gone.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Remove without asking.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be removed.")
    ] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a running ingest.")] = 0.0,
) -> None:
    """Remove statements from the store (an upload's copy too), after a confirmation."""
    from ingest.metadata import safe_name
    from ingest.pipeline import ingest_lock
    from ingest.remove import missing_statements, remove_statements
    from rag.store.chroma import ChromaStore

    settings = settings_or_fail()
    if not statement_ids and not missing:
        raise fail("name the statements to remove, or pass --missing")
    with edge():
        store = ChromaStore.from_settings(settings)
        stored = {s.statement_id: s for s in store.statements()}
        unknown = [sid for sid in statement_ids or [] if sid not in stored]
        if unknown:
            raise fail(UNKNOWN_STATEMENT.format(", ".join(safe_name(u) for u in unknown)))
        chosen = {sid: stored[sid] for sid in statement_ids or []}
        if missing:
            chosen.update((s.statement_id, s) for s in missing_statements(store, settings.home))
    if not chosen:
        say("Nothing to remove: every statement's file is there.")
        return
    for s in chosen.values():
        say(safe_name(f"{s.statement_id}  {s.label}  {s.path or ''}".rstrip()))
    if dry_run:
        say(f"{len(chosen)} statement(s) would be removed (dry run: nothing changed)")
        return
    if not yes and not _confirmed(f"Remove these {len(chosen)} statement(s)?"):
        raise fail("nothing removed (answer y, or pass --yes)")
    with edge(), ingest_lock(settings, wait):
        removed = remove_statements(settings, store, list(chosen))
    say(f"removed {len(removed)} statement(s)")


def _confirmed(question: str) -> bool:
    """Ask on the terminal; no answer (end of input) is no."""
    import click

    try:
        return typer.confirm(question, default=False, err=True)
    except click.exceptions.Abort:
        return False
