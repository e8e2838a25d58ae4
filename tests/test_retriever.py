"""The LangChain retriever: LangChain's own standard suite, plus its metadata, filters and k."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag.errors import InvalidFilterError
from rag.models import Filters
from rag.retriever import StatementsRetriever
from rag.service import Services

SEP = "000_750d3f795511808f"
SWP = "004_82099dca89624f38"
QUERY = "What is the Quds Force?"

_bundled: dict[str, Services] = {}


@pytest.fixture(autouse=True)
def _answerer(bundled: Services) -> None:
    """The standard suite builds the retriever from properties, not fixtures: hand the
    session's bundled services over through a module-level slot."""
    _bundled["services"] = bundled


class TestStatementsRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's standard retriever suite, unmodified."""

    # The suite has one async test; pytest-asyncio runs in strict mode here, so mark the
    # class (its sync tests only warn about the mark, which is silenced).
    pytestmark = [  # noqa: RUF012
        pytest.mark.asyncio,
        pytest.mark.filterwarnings("ignore:The test <Function .*asyncio:pytest.PytestWarning"),
    ]

    @property
    def retriever_constructor(self) -> type[StatementsRetriever]:
        return StatementsRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"answerer": _bundled["services"].answerer, "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


@pytest.fixture
def retriever(bundled: Services) -> StatementsRetriever:
    return StatementsRetriever(answerer=bundled.answerer, k=4)


def test_documents_carry_exact_offsets_and_statement_metadata(
    retriever: StatementsRetriever, bundled: Services
) -> None:
    docs = retriever.invoke(QUERY)
    assert len(docs) == 4
    statements = {s.statement_id: s for s in bundled.store.statements()}
    for doc in docs:
        meta = doc.metadata
        assert set(meta) == {
            "statement_id",
            "passage_id",
            "paragraph",
            "start",
            "end",
            "organization",
            "date",
            "title",
            "source",
            "score",
        }
        statement = statements[meta["statement_id"]]
        text = bundled.store.statement(meta["statement_id"]).text
        assert text is not None
        assert text[meta["start"] : meta["end"]] == doc.page_content
        assert meta["organization"] == statement.organization
        assert meta["date"] == statement.date
        assert meta["title"] == statement.title
        assert meta["source"] == statement.source
        assert isinstance(meta["paragraph"], int) and meta["paragraph"] >= 1
        assert 0.0 < meta["score"] <= 1.0
        assert doc.id == meta["passage_id"]
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    # keyword search puts the passage that names the Quds Force first
    assert "Quds Force" in docs[0].page_content
    assert docs[0].metadata["statement_id"] == SWP


def test_k_override_per_call(retriever: StatementsRetriever) -> None:
    assert len(retriever.invoke(QUERY, k=1)) == 1
    assert len(retriever.invoke(QUERY, k=6)) == 6
    assert len(retriever.invoke(QUERY)) == retriever.k


def test_filters_restrict_statements(bundled: Services) -> None:
    sep_only = StatementsRetriever(
        answerer=bundled.answerer, k=5, filters=Filters(organization="SEP")
    )
    docs = sep_only.invoke(QUERY)
    assert docs and {d.metadata["statement_id"] for d in docs} == {SEP}

    by_id = StatementsRetriever(answerer=bundled.answerer, k=3)
    docs = by_id.invoke("troops", filters=Filters(statement_ids=[SWP]))
    assert len(docs) == 3 and {d.metadata["statement_id"] for d in docs} == {SWP}

    dated = StatementsRetriever(answerer=bundled.answerer, k=3, filters=Filters(since="2010"))
    assert {d.metadata["statement_id"] for d in dated.invoke("Kerry")} == {SWP}


def test_unknown_filter_is_an_error(bundled: Services) -> None:
    bad = StatementsRetriever(
        answerer=bundled.answerer, filters=Filters(statement_ids=["no-such-statement"])
    )
    with pytest.raises(InvalidFilterError):
        bad.invoke(QUERY)


@pytest.mark.asyncio
async def test_ainvoke_honours_k(retriever: StatementsRetriever) -> None:
    docs = await retriever.ainvoke(QUERY, k=2)
    assert len(docs) == 2 and all(isinstance(d, Document) for d in docs)
