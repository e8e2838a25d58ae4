"""The lever measurements' arithmetic, on hand-made candidates (no model, no store)."""

from __future__ import annotations

from evals.levers import Candidate, Question, abstention, blend, ceiling, evidence


def candidate(score: float, label: bool, cross: float = 0.0) -> Candidate:
    return Candidate(score, score, score, 0.0, 1.0, label, cross=cross)


def test_a_reader_that_lifts_the_answer_counts_at_one_and_three() -> None:
    rows = [candidate(0.9, False, -5.0), candidate(0.8, False, -4.0), candidate(0.7, True, 6.0)]
    questions = [Question("squad2", "test", "squad_answerable", True, rows)]
    assert evidence(questions, lambda rs: [r.score for r in rs]) == {("squad2", "test"): (0.0, 1.0)}
    lifted = evidence(questions, blend("cross", 1.0, top=3))
    assert lifted == {("squad2", "test"): (1.0, 1.0)}
    assert evidence(questions, blend("cross", 1.0, top=2)) == {("squad2", "test"): (0.0, 1.0)}
    assert ceiling(questions) == {("squad2", "test"): 1.0}


def test_the_abstention_floor_is_fitted_on_dev_and_reported_on_test() -> None:
    def q(split: str, answerable: bool, cross: float) -> Question:
        return Question(
            "debates2019", split, "fact", answerable, [candidate(0.5, answerable, cross)]
        )

    questions = [
        q("dev", True, 2.0), q("dev", True, -1.0), q("dev", False, -6.0),
        q("test", True, -3.0), q("test", False, -7.0), q("test", False, 0.0),
    ]  # fmt: skip
    floor, abstained, false = abstention(questions, "cross")["debates2019"]
    assert floor == -1.0  # the highest floor that refuses no answerable dev question
    assert (abstained, false) == (0.5, 1.0)
