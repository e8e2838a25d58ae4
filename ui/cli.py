"""The ``rag`` command: a thin face over ``rag/`` and ``ingest/``.

Every command builds one ``Settings`` (env ``RAG_*``), calls library functions, and
translates ``RagError`` into one line on stderr with a non-zero exit.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from rag.errors import RagError, StatementNotFoundError
from rag.models import Filters, StatementMeta
from rag.settings import Settings
from ui.text import readable

app = typer.Typer(
    help="Statements Q&A: answers questions about statements with verbatim, cited quotes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
logger = logging.getLogger("rag.cli")

UNKNOWN_STATEMENT = "Unknown statement id: {} (`rag sources` lists the ingested statements)"
EXIT_ERROR = 1
EXIT_SKIPPED = 3


def quiet_libraries(level: int = logging.WARNING) -> None:
    """Offline, no progress bars or telemetry, and libraries' logging at ``level``."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    for name in ("chromadb", "httpx", "bm25s", "sentence_transformers", "transformers"):
        logging.getLogger(name).setLevel(level)
    # a broken PDF is reported once, as the file's skip reason, not by pypdf's own warnings
    logging.getLogger("pypdf").setLevel(logging.ERROR)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    quiet_libraries()


def _fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _edge() -> Iterator[None]:
    """Turn library errors into one clear line and a non-zero exit."""
    try:
        yield
    except RagError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _fail("interrupted", 130) from None


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:  # a bad RAG_* variable
        raise _fail(config_error(exc)) from None


def config_error(exc: ValidationError) -> str:
    """One line naming the first bad ``RAG_*`` variable, its value and the problem."""
    errors = exc.errors(include_url=False)
    if not errors:
        return "invalid configuration"
    first = errors[0]
    field = str(first["loc"][0]) if first.get("loc") else ""
    name = f"RAG_{field.upper()}" if field else "a RAG_* variable"
    value = os.environ.get(name, first.get("input"))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{name}={value!s:.60}: {first['msg']}{more}"


def _decoded(text: str) -> str:
    """Undecodable bytes from argv or stdin arrive as lone surrogates: make them U+FFFD so
    nothing downstream (tokenizer, JSON output) meets invalid text."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


# -- ingest ------------------------------------------------------------------------


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

    settings = _settings()
    with _edge():  # an invalid --date is refused before anything runs
        date = check_date(date)
    overrides = StatementMeta(
        organization=organization, author=author, date=date, title=title, source=source
    )
    # The lock comes before the store is opened: two new processes creating the same
    # Chroma database at once would collide inside SQLite instead of on the lock.
    with _edge(), ingest_lock(settings, wait):
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
        _print_json(
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
                typer.echo(f"skipped {outcome.path}: {outcome.reason}", err=True)
            else:
                typer.echo(
                    f"{outcome.status:9} {outcome.statement_id} ({outcome.passages} passages)"
                )
        counts = ", ".join(f"{v} {k}" for k, v in report.summary().items())
        typer.echo(f"{counts} in {report.seconds:.1f}s")
    if report.skipped:
        raise typer.Exit(EXIT_SKIPPED)


# -- sources / show ----------------------------------------------------------------


def _statement_json(statement: Any, with_text: bool = False) -> dict[str, Any]:
    data = {
        "statement_id": statement.statement_id,
        "source": statement.source,
        "title": statement.title,
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
    """List the ingested statements."""
    from rag.store import ChromaStore

    with _edge():
        statements = ChromaStore.from_settings(_settings()).statements()
    if as_json:
        _print_json([_statement_json(s) for s in statements])
        return
    if not statements:
        typer.echo("No statements yet: run `rag ingest`.")
    for s in statements:
        typer.echo(
            f"{s.statement_id}  {s.label}  ({s.passages} passages)  {s.title or ''}".rstrip()
        )


@app.command()
def show(
    statement_id: str,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object with the text.")
    ] = False,
) -> None:
    """Print a statement's clean text (the text quote offsets refer to)."""
    from rag.store import ChromaStore

    with _edge():
        try:
            statement = ChromaStore.from_settings(_settings()).statement(statement_id)
        except StatementNotFoundError:
            # the same words as `rag ask --statement` for an id that is not there
            raise _fail(UNKNOWN_STATEMENT.format(statement_id)) from None
    if as_json:
        _print_json(_statement_json(statement, with_text=True))
        return
    typer.echo(f"{statement.label}" + (f" — {statement.title}" if statement.title else ""))
    typer.echo(f"source: {statement.source}\n")
    typer.echo(statement.text or "")


