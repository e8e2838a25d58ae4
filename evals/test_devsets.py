"""The development sets: their questions checked against the ingested text, their split,
and the gate (today's honest values on the *test* half, evals/thresholds.toml)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from evals.cases import Case
from evals.devsets import SETS, split_of
from evals.devsets.scoring import by_split, meets
from evals.devsets.session import DevsetRuns
from evals.harness import load_devset_bounds
from evals.report import REPORTS_DIR

DEBATES = "debates2019"
MINIMUM_PER_KIND = {
    "fact": 25,
    "paraphrase": 20,
    "speaker": 25,
    "number": 12,
    "compare": 12,
    "off_topic": 15,
    "not_addressed": 20,
    "followup": 30,
    "positions": 12,
}
SOTU = "sotu"
MINIMUM_SOTU = {"positions": 20, "timeline": 20, "compare": 12, "followup": 12}


def _mentions(text: str, term: str) -> bool:
    """``term`` as a whole word or phrase, case-insensitive."""
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.IGNORECASE) is not None


@pytest.fixture(scope="module")
def debate_cases() -> list[Case]:
    return SETS[DEBATES].cases()


def test_the_mix_of_debate_questions(debate_cases: list[Case]) -> None:
    kinds = Counter(c.kind for c in debate_cases)
    assert len(debate_cases) >= 130
    short = {k: n for k, n in MINIMUM_PER_KIND.items() if kinds[k] < n}
    assert not short, f"too few cases of kind(s) {short} (have {dict(kinds)})"
    for case in debate_cases:
        if case.kind == "compare":
            assert case.compare and len(case.gold) == 2, case.id
        if case.kind == "followup":
            assert case.history, case.id
        if case.kind == "not_addressed":
            assert case.speaker and case.absent and not case.answerable, case.id
        if case.kind == "off_topic":
            assert case.absent and not case.answerable, case.id


def test_the_mix_of_speaker_questions() -> None:
    """Issue 20 and 21: >= 30 positions, 20 timelines, 20 new comparisons, 30 follow-ups
    (two- and three-turn, with new-topic turns) over both sets."""
    sotu = SETS[SOTU].cases()
    kinds = Counter(c.kind for c in sotu)
    short = {k: n for k, n in MINIMUM_SOTU.items() if kinds[k] < n}
    assert not short, f"too few sotu cases of kind(s) {short} (have {dict(kinds)})"
    both = sotu + SETS[DEBATES].cases()
    assert sum(c.kind == "positions" for c in both) >= 30
    assert sum(c.kind == "timeline" for c in both) >= 20
    resolved = [c for c in both if c.resolution is not None]
    assert len(resolved) >= 30 and any(not c.resolution.carries_topic for c in resolved)  # type: ignore[union-attr]
    assert any(len(c.history) >= 2 for c in resolved)
    for case in both:
        if case.kind == "timeline":
            assert case.speaker and len(case.gold) >= 2, case.id
        if case.kind == "positions":
            assert case.positions, case.id


@pytest.mark.parametrize("name", [DEBATES, SOTU])
def test_speaker_evidence_is_in_the_clean_text(name: str, devsets: DevsetRuns) -> None:
    """Every position's evidence is in one of that speaker's statements (as ingested), and
    every speaker named by a case is a speaker of the set."""
    store = devsets.services(name).store
    statements = store.statements()
    texts = {s.statement_id: store.statement(s.statement_id).text or "" for s in statements}
    speakers = {s.speaker for s in statements}
    problems = []
    for case in SETS[name].cases():
        names = [p.speaker for p in case.positions] + list(case.mentions)
        if case.kind == "timeline":
            names.append(case.speaker or "")
        if case.resolution is not None:
            names += list(case.resolution.speakers)
        problems += [f"{case.id}: unknown speaker {n!r}" for n in names if n not in speakers]
        for position in case.positions:
            own = [texts[s.statement_id] for s in statements if s.speaker == position.speaker]
            problems += [
                f"{case.id}: {position.speaker} never says {ev!r}"
                for ev in position.evidence
                if not any(ev in text for text in own)
            ]
        for gold in case.gold:
            if gold.statement_id not in texts:
                problems.append(f"{case.id}: unknown statement {gold.statement_id}")
                continue
            problems += [
                f"{case.id}: not in {gold.statement_id}: {ev!r}"
                for ev in gold.evidence
                if ev not in texts[gold.statement_id]
            ]
    assert not problems, "\n".join(problems)


def test_debate_evidence_is_in_the_clean_text(
    debate_cases: list[Case], devsets: DevsetRuns
) -> None:
    store = devsets.services(DEBATES).store
    known = {s.statement_id for s in store.statements()}
    assert len(known) == 20
    problems = []
    for case in debate_cases:
        for gold in case.gold:
            if gold.statement_id not in known:
                problems.append(f"{case.id}: unknown statement {gold.statement_id}")
                continue
            text = store.statement(gold.statement_id).text or ""
            problems += [
                f"{case.id}: not in {gold.statement_id}: {ev!r}"
                for ev in gold.evidence
                if ev not in text
            ]
    assert not problems, "\n".join(problems)


def test_unaddressed_and_off_topic_terms_are_really_absent(
    debate_cases: list[Case], devsets: DevsetRuns
) -> None:
    """not_addressed: the named speaker never uses the key terms; off_topic: nobody does."""
    store = devsets.services(DEBATES).store
    texts = {s.statement_id: store.statement(s.statement_id).text or "" for s in store.statements()}
    problems = []
    for case in debate_cases:
        if case.kind == "not_addressed":
            assert case.speaker in texts, f"{case.id}: unknown speaker {case.speaker}"
            problems += [
                f"{case.id}: {case.speaker} does say {term!r}"
                for term in case.absent
                if _mentions(texts[case.speaker], term)
            ]
        elif case.kind == "off_topic":
            problems += [
                f"{case.id}: {sid} says {term!r}"
                for term in case.absent
                for sid, text in texts.items()
                if _mentions(text, term)
            ]
    assert not problems, "\n".join(problems)


def test_squad_questions_load() -> None:
    cases = SETS["squad2"].cases()
    kinds = Counter(c.kind for c in cases)
    assert len(cases) == 418
    assert kinds == {"squad_answerable": 197, "squad_unanswerable": 221}
    article = next(SETS["squad2"].folder.glob("*.txt")).read_text(encoding="utf-8").lower()
    for case in cases:
        if case.answerable:
            assert any(a.lower() in article for a in case.answers), case.id


@pytest.mark.parametrize("name", sorted(SETS))
def test_the_split_is_fixed_and_balanced(name: str) -> None:
    cases = SETS[name].cases()
    assert [split_of(c) for c in cases] == [split_of(c) for c in cases]
    for kind, n in Counter(c.kind for c in cases).items():
        dev = sum(split_of(c) == "dev" for c in cases if c.kind == kind)
        assert abs(dev - (n - dev)) <= max(4, n // 10), f"{name}/{kind}: {dev} dev of {n}"


# -- the gate -----------------------------------------------------------------------------

BOUNDS = load_devset_bounds()
GATED = [(name, metric) for name in sorted(BOUNDS) for metric in sorted(BOUNDS[name])]


def test_every_set_is_gated() -> None:
    assert set(BOUNDS) == set(SETS)
    for name in SETS:
        assert BOUNDS[name].get("quote_exactness") == (">=", 1.0), name


@pytest.mark.parametrize(("name", "metric"), GATED, ids=[f"{n}-{m}" for n, m in GATED])
def test_devset_metric_on_the_test_half(name: str, metric: str, devsets: DevsetRuns) -> None:
    results = devsets.results(name)
    value = by_split(results)["test"][metric]
    op, bound = BOUNDS[name][metric]
    failed = [r.id for r in results if r.split == "test" and r.failed]
    assert meets(value, op, bound), (
        f"{name} {metric} on the test half = {value}, bound {op} {bound}; failed test cases: "
        f"{', '.join(failed)} (report: {REPORTS_DIR / 'devsets.md'})"
    )


@pytest.mark.parametrize("name", sorted(SETS))
def test_every_devset_quote_is_verbatim(name: str, devsets: DevsetRuns) -> None:
    results = devsets.results(name)
    bad = [r.id for r in results if r.quotes_exact < r.quotes_total]
    assert not bad, f"inexact quotes in: {', '.join(bad)}"


def test_devset_report_is_written(devsets: DevsetRuns) -> None:
    for name in SETS:
        devsets.results(name)
    markdown = (REPORTS_DIR / "devsets.md").read_text(encoding="utf-8")
    for name in SETS:
        assert f"### {name}:" in markdown
    assert "Per kind" in markdown and "lost: selection" in markdown
