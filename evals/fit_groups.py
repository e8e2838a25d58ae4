"""Fit the speaker-grouping numbers (compare, positions, timeline) on the dev halves.

    python -m evals.fit_groups --home-debates2019 DIR --home-sotu DIR   # print the best
    python -m evals.fit_groups ... --write     # ... and add them to rag/data/fitted_policy.json

Only dev cases of the kinds ``positions``, ``compare`` and ``timeline`` are read
(``evals.devsets.split_of``). Each is planned and its candidates retrieved and scored by
the real pipeline (``SpeakerGrouping.candidates``); the cross-encoder reads each group's
best ``MAX_READ`` sentences. Each grid point is then replayed per group:

- a group addresses the topic when one of its best ``read`` sentences reaches ``floor``
  and its best evidence reaches ``min_score`` (a compared speaker: the single-question
  floor and evidence of the fitted policy, as the answerer holds it to);
- its quotes are its best sentences by score (or, ``by_cross``, the ones read ordered by
  their logit first), those with enough evidence: one or two per positions row
  (``row_quotes``), up to three per compared speaker, two per timeline entry.

The objective is the mean of positions' speaker recall and precision, compare's both
sides quoted and timelines right (``evals.devsets.speakers``' rules, on sentences), over
both sets; ties go to fewer pairs read.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import product
from pathlib import Path

from evals.cases import Case
from evals.devsets import SETS, split_of
from evals.devsets.results import Shown
from evals.devsets.run import devset_services, speeches_of
from evals.devsets.speakers import Spans, Speech, locate_evidence, shows
from rag.models import Filters
from rag.policy import FITTED_PATH, ScoringPolicy
from rag.service import Services
from rag.settings import Settings
from rag.stages.context import RequestContext

logger = logging.getLogger(__name__)

KINDS = ("positions", "compare", "timeline")
MAX_READ = 4
FLOORS = tuple(x / 2 for x in range(-23, -3))  # -11.5 … -2.0
READS = (1, 2, 3, 4)
MIN_SCORES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
ROW_QUOTES = (1, 2)


@dataclass(frozen=True)
class Candidate:
    score: float
    evidence: float
    cross: float | None
    shows: bool  # overlaps the case's evidence for this group
    text: str = ""


@dataclass(frozen=True)
class GroupSample:
    set_name: str
    case_id: str
    kind: str
    key: str
    addresses: bool  # the gold says this group addresses the topic
    expected: bool  # positions: states a position; compare/timeline: a gold side
    candidates: tuple[Candidate, ...]  # best score first


def _spans(
    case: Case, key: str, speeches: dict[str, Speech], text_of: Callable[[str], str]
) -> Spans:
    """Where ``case``'s evidence for group ``key`` is (a speaker, or a timeline's statement)."""
    if case.kind == "positions":
        evidence = [ev for p in case.positions if p.speaker == key for ev in p.evidence]
        ids = [sid for sid, s in speeches.items() if s.speaker == key]
    elif case.kind == "compare":
        ids = [g.statement_id for g in case.gold if speeches[g.statement_id].speaker == key]
        evidence = [ev for g in case.gold if g.statement_id in ids for ev in g.evidence]
    else:
        ids = [key]
        evidence = [ev for g in case.gold if g.statement_id == key for ev in g.evidence]
    return locate_evidence(evidence, ids, text_of)


def collect(services: Services, set_name: str, cases: Sequence[Case]) -> list[GroupSample]:
    """Every group of every dev case, with its best candidates read by the cross-encoder."""
    answerer = services.answerer
    grouping = answerer.grouping
    reranker = grouping.reranker
    assert reranker is not None, "fitting needs the cross-encoder"
    speeches = speeches_of(services)
    texts: dict[str, str] = {}

    def text_of(sid: str) -> str:
        if sid not in texts:
            texts[sid] = services.store.statement(sid).text or ""
        return texts[sid]

    samples: list[GroupSample] = []
    for case in cases:
        plan = answerer.planner.run(case.question, Filters(**case.filters))
        if plan.mode != case.kind:
            logger.info("%s read as %s, not %s", case.id, plan.mode, case.kind)
            continue
        ctx = RequestContext(plan, answerer.catalog.snapshot())
        topic = plan.retrieval_text
        found = grouping.candidates(ctx, plan.mode, topic, plan.sides)
        addressing = {p.speaker for p in case.positions} | set(case.mentions)
        gold = {g.statement_id for g in case.gold}
        gold_speakers = {speeches[sid].speaker for sid in gold}
        for key, scored in found.groups.items():
            spans = _spans(case, key, speeches, text_of)
            rows = []
            for i, s in enumerate(scored[:8]):
                text = ctx.texts[s.statement_id]
                cross = (
                    float(reranker.score(topic, [text[s.start : s.end]])[0])
                    if i < MAX_READ
                    else None
                )
                shown = Shown(s.statement_id, s.paragraph, s.start, s.end, "", s.score)
                sentence = text[s.start : s.end]
                rows.append(Candidate(s.score, s.evidence, cross, shows(shown, spans), sentence))
            if case.kind == "positions":
                addresses, expected = key in addressing, key in {p.speaker for p in case.positions}
            elif case.kind == "compare":
                addresses = expected = key in gold_speakers
            else:
                addresses = expected = key in gold
            samples.append(
                GroupSample(set_name, case.id, case.kind, key, addresses, expected, tuple(rows))
            )
    return samples


@dataclass(frozen=True)
class Point:
    floor: float
    read: int
    min_score: float
    by_cross: bool
    row_quotes: int = 1  # positions: quotes per speaker


def _quotes(group: GroupSample, p: Point, n: int) -> list[Candidate] | None:
    """The group's quotes under ``p`` (None: it does not address the topic)."""
    rows = list(group.candidates)
    if not rows:
        return None
    head = rows[: p.read]
    if not any(c.cross is not None and c.cross >= p.floor for c in head):
        return None
    best = max(c.evidence for c in rows[:5])
    if best < p.min_score:
        return None
    if p.by_cross:
        rows = sorted(head, key=lambda c: -(c.cross or 0.0)) + rows[p.read :]
    floor = max(p.min_score * 0.9, best * 0.8)
    return [c for c in rows if c.evidence >= floor][:n]


