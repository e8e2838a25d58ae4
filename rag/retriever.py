"""The hybrid passage search as a LangChain retriever.

A thin adapter over ``Answerer.search``: the same dense + keyword fusion and the same
filters, returning LangChain ``Document`` objects whose metadata say exactly where each
passage sits in its statement's clean text.

>>> retriever = StatementsRetriever(answerer=services.answerer, k=3)
>>> docs = retriever.invoke("What is the Quds Force?")
>>> docs[0].metadata["statement_id"], docs[0].metadata["paragraph"]
('004_82099dca89624f38', 7)
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, Field

from rag.models import Filters


class StatementsRetriever(BaseRetriever):
    """Passages of the ingested statements for a query, best first.

    Args:
        answerer: an ``rag.pipeline.Answerer`` (its store, embedder and catalog are used).
        k: how many passages to return (``invoke(query, k=N)`` overrides it per call).
        filters: restrict to statements, an organization or a date range; unknown values
            raise ``InvalidFilterError`` (``filters=`` on ``invoke`` overrides it per call).

    Each ``Document`` has the passage text as ``page_content`` and metadata
    ``statement_id, passage_id, paragraph, start, end, organization, date, title, source,
    score`` where ``statement.text[start:end] == page_content`` and ``score`` is the fused
    rank score relative to the best passage (1.0).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    answerer: Any = Field(description="The rag.pipeline.Answerer that runs the search.")
    k: int = Field(default=4, ge=1, description="Number of passages to return.")
    filters: Filters | None = Field(default=None, description="Optional statement filters.")

    def _search(self, query: str, k: int | None, filters: Filters | None) -> list[Document]:
        limit = self.k if k is None else int(k)
        if limit < 1:
            return []
        found = self.answerer.search(query, limit, filters if filters is not None else self.filters)
        statements = self.answerer.catalog.snapshot().statements
        documents = []
        for stored, score in found[:limit]:
            passage = stored.passage
            statement = statements.get(passage.statement_id)
            documents.append(
                Document(
                    id=passage.passage_id,
                    page_content=passage.text,
                    metadata={
                        "statement_id": passage.statement_id,
                        "passage_id": passage.passage_id,
                        "paragraph": passage.paragraph,
                        "start": passage.start,
                        "end": passage.end,
                        "organization": statement.organization if statement else None,
                        "date": statement.date if statement else None,
                        "title": statement.title if statement else None,
                        "source": statement.source if statement else None,
                        "score": round(float(score), 4),
                    },
                )
            )
        return documents

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filters: Filters | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        return self._search(query, k, filters)

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
        filters: Filters | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        # Chroma and the model are synchronous: run the search off the event loop.
        return await run_in_executor(None, self._search, query, k, filters)
