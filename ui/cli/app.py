"""The ``rag`` command's Typer app and its edge: one ``Settings``, library errors as one
line on stderr with a non-zero exit, JSON output."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError

from rag.errors import RagError
from rag.settings import Settings
from ui.cli.escapes import json_safe, terminal_safe

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
EXIT_BROKEN_PIPE = 120  # what Python exits with when flushing stdout fails at the end

# Set by a command that writes nothing (``reads_only``): ``ui.cli.main`` may then end the
# process without the interpreter's teardown.
READS_ONLY = threading.Event()


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


def say(text: str, err: bool = False, nl: bool = True) -> None:
    """Print ``text`` for a person: metadata and statement text may carry escape
    sequences or bidi overrides, shown as escapes instead of acted on."""
    typer.echo(terminal_safe(text), err=err, nl=nl)


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    say(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def edge() -> Iterator[None]:
    """Turn library errors into one clear line and a non-zero exit."""
    try:
        yield
    except RagError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None


def settings_or_fail() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:  # a bad RAG_* variable
        raise fail(config_error(exc)) from None


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


def decoded(text: str) -> str:
    """Undecodable bytes from argv or stdin arrive as lone surrogates: make them U+FFFD so
    nothing downstream (tokenizer, JSON output) meets invalid text."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def print_json(data: Any) -> None:
    typer.echo(json_safe(json.dumps(data, ensure_ascii=False)))


def reads_only() -> None:
    """Mark this run as one that writes nothing (``ask``, ``sources``, ``show``), so that
    ``ui.cli.main`` may end the process without the interpreter's teardown."""
    READS_ONLY.set()


def exit_now(code: object) -> NoReturn:
    """End the process with ``code`` (a ``SystemExit`` code) once stdout, stderr and the
    logging handlers are flushed, skipping the interpreter's teardown: unloading the
    ~1,000 modules and freeing the models a `rag ask` loaded is a tenth of its CPU time,
    and a command that only read has nothing left to write."""
    if isinstance(code, str):  # what SystemExit does with a message: print it, exit 1
        print(code, file=sys.stderr)
        status = EXIT_ERROR
    else:
        status = int(code) if isinstance(code, int) else 0
    logging.shutdown()
    try:
        sys.stdout.flush()
    except OSError:  # a closed pipe (`rag ask … | head -c 10`)
        status = status or EXIT_BROKEN_PIPE
    with suppress(OSError):
        sys.stderr.flush()
    os._exit(status)
