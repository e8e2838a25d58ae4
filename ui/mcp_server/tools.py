"""The MCP tools: what an assistant may call (the ``mcp`` SDK's ``MCPServer``).

- ``ask``: a question (and filters) -> verified verbatim quotes with citations, or an
  abstention: the ``rag ask --json`` object, with a typed output schema.
- ``sources``: the statements, filtered and searched by their metadata.
- ``show``: one statement's clean text, the text every quote's offsets refer to.
- ``positions``: every speaker's position on a topic, a row each with verbatim quotes, and
  the speakers who do not address it; ``compare`` in ``ask`` puts named speakers side by
  side;
- ``timeline``: one speaker's statements on a topic in date order.

Every tool calls the same ``Services`` as the web UI and the CLI. A user's mistake (an
unknown statement, a bad date, an empty question) is a one-line tool error, not a crash.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ConfigDict, Field

from rag.dates import overlaps
from rag.errors import RagError, StatementNotFoundError
from rag.models import Filters, Statement, StatementMeta
from rag.service import Services
from rag.store.catalog import author_matches, org_matches

logger = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Answers questions about a collection of political statements only with verbatim "
    "quotes. Every quote in a citation is exactly text[start:end] of its statement's clean "
    "text (the `show` tool returns it). When `abstained` is true the statements do not "
    "address the question: say so instead of answering from elsewhere. Quote citations as "
    "they are, with their source."
)
MAX_SOURCES = 500

Question = Annotated[str, Field(description="The question, in plain words.", max_length=20000)]
StatementIds = Annotated[
    list[str] | None,
    Field(description="Only these statements (ids as the `sources` tool lists them)."),
]
Organization = Annotated[str | None, Field(description="Only statements of this organization.")]
Author = Annotated[str | None, Field(description="Only statements by this author.")]
Since = Annotated[
    str | None, Field(description="Only statements dated on or after: YYYY[-MM[-DD]].")
]
Until = Annotated[
    str | None, Field(description="Only statements dated on or before: YYYY[-MM[-DD]].")
]


class CitedQuote(BaseModel):
    """One verbatim quote: ``text[start:end] == quote`` of the statement's clean text."""

    n: int = Field(description="The [n] marker in the answer text")
    statement_id: str
    source: str = Field(description="Where the statement comes from: a URL or a file name")
    title: str | None = None
    speaker: str | None = Field(default=None, description="Who said it: author, else organization")
    author: str | None = None
    organization: str | None = None
    date: str | None = None
    paragraph: int = Field(description="1-based paragraph of the statement")
    start: int = Field(description="Start offset of the quote in the statement's clean text")
    end: int = Field(description="End offset (exclusive)")
    quote: str = Field(description="The exact words of the statement")


class AskResult(BaseModel):
    """The answer: quotes with citations, or an abstention (the ``rag ask --json`` object)."""

    model_config = ConfigDict(extra="allow")  # fields added to the contract pass through

    question: str
    abstained: bool = Field(description="True: the statements do not address the question")
    answer: str = Field(description="The quotes as readable text with [n] markers")
    mode: str = Field(
        default="answer", description="answer, compare (speakers side by side), positions, timeline"
    )
    citations: list[CitedQuote]


class StatementInfo(StatementMeta):
    """A statement's metadata (not its local path)."""

    statement_id: str
    source: str  # type: ignore[assignment]  # always set: a URL or a file name
    passages: int


class SourcesResult(BaseModel):
    total: int = Field(description="How many statements match (at most `limit` are listed)")
    statements: list[StatementInfo]


class StatementText(StatementInfo):
    text: str = Field(description="The clean text that citation offsets refer to")


def _info(statement: Statement) -> dict[str, Any]:
    return StatementInfo.model_validate(statement, from_attributes=True).model_dump()


def _filters(
    statement_ids: list[str] | None,
    organization: str | None,
    author: str | None,
    since: str | None,
    until: str | None,
) -> Filters:
    def clean(value: str | None) -> str | None:
        return (value or "").strip() or None

    return Filters(
        statement_ids=[s for s in (statement_ids or []) if s.strip()],
        organization=clean(organization),
        author=clean(author),
        since=clean(since),
        until=clean(until),
    )


