"""Commands that answer: ``ask`` (one question, or a batch)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from rag.errors import RagError
from rag.models import Answer, Filters
from ui.cli.app import (
    app,
    decoded,
    edge,
    fail,
    print_json,
    reads_only,
    say,
    settings_or_fail,
)
from ui.cli.escapes import json_safe


class Mode(StrEnum):
    """What kind of answer ``--mode`` asks for."""

    answer = "answer"
    compare = "compare"
    positions = "positions"
    timeline = "timeline"


def _render(answer: Answer, as_json: bool, as_csv: bool, as_markdown: bool) -> str:
    if as_json:
        return json_safe(json.dumps(answer.to_json_dict(), ensure_ascii=False))
    if as_csv:
        from ui.render.table import answer_csv

        return answer_csv(answer, lineterminator="\n")  # say() would show "\r" as an escape
    if as_markdown:
        from ui.render.markdown import conversation_markdown

        return conversation_markdown([answer])
    from ui.render.text import readable

    return readable(answer)


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
    compare: Annotated[
        bool, typer.Option(help="Compare the speakers side by side (same as --mode compare).")
    ] = False,
    mode: Annotated[
        Mode | None,
        typer.Option(
            help="answer | compare (named speakers side by side) | positions (every speaker "
            "in scope) | timeline (one speaker, by date). Default: read from the question."
        ),
    ] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print the quotes as CSV rows (who, when, where).")
    ] = False,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the answer as Markdown with footnotes.")
    ] = False,
    k: Annotated[int | None, typer.Option("-k", min=1, max=100, help="Passages to read.")] = None,
    llm: Annotated[
        bool, typer.Option("--llm", help="Let the configured RAG_LLM write the answer.")
    ] = False,
) -> None:
    """Answer a question with verbatim quotes (or say the statements don't address it)."""
    from rag.service import build_services

    reads_only()
    if (question is None) == (batch is None):
        if question is None:
            raise fail('nothing to ask: give a question (rag ask "…") or --batch FILE')
        raise fail("give either a question or --batch FILE, not both")
    settings = settings_or_fail()
    filters = Filters(
        statement_ids=statement or [],
        organization=organization,
        author=author,
        since=since,
        until=until,
    )
    if sum((as_json, as_csv, as_markdown)) > 1:
        raise fail("choose one of --json, --csv and --markdown")
    forced = mode.value if mode is not None else ("compare" if compare else None)
    if llm and not settings.llm:
        raise fail("--llm needs a chat model: set RAG_LLM (see the README)")
    with edge():
        services = build_services(settings, preload=True)
        if question is not None:
            answer = services.answerer.answer(
                decoded(question), filters, k=k, use_llm=llm, mode=forced
            )
            say(_render(answer, as_json, as_csv, as_markdown), nl=not as_csv)
            return
        assert batch is not None
        # Bad filters (or an empty store) fail the whole batch once, not every line.
        services.catalog.scope(filters)
        try:
            stream = sys.stdin if batch == "-" else open(batch, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise fail(f"cannot read {batch}: {exc.strerror}") from None
        with stream:
            for line in stream:
                line = decoded(line)
                if not line.strip():
                    continue
                try:
                    answer = services.answerer.answer(
                        line.rstrip("\n"), filters, k=k, use_llm=llm, mode=forced
                    )
                except RagError as exc:
                    if not as_json:
                        say(f"error: {exc}", err=True)
                        continue
                    print_json({"question": line.rstrip("\n"), "error": str(exc)})
                    continue
                if as_json:
                    print_json(answer.to_json_dict())
                else:
                    say(_render(answer, False, as_csv, as_markdown) + "\n")