def replay(
    samples: Sequence[GroupSample], p: Point, single: tuple[float, float] = (-8.0, 0.275)
) -> dict[str, float]:
    """The figures of one grid point over ``samples`` (``single``: the single-question
    floor and evidence, which a compared side is held to)."""
    hits = expected = rows = relevant = 0
    sides: dict[str, list[bool]] = {}
    timelines: dict[str, list[tuple[bool, bool]]] = {}
    for g in samples:
        if g.kind == "positions":
            quotes = _quotes(g, p, p.row_quotes)
            expected += g.expected
            if quotes is not None:
                rows += 1
                relevant += g.addresses
                hits += bool(g.expected and any(q.shows for q in quotes))
        elif g.kind == "compare":  # a named side is silent as a plain question abstains
            quotes = _quotes(g, replace(p, floor=single[0], min_score=single[1]), 3)
            if g.expected:
                shown = any(q.shows for q in quotes or ())
                sides.setdefault(g.case_id, []).append(shown)
        else:
            quotes = _quotes(g, p, 2)
            if quotes is not None:
                timelines.setdefault(g.case_id, []).append(
                    (g.addresses, any(q.shows for q in quotes))
                )
    recall = hits / expected if expected else 0.0
    precision = relevant / rows if rows else 1.0
    both = sum(all(v) for v in sides.values()) / len(sides) if sides else 0.0
    cases = {g.case_id for g in samples if g.kind == "timeline"}
    right = sum(
        len(timelines.get(c, [])) >= 2 and any(ok for _, ok in timelines.get(c, [])) for c in cases
    )
    timeline = right / len(cases) if cases else 0.0
    return {
        "speaker_recall": round(recall, 4),
        "speaker_precision": round(precision, 4),
        "both_sides": round(both, 4),
        "timeline_right": round(timeline, 4),
        "objective": round((recall + precision + both + timeline) / 4, 4),
    }


def fit(
    samples: Sequence[GroupSample], single: tuple[float, float] = (-8.0, 0.275)
) -> tuple[Point, dict[str, float]]:
    best: tuple[tuple[float, int], Point, dict[str, float]] | None = None
    grid = product(FLOORS, READS, MIN_SCORES, (False, True), ROW_QUOTES)
    for floor, read, min_score, by_cross, row_quotes in grid:
        point = Point(floor, read, min_score, by_cross, row_quotes)
        figures = replay(samples, point, single)
        key = (figures["objective"], -read)
        if best is None or key > best[0]:
            best = (key, point, figures)
    assert best is not None
    return best[1], best[2]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fit_groups", description=__doc__)
    for name in ("debates2019", "sotu"):
        parser.add_argument(f"--home-{name}", type=Path, required=True, help="ingested home")
    parser.add_argument("--write", action="store_true", help=f"update {FITTED_PATH.name}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    samples: dict[str, list[GroupSample]] = {"dev": [], "test": []}
    for name in ("debates2019", "sotu"):
        devset = SETS[name]
        services = devset_services(getattr(args, f"home_{name.replace('-', '_')}"), devset)
        cases = [c for c in devset.cases() if c.kind in KINDS]
        for split in samples:
            chosen = [c for c in cases if split_of(c) == split]
            samples[split] += collect(services, name, chosen)
    policy = ScoringPolicy.from_settings(Settings())
    single = (policy.rerank_floor, policy.min_score)
    point, dev = fit(samples["dev"], single)
    test = replay(samples["test"], point, single)
    report = {"point": vars(point), "dev": dev, "test": test}
    sys.stdout.write(json.dumps(report, indent=1) + "\n")
    if args.write:
        data = json.loads(FITTED_PATH.read_text(encoding="utf-8"))
        data.update(
            group_floor=point.floor,
            group_read=point.read,
            group_min_score=point.min_score,
            group_by_cross=point.by_cross,
            positions_quotes=point.row_quotes,
            group_dev_figures=dev,
        )
        FITTED_PATH.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
