"""Development-set scoring on hand-made results: matching rules and failing stages."""

from __future__ import annotations

from evals.cases import Case, Gold
from evals.devsets.results import DevResult, Shown
from evals.devsets.scoring import locate, metrics, score

TEXTS = {
    "a": "Alpha says taxes must rise. Alpha also likes trains.",
    "b": "Beta says taxes must fall. Beta dislikes trains.",
}


def _case(kind: str, gold: dict[str, str] | None = None, answers: tuple[str, ...] = ()) -> Case:
    golds = tuple(Gold(sid, (), (ev,)) for sid, ev in (gold or {}).items())
    answerable = bool(golds or answers)
    return Case("c", kind, "q?", answerable, gold=golds, answers=answers, compare=kind == "compare")


def _shown(sid: str, text: str) -> Shown:
    start = TEXTS[sid].find(text)
    return Shown(sid, 1, start, start + len(text), text, 0.5)


def _run(case: Case, quotes: list[Shown], retrieved: list[Shown], abstained: bool = False):
    result = DevResult(
        "s",
        case.id,
        case.kind,
        "dev",
        case.question,
        case.answerable,
        abstained,
        None,
        quotes,
        [],
        retrieved,
        10.0,
    )
    return score(case, result, locate(case, TEXTS.__getitem__))


def test_a_right_quote_passes() -> None:
    case = _case("fact", {"a": "taxes must rise"})
    result = _run(case, [_shown("a", "Alpha says taxes must rise.")], [_shown("a", TEXTS["a"])])
    assert result.evidence_at_1 and result.evidence_at_3 and result.stage is None
    assert result.retrieval_rank == 1


def test_stages_of_failures() -> None:
    case = _case("fact", {"a": "taxes must rise"})
    wrong = [_shown("b", "Beta says taxes must fall.")]
    assert _run(case, wrong, wrong).stage == "retrieval"
    assert _run(case, wrong, [_shown("a", TEXTS["a"])]).stage == "selection"
    assert _run(case, [], [_shown("a", TEXTS["a"])], abstained=True).stage == "abstention"
    unanswerable = _case("off_topic")
    assert _run(unanswerable, wrong, wrong).stage == "abstention"
    assert _run(unanswerable, [], [], abstained=True).stage is None


def test_the_evidence_must_come_from_the_gold_speaker() -> None:
    case = _case("speaker", {"b": "taxes must"})
    result = _run(case, [_shown("a", "Alpha says taxes must rise.")], [])
    assert not result.evidence_at_3


def test_compare_needs_every_side() -> None:
    case = _case("compare", {"a": "taxes must rise", "b": "taxes must fall"})
    both = [_shown("a", "Alpha says taxes must rise."), _shown("b", "Beta says taxes must fall.")]
    retrieved = [_shown("a", TEXTS["a"]), _shown("b", TEXTS["b"])]
    assert _run(case, both, retrieved).evidence_at_3
    assert _run(case, both, retrieved).retrieval_rank == 2
    assert not _run(case, both[:1], retrieved).evidence_at_3


def test_squad_answers_match_case_insensitively_over_joined_quotes() -> None:
    case = _case("squad_answerable", answers=("ALSO likes",))
    quotes = [_shown("a", "Alpha says taxes must rise."), _shown("a", "Alpha also likes trains.")]
    result = _run(case, quotes, [_shown("a", TEXTS["a"])])
    assert not result.evidence_at_1 and result.evidence_at_3


def test_metrics_count_false_abstentions_and_stages() -> None:
    answerable = _case("fact", {"a": "taxes must rise"})
    results = [
        _run(answerable, [], [_shown("a", TEXTS["a"])], abstained=True),
        _run(answerable, [_shown("a", "Alpha says taxes must rise.")], [_shown("a", TEXTS["a"])]),
        _run(_case("off_topic"), [], [], abstained=True),
    ]
    row = metrics(results)
    assert row["false_abstention_rate"] == 0.5
    assert row["abstention_recall"] == 1.0
    assert row["abstention_precision"] == 0.5
    assert row["lost_abstention"] == 1 and row["evidence_at_3"] == 0.5


def test_a_result_dumps_as_json_and_renders() -> None:
    import json

    from evals.devsets.report import render

    case = _case("fact", {"a": "taxes must rise"})
    result = _run(case, [_shown("a", "Alpha says taxes must rise.")], [_shown("a", TEXTS["a"])])
    row = json.loads(json.dumps(result.record()))
    assert row["quotes"][0]["evidence"] and row["retrieved"][0]["evidence"]
    assert row["stage"] is None and row["retrieval_rank"] == 1
    markdown = render({"debates2019": [result]})
    assert "### debates2019:" in markdown and "| fact | dev | 1 |" in markdown
