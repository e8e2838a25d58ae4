"""The case file itself is checked against the ingested clean text of the statements."""

from __future__ import annotations

from collections import Counter

from evals.cases import BUNDLED_KINDS, Case
from rag.models import Filters
from rag.service import Services


def _paragraphs(services: Services, statement_id: str) -> dict[int, str]:
    text = services.store.statement(statement_id).text or ""
    spans: dict[int, tuple[int, int]] = {}
    for p in services.store.statement_passages(statement_id):
        start, end = spans.get(p.paragraph, (p.start, p.end))
        spans[p.paragraph] = (min(start, p.start), max(end, p.end))
    return {n: text[s:e] for n, (s, e) in spans.items()}


def test_the_mix_of_cases(cases: list[Case]) -> None:
    kinds = Counter(c.kind for c in cases)
    assert len(cases) >= 40
    assert kinds["unanswerable"] >= 10
    assert set(kinds) == set(BUNDLED_KINDS), (
        f"kinds without a case: {set(BUNDLED_KINDS) - set(kinds)}"
    )
    assert all(c.compare for c in cases if c.kind == "compare")
    assert all(c.history for c in cases if c.kind == "followup")
    assert all(c.filters for c in cases if c.kind == "filtered")
    for case in cases:
        Filters(**case.filters)  # valid filters


def test_gold_matches_the_text(cases: list[Case], eval_services: Services) -> None:
    """Each evidence string is in a listed paragraph of its statement, and every paragraph
    of that statement containing one is listed."""
    known = {s.statement_id for s in eval_services.store.statements()}
    problems: list[str] = []
    for case in cases:
        for gold in case.gold:
            if gold.statement_id not in known:
                problems.append(f"{case.id}: unknown statement {gold.statement_id}")
                continue
            paragraphs = _paragraphs(eval_services, gold.statement_id)
            problems += [
                f"{case.id}: no paragraph {n} in {gold.statement_id}"
                for n in gold.paragraphs
                if n not in paragraphs
            ]
            for evidence in gold.evidence:
                found = {n for n, text in paragraphs.items() if evidence in text}
                if not found:
                    problems.append(f"{case.id}: evidence not in the text: {evidence!r}")
                elif not found <= set(gold.paragraphs):
                    problems.append(
                        f"{case.id}: {evidence!r} is in paragraph(s) {sorted(found)}, "
                        f"listed {list(gold.paragraphs)}"
                    )
    assert not problems, "\n".join(problems)
