"""The app embeds questions through an ONNX export of the model (no torch at question
time). That must not change a single answer: every eval case gives the same citations,
abstentions and retrieved paragraphs as with sentence-transformers."""

from __future__ import annotations

from evals.cases import Case
from evals.harness import EvalRun, run_cases
from evals.metrics import CaseResult
from rag.encoders.embeddings import SentenceTransformerEmbedder
from rag.service import Services, build_services


def test_onnx_questions_answer_exactly_like_sentence_transformers(
    eval_services: Services,
    embedder: SentenceTransformerEmbedder,
    eval_run: EvalRun,
    cases: list[Case],
) -> None:
    torch_side = build_services(eval_services.settings, embedder=embedder)
    expected = run_cases(torch_side, cases)

    def key(result: CaseResult) -> tuple[object, ...]:
        return (
            result.abstained,
            [(q.statement_id, q.start, q.end) for q in result.citations],
            [(q.statement_id, q.start, q.end) for q in result.nearest],
            result.retrieved,
        )

    pairs = zip(eval_run.results, expected, strict=True)
    differ = [got.id for got, want in pairs if key(got) != key(want)]
    assert not differ, f"ONNX and sentence-transformers answers differ for cases {differ}"