# -- ask ---------------------------------------------------------------------------


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (with --batch: one per line).")
    ] = False,
    batch: Annotated[
        str | None, typer.Option(help="File with one question per line ('-' for stdin).")
    ] = None,
    statement: Annotated[
        list[str] | None, typer.Option("--statement", help="Only this statement id (repeatable).")
    ] = None,
    organization: Annotated[str | None, typer.Option(help="Only this organization.")] = None,
    author: Annotated[str | None, typer.Option(help="Only this author.")] = None,
    since: Annotated[str | None, typer.Option(help="Only statements dated on/after.")] = None,
    until: Annotated[str | None, typer.Option(help="Only statements dated on/before.")] = None,
    compare: Annotated[bool, typer.Option(help="Group quotes per statement.")] = False,
    k: Annotated[int | None, typer.Option("-k", min=1, max=100, help="Passages to read.")] = None,
    llm: Annotated[
        bool, typer.Option("--llm", help="Let the configured RAG_LLM write the answer.")
    ] = False,
) -> None:
    """Answer a question with verbatim quotes (or say the statements don't address it)."""
    from rag.service import build_services

    if (question is None) == (batch is None):
        if question is None:
            raise _fail('nothing to ask: give a question (rag ask "…") or --batch FILE')
        raise _fail("give either a question or --batch FILE, not both")
    settings = _settings()
    filters = Filters(
        statement_ids=statement or [],
        organization=organization,
        author=author,
        since=since,
        until=until,
    )
    if llm and not settings.llm:
        raise _fail("--llm needs a chat model: set RAG_LLM (see the README)")
    with _edge():
        services = build_services(settings)
        if question is not None:
            answer = services.answerer.answer(
                _decoded(question), filters, compare=compare or None, k=k, use_llm=llm
            )
            typer.echo(
                json.dumps(answer.to_json_dict(), ensure_ascii=False)
                if as_json
                else readable(answer)
            )
            return
        assert batch is not None
        # Bad filters (or an empty store) fail the whole batch once, not every line.
        services.catalog.scope(filters)
        try:
            stream = sys.stdin if batch == "-" else open(batch, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise _fail(f"cannot read {batch}: {exc.strerror}") from None
        with stream:
            for line in stream:
                line = _decoded(line)
                if not line.strip():
                    continue
                try:
                    answer = services.answerer.answer(
                        line.rstrip("\n"), filters, compare=compare or None, k=k, use_llm=llm
                    )
                except RagError as exc:
                    if not as_json:
                        typer.echo(f"error: {exc}", err=True)
                        continue
                    _print_json({"question": line.rstrip("\n"), "error": str(exc)})
                    continue
                if as_json:
                    _print_json(answer.to_json_dict())
                else:
                    typer.echo(readable(answer) + "\n")


# -- ui ----------------------------------------------------------------------------


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
) -> None:
    """Start the chat UI (Gradio) on http://HOST:PORT."""
    from ui.web import launch

    settings = _settings()
    with _edge():
        launch(
            settings,
            host=host,
            port=port,
            no_auth=no_auth,
            ingest_if_empty=ingest_bundled,
            on_ready=lambda url: typer.echo(f"Statements Q&A is running on {url} (Ctrl+C stops)"),
        )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