def build_mcp(services: Services) -> MCPServer:
    """The MCP server over ``services`` (serve it with ``ui.mcp_server.http``)."""
    server = MCPServer(
        name="statements-qa",
        title="Statements Q&A",
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )

    # as many answers at once as the UI answers (its queue does not see these calls)
    gate = threading.BoundedSemaphore(services.settings.ui_concurrency)

    def answer(question: str, filters: Filters, **options: Any) -> dict[str, Any]:
        try:
            with gate:
                result = services.answerer.answer(question, filters, **options)
        except RagError as exc:
            raise ToolError(str(exc)) from None
        return result.to_json_dict()

    @server.tool(title="Ask the statements")
    def ask(
        question: Question,
        statement_ids: StatementIds = None,
        organization: Organization = None,
        author: Author = None,
        since: Since = None,
        until: Until = None,
        compare: Annotated[
            bool,
            Field(
                description="Put the speakers the question names (or all in scope) side by side."
            ),
        ] = False,
    ) -> AskResult:
        """Answer a question only with verbatim, cited quotes from the statements, or
        abstain when they do not address it."""
        filters = _filters(statement_ids, organization, author, since, until)
        data = answer(question, filters, compare=True if compare else None)
        return AskResult.model_validate(data)

    @server.tool(title="List and search the statements")
    def sources(
        query: Annotated[
            str | None,
            Field(
                description="Words that must all appear in the id, title, author, "
                "organization or source (case-insensitive)."
            ),
        ] = None,
        organization: Organization = None,
        author: Author = None,
        since: Since = None,
        until: Until = None,
        limit: Annotated[int, Field(ge=1, le=MAX_SOURCES)] = 50,
    ) -> SourcesResult:
        """The ingested statements (newest first), narrowed by metadata."""
        words = (query or "").lower().split()
        wanted = _filters(None, organization, author, since, until)
        org, who = wanted.organization, wanted.author
        try:
            matches = [  # matched as ask's filters match (rag.store.catalog)
                s
                for s in services.store.statements()
                if (not org or org_matches(s.organization, org))
                and (not who or author_matches(s.author, who))
                and overlaps(s.date, wanted.since, wanted.until)  # a bad date: ask's error
                and all(w in _haystack(s) for w in words)
            ]
        except RagError as exc:
            raise ToolError(str(exc)) from None
        matches.sort(key=lambda s: (s.date or "", s.statement_id), reverse=True)
        listed = [StatementInfo.model_validate(_info(s)) for s in matches[:limit]]
        return SourcesResult(total=len(matches), statements=listed)

    @server.tool(title="Read one statement")
    def show(
        statement_id: Annotated[str, Field(description="The statement's id")],
    ) -> StatementText:
        """A statement's clean text and metadata: the text citation offsets refer to."""
        try:
            statement = services.store.statement(statement_id.strip())
        except StatementNotFoundError:
            raise ToolError(
                f"Unknown statement id: {statement_id[:80]!r} (the sources tool lists them)"
            ) from None
        except RagError as exc:
            raise ToolError(str(exc)) from None
        return StatementText(**_info(statement), text=statement.text or "")

    @server.tool(title="Positions on a topic")
    def positions(
        question: Annotated[
            str, Field(description="The topic, or a question such as 'Who supports X?'.")
        ],
        statement_ids: StatementIds = None,
        organization: Organization = None,
        author: Author = None,
        since: Since = None,
        until: Until = None,
    ) -> AskResult:
        """Each speaker's position on a topic, a row per speaker who addresses it with
        verbatim quotes, and the speakers in scope who do not (``not_addressed_by``)."""
        filters = _filters(statement_ids, organization, author, since, until)
        return AskResult.model_validate(answer(question, filters, mode="positions"))

    @server.tool(title="What one speaker said on a topic over time")
    def timeline(
        question: Annotated[str, Field(description="The topic.")],
        speaker: Annotated[
            str,
            Field(description="The speaker: an author (full name or surname) or an organization."),
        ],
        since: Since = None,
        until: Until = None,
    ) -> AskResult:
        """One speaker's statements that address a topic, oldest first, one or two
        verbatim quotes each."""
        try:
            statements = services.catalog.snapshot().statements.values()
        except RagError as exc:
            raise ToolError(str(exc)) from None
        if any(author_matches(s.author, speaker) for s in statements):
            filters = _filters(None, None, speaker, since, until)
        else:  # an organization, or a clear error from the answer
            filters = _filters(None, speaker, None, since, until)
        return AskResult.model_validate(answer(question, filters, mode="timeline"))

    return server


def _haystack(statement: Statement) -> str:
    fields = (statement.statement_id, statement.title, statement.author, statement.organization)
    return " ".join(f or "" for f in (*fields, statement.source)).lower()
