"""Fit the rerank weight and the abstention floor on the dev halves of the eval sets.

    python -m evals.fit_policy            # print the grid's best, write nothing
    python -m evals.fit_policy --write    # ... and write rag/data/fitted_policy.json

Only dev cases are read (``evals.devsets.split_of``; the bundled cases are split the same
way): the test halves stay unseen, and the gate reports on them. Each single question
(no comparison, no history) is planned, retrieved and scored by the real pipeline with the
cross-encoder reading the best ``MAX_TOP`` sentences at weight 0; the answer's choice is
then replayed for every grid point:

- ranking: ``score + weight · sigmoid(logit)`` for the sentences the cross-encoder read;
- abstention: the best evidence among the top five below ``min_score``, or the best logit
  below ``floor``;
- right: an answerable case with its evidence in one of the top three sentences and no
  abstention; an unanswerable case that abstains.

The objective is the mean, over the sets, of (answerable right + unanswerable right)/2,
under a ceiling of 2.5% false abstentions in every set (half the issue's 5% bound, as a
margin for sets the fit never saw) and a floor on the share of shown quotes that hold
evidence (at most 0.05 below today's). A point with a rerank weight reads every one of its
``top`` pairs on every question; it is chosen only when it beats the best weight-0 point
(which stops at the first sentence over the floor) by more than ``READ_ALL_MIN_GAIN``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import pickle
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from evals.cases import Case, load_cases
from evals.devsets import SETS, split_of
from evals.devsets.scoring import Located, locate
from evals.harness import ingested_services
from ingest.pipeline import BUNDLED_CORPUS
from rag.models import Filters
from rag.policy import FITTED_PATH
from rag.service import Services
from rag.settings import Settings
from rag.stages.retrieve import restrict
from rag.stages.score import ScoredSentence

logger = logging.getLogger(__name__)

MAX_TOP = 16
GROUPED_KINDS = frozenset({"compare", "positions", "timeline"})
GROUP_KEYS = ("group_", "positions_")
WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0)
TOPS = (4, 8, 12, 16)
FLOORS = tuple(x / 2 for x in range(-24, -1))  # -12.0 … -1.0
CUTOFFS = (0.88, 0.8, 0.7, 0.6)
SHARES = (0.8, 0.6, 0.4)
# The bound is 5% false abstentions; a dev half has ~45 answerable questions per
# set (one question = 2.2%), so the fit keeps half the bound as a margin for unseen sets.
FALSE_ABSTENTION_CEILING = 0.025
PRECISION_LOSS = 0.05
# At weight 0 the cross-encoder stops at the first sentence that reaches the floor (one
# pair, ~5 ms, for most answered questions); a weight makes it read all ``top`` pairs on
# every question, which alone takes most of issue 14's budget (a warm answer <= 10x one
# query embedding, ~26 ms here). A weighted point must beat the best weight-0 point by
# more than about one dev question per set to be worth that.
READ_ALL_MIN_GAIN = 0.01


def holds_evidence(located: Located, s: ScoredSentence, sentence: str) -> bool:
    """Whether a candidate sentence shows the case's evidence (an answer string, or an
    overlap with a gold span of its statement)."""
    low = sentence.lower()
    return any(a in low for a in located.answers) or any(
        side.statement_id == s.statement_id and s.start < b and a < s.end
        for side in located.sides
        for a, b in side.spans
    )


def _single(case: Case) -> bool:
    return not case.history and case.kind not in GROUPED_KINDS


def eval_sets() -> dict[str, tuple[Sequence[Path], Sequence[Case]]]:
    """Every set to fit or measure on: the dev sets and the bundled cases."""
    sets: dict[str, tuple[Sequence[Path], Sequence[Case]]] = {}
    for name, devset in SETS.items():
        cases = devset.cases()
        if any(_single(c) for c in cases):  # not sotu: its questions are grouped ones
            sets[name] = (devset.files, cases)
    sets["bundled"] = ([BUNDLED_CORPUS], load_cases())
    return sets


@dataclass(frozen=True)
class Row:
    score: float
    evidence: float
    cross: float | None
    label: bool


@dataclass(frozen=True)
class Sample:
    set_name: str
    answerable: bool
    rows: tuple[Row, ...]  # best base score first


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def collect(services: Services, set_name: str, cases: Sequence[Case]) -> list[Sample]:
    """Scored sentences of every dev single question, labelled by its evidence."""
    answerer = services.answerer
    answerer.reranker.read_all = True  # every logit of the top, not only up to the floor
    texts: dict[str, str] = {}

    def text_of(sid: str) -> str:
        if sid not in texts:
            texts[sid] = services.store.statement(sid).text or ""
        return texts[sid]

    samples = []
    for case in cases:
        if split_of(case) != "dev" or not _single(case):
            continue
        ctx = answerer._context(case.question, Filters(**case.filters), (), case.compare)
        if ctx.plan.mode != "answer":  # grouped answers: evals.fit_groups
            continue
        ids = restrict(ctx.plan.scope, ctx.snapshot)
        scored, _ = answerer._find(
            ctx, ids, answerer.policy.passages_k, ctx.plan.retrieval_text, MAX_TOP
        )
        located = locate(case, text_of)
        rows = []
        for s in sorted(scored, key=lambda s: -s.score):
            label = holds_evidence(located, s, text_of(s.statement_id)[s.start : s.end])
            rows.append(Row(s.score, s.evidence, s.features.cross, label))
        samples.append(Sample(set_name, case.answerable, tuple(rows)))
    return samples


@dataclass(frozen=True)
class Point:
    """One set of numbers to try."""

    weight: float
    top: int
    floor: float
    cutoff: float  # relative_cutoff
    share: float  # relative_evidence


BASELINE = Point(weight=0.0, top=8, floor=-1000.0, cutoff=0.88, share=0.8)


def replay(sample: Sample, p: Point, min_score: float) -> tuple[bool, bool, float]:
    """(abstained, evidence among the first three quotes, share of the quotes that hold
    evidence) with the numbers of ``p``, as the select stage picks them (the merging of
    neighbours aside)."""
    rows = sample.rows
    new = [
        r.score + (p.weight * _sigmoid(r.cross) if i < p.top and r.cross is not None else 0.0)
        for i, r in enumerate(rows)
    ]
    order = sorted(range(len(rows)), key=lambda i: -new[i])
    crosses = [r.cross for r in rows[: p.top] if r.cross is not None]
    best = max((rows[i].evidence for i in order[:5]), default=0.0)
    if not order or best < min_score or (crosses and max(crosses) < p.floor):
        return True, False, 0.0
    floor = new[order[0]] * p.cutoff
    evidence_floor = max(min_score * 0.9, best * p.share)
    picked = [i for i in order if new[i] >= floor and rows[i].evidence >= evidence_floor][:4]
    precision = sum(rows[i].label for i in picked) / max(1, len(picked))
    return False, any(rows[i].label for i in picked[:3]), precision


def figures(samples: Sequence[Sample], p: Point, min_score: float) -> dict[str, dict[str, float]]:
    """Per set: answerable right, unanswerable right (abstained), false abstentions."""
    per_set: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(s.set_name for s in samples):
        mine = [(s.answerable, replay(s, p, min_score)) for s in samples if s.set_name == name]
        answerable = [r for a, r in mine if a]
        unanswerable = [r for a, r in mine if not a]
        answered = [r for r in answerable if not r[0]]
        per_set[name] = {
            "answerable_right": sum(r[1] for r in answerable) / max(1, len(answerable)),
            "unanswerable_right": sum(r[0] for r in unanswerable) / max(1, len(unanswerable)),
            "false_abstention": sum(r[0] for r in answerable) / max(1, len(answerable)),
            "quote_precision": sum(r[2] for r in answered) / max(1, len(answered)),
        }
    return per_set


def evaluate(
    samples: Sequence[Sample],
    p: Point,
    min_score: float,
    ceilings: dict[str, float],
    floors: dict[str, float],
) -> tuple[float, dict[str, dict[str, float]]]:
    """The objective (-1 when a set's false abstentions exceed its ceiling, or its quote
    precision falls below its floor) and the figures."""
    per_set = figures(samples, p, min_score)
    if any(v["false_abstention"] > ceilings[k] + 1e-9 for k, v in per_set.items()):
        return -1.0, per_set
    if any(v["quote_precision"] < floors[k] - 1e-9 for k, v in per_set.items()):
        return -1.0, per_set
    objective = sum(
        (v["answerable_right"] + v["unanswerable_right"]) / 2 for v in per_set.values()
    ) / len(per_set)
    return objective, per_set


def fit(samples: Sequence[Sample], min_score: float) -> dict[str, object]:
    """The grid's best point. Per set: false abstentions at most 5% (or the set's own rate
    today when that is already higher), and quote precision (the share of shown quotes
    that hold evidence) at most PRECISION_LOSS below today's. A weighted point only when it
    beats the best weight-0 point by more than READ_ALL_MIN_GAIN."""
    base_sets = figures(samples, BASELINE, min_score)
    ceilings = {
        k: max(FALSE_ABSTENTION_CEILING, v["false_abstention"]) for k, v in base_sets.items()
    }
    floors = {k: v["quote_precision"] - PRECISION_LOSS for k, v in base_sets.items()}
    best: tuple[tuple[float, ...], Point] | None = None
    scored: list[tuple[tuple[float, ...], Point]] = []
    for weight in WEIGHTS:
        for top in TOPS:
            for floor in FLOORS:
                for cutoff in CUTOFFS:
                    for share in SHARES:
                        p = Point(weight, top, floor, cutoff, share)
                        value, _ = evaluate(samples, p, min_score, ceilings, floors)
                        # ties: fewer pairs read, the lower floor, the stricter selection
                        key = (round(value, 6), -top, -floor, cutoff, share)
                        scored.append((key, p))
                        if best is None or key > best[0]:
                            best = (key, p)
    assert best is not None
    point = best[1]
    if point.weight > 0:
        early = max((item for item in scored if item[1].weight == 0.0), key=lambda i: i[0])
        if best[0][0] - early[0][0] <= READ_ALL_MIN_GAIN:
            point = early[1]
    value, per_set = evaluate(samples, point, min_score, ceilings, floors)
    baseline, _ = evaluate(samples, BASELINE, min_score, ceilings, floors)

    def rounded(sets: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {k: {m: round(x, 3) for m, x in v.items()} for k, v in sets.items()}

    return {
        "rerank_weight": point.weight,
        "rerank_top": point.top,
        "rerank_floor": point.floor,
        "relative_cutoff": point.cutoff,
        "relative_evidence": point.share,
        "objective": round(value, 4),
        "objective_without_rerank": round(baseline, 4),
        "dev_figures": rounded(per_set),
        "dev_figures_without_rerank": rounded(base_sets),
    }


def _with_settings(services: Services, settings: Settings) -> Services:
    """The same store and embedder, answered with ``settings`` (weight 0, no floor)."""
    from rag.service import build_services

    return build_services(settings, embedder=services.embedder)


def collect_all() -> list[Sample]:
    """Every set ingested into a temporary folder, its dev questions collected."""
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="rag-fit-") as tmp:
        for name, (files, cases) in eval_sets().items():
            home = Path(tmp) / name
            services = ingested_services(home, files)
            settings = Settings(home=home, rerank_weight=0.0, rerank_floor=-1000.0)
            samples += collect(_with_settings(services, settings), name, cases)
            count = sum(s.set_name == name for s in samples)
            print(f"{name}: {count} dev questions", file=sys.stderr)
    return samples


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fit_policy", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {FITTED_PATH.name}")
    parser.add_argument("--samples", type=Path, help="keep the collected samples in this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.samples and args.samples.exists():
        samples = pickle.loads(args.samples.read_bytes())
    else:
        samples = collect_all()
        if args.samples:
            args.samples.write_bytes(pickle.dumps(samples))
    result = fit(samples, Settings().min_score)
    result.update(
        fitted_on=f"{date.today().isoformat()}: dev halves of debates2019, squad2 and the "
        "bundled cases (single questions; split by evals.devsets.split_of)",
        samples=len(samples),
    )
    print(json.dumps(result, indent=2))
    if args.write:  # the grouping numbers (evals.fit_groups) are kept
        kept = json.loads(FITTED_PATH.read_text(encoding="utf-8"))
        result = {**{k: v for k, v in kept.items() if k.startswith(GROUP_KEYS)}, **result}
        FITTED_PATH.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"written: {FITTED_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
