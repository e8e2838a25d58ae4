"""The development-set part of the eval report: per set, per split and per kind.

Written to ``evals/reports/devsets.{md,json}`` and appended as a section to
``evals/reports/latest.md`` (replacing the section of an earlier run).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evals.devsets import SETS
from evals.devsets.results import DevResult
from evals.devsets.scoring import (
    METRICS,
    SPLIT_NAMES,
    STAGES,
    TARGETS,
    by_kind,
    by_split,
    meets,
    scoring_rules,
)
from evals.devsets.speakers import speaker_rules

MARKER = "<!-- development sets: written by evals/devsets/report.py -->"
KIND_COLUMNS = (
    "retrieval_recall_at_8",
    "retrieval_recall_at_20",
    "evidence_at_1",
    "evidence_at_3",
    "abstention_recall",
    "false_abstention_rate",
    "speaker_recall",
    "speaker_precision",
    "both_sides",
    "timeline_right",
    "resolution_right",
    "standalone_merged",
)
SHORT = {
    "retrieval_recall_at_8": "R@8",
    "retrieval_recall_at_20": "R@20",
    "evidence_at_1": "E@1",
    "evidence_at_3": "E@3",
    "abstention_recall": "abst. recall",
    "false_abstention_rate": "false abst.",
    "speaker_recall": "spk recall",
    "speaker_precision": "spk prec.",
    "both_sides": "both sides",
    "timeline_right": "timeline",
    "resolution_right": "resolved",
    "standalone_merged": "merged",
}


def _num(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_num(c) for c in row) + " |" for row in rows]
    return lines


def _clip(text: str, limit: int = 90) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(results: Sequence[DevResult]) -> dict[str, Any]:
    """The figures of one set: per split, per kind and split, targets."""
    return {"splits": by_split(results), "kinds": by_kind(results)}


def render_set(name: str, results: Sequence[DevResult]) -> str:
    data = summary(results)
    splits, kinds = data["splits"], data["kinds"]
    out = [f"### {name}: {SETS[name].description}", ""]
    out += ["Targets of issues 12, 20 and 21 (dev and test parts; tune on dev only):", ""]
    rows = []
    for metric, (op, bound) in TARGETS.get(name, {}).items():
        dev, test = splits["dev"][metric], splits["test"][metric]
        ok = "yes" if meets(test, op, bound) else "no"
        rows.append([metric, f"{op} {bound}", dev, test, ok])
    out += [*_table(["metric", "target", "dev", "test", "met on test"], rows), ""]
    out += ["Every metric per split:", ""]
    keys = ["cases", "answerable", "unanswerable", *METRICS, "correct"]
    keys += [f"lost_{s}" for s in STAGES]
    out += _table(
        ["metric", *SPLIT_NAMES], [[k] + [splits[s][k] for s in SPLIT_NAMES] for k in keys]
    )
    out += ["", "Per kind (lost = failed cases by the stage that lost them):", ""]
    header = [
        "kind",
        "split",
        "cases",
        *(SHORT[c] for c in KIND_COLUMNS),
        *(f"lost: {s}" for s in STAGES),
    ]
    rows = [
        [kind, split, table[split]["cases"], *(table[split][c] for c in KIND_COLUMNS)]
        + [table[split][f"lost_{s}"] for s in STAGES]
        for kind, table in kinds.items()
        for split in SPLIT_NAMES
        if table[split]["cases"]
    ]
    out += [*_table(header, rows), ""]
    failed = [r for r in results if r.failed]
    out += [f"Failed cases ({len(failed)}; split, stage, first quote):", ""]
    for r in failed:
        first = "(abstained)" if r.abstained or not r.quotes else _clip(r.quotes[0].text, 70)
        out.append(f"- `{r.id}` [{r.split}, {r.stage}] {_clip(r.question, 80)} → {first}")
    return "\n".join(out)


def render(results_by_set: Mapping[str, Sequence[DevResult]]) -> str:
    out = [MARKER, "", "## Development sets", ""]
    out += [
        "Real text nobody on the team wrote (evals/devsets/). Each set is split into a fixed",
        "dev and test half by a stable hash of the case id; floors are set from the test half.",
        "",
        "Matching rules:",
        "",
        *scoring_rules(),
        *speaker_rules(),
        "",
        "Stages: a failed answerable case is lost at `retrieval` when `search` (k=20) does",
        "not return the evidence, else at `abstention` when the answer abstained, else at",
        "`selection` (retrieved, answered, but not in the first 3 quotes); an unanswerable",
        "case that is answered is lost at `abstention`. A positions, timeline or compare",
        "case whose speakers are wrong is lost at `grouping`; a follow-up understood wrong",
        "at `planning`.",
        "",
        "Known limits: squad's short answers (e.g. a single word) match many passages, so its",
        "retrieval recall is lenient; positions cases count in the speaker metrics only.",
        "",
        "Metrics:",
        "",
        *(f"- **{m}**: {text}" for m, text in METRICS.items()),
        "",
    ]
    for name, results in results_by_set.items():
        out += [render_set(name, results), ""]
    return "\n".join(out)


def write(results_by_set: Mapping[str, Sequence[DevResult]], directory: Path) -> Path:
    """devsets.md and devsets.json in ``directory``; the section in latest.md updated."""
    directory.mkdir(parents=True, exist_ok=True)
    markdown = render(results_by_set)
    (directory / "devsets.md").write_text(markdown + "\n", encoding="utf-8")
    data = {
        name: {**summary(results), "results": [r.record() for r in results]}
        for name, results in results_by_set.items()
    }
    (directory / "devsets.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    latest = directory / "latest.md"
    if latest.exists():
        text = latest.read_text(encoding="utf-8").split(MARKER)[0].rstrip()
        latest.write_text(text + "\n\n" + markdown + "\n", encoding="utf-8")
    return directory / "devsets.md"
