"""The eval report: JSON for tools, Markdown for people, and the diff with the baseline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.cases import EVALS_DIR
from evals.metrics import (
    EVIDENCE_TOP,
    METRICS,
    REPORTED_ONLY,
    CaseResult,
    aggregate,
    by_kind,
    check_metrics,
)

BASELINE_PATH = EVALS_DIR / "baseline.json"
REPORTS_DIR = EVALS_DIR / "reports"

# per-case fields compared with the baseline; all are "higher is better"
COMPARED = (
    "abstained_correctly",
    "evidence_hit",
    "statements_covered",
    "quotes_exact",
    "recall_at_8",
    "reciprocal_rank",
    "citation_precision",
)
KIND_NOTES = {
    "fact": "a fact stated plainly in one statement",
    "paraphrase": "the question shares few words with the text",
    "name_number": "asks for a name, a number or a date",
    "both": "the answer is in both statements",
    "compare": "asks how the statements differ",
    "followup": "a follow-up that only makes sense after the previous questions",
    "filtered": "asked with a filter (statement, organization or date range)",
    "unanswerable": "the statements do not answer it: the system must abstain",
}


def case_record(result: CaseResult) -> dict[str, Any]:
    """What the baseline keeps of a case: the scores, and where its quotes came from."""
    return {
        "kind": result.kind,
        "abstained": result.abstained,
        "abstained_correctly": result.abstained == (not result.answerable),
        "evidence_hit": result.evidence_hit,
        "statements_covered": result.statements_covered,
        "recall_at_8": result.recall_at_k,
        "reciprocal_rank": result.reciprocal_rank,
        "citation_precision": (
            round(result.cited_correct / result.cited_total, 4) if result.cited_total else None
        ),
        "quotes_exact": result.quotes_exact == result.quotes_total,
        "cited": [f"{q.statement_id} ¶{q.paragraph} [{q.start}:{q.end}]" for q in result.citations],
        "issues": result.issues,
    }


def baseline_from(results: Sequence[CaseResult]) -> dict[str, Any]:
    """A deterministic snapshot (no timings) to commit as ``evals/baseline.json``."""
    values = aggregate(results)
    return {
        "aggregate": {k: v for k, v in values.items() if k not in REPORTED_ONLY},
        "cases": {r.id: case_record(r) for r in results},
    }


def load_baseline(path: Path = BASELINE_PATH) -> dict[str, Any] | None:
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    path.write_text(text, encoding="utf-8")


def compare_with_baseline(
    results: Sequence[CaseResult], baseline: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Which cases got better or worse than in the committed baseline, and how."""
    if baseline is None:
        return None
    old_cases: dict[str, Any] = baseline.get("cases", {})
    better: list[dict[str, Any]] = []
    worse: list[dict[str, Any]] = []
    quotes_changed: list[str] = []
    for result in results:
        old = old_cases.get(result.id)
        if old is None:
            continue
        new = case_record(result)
        changes = []
        for key in COMPARED:
            before, after = old.get(key), new.get(key)
            if before is None or after is None or before == after:
                continue
            changes.append({"field": key, "before": before, "after": after})
        if not changes:
            if old.get("cited") != new["cited"]:
                quotes_changed.append(result.id)
            continue
        ups = [c["after"] > c["before"] for c in changes]
        row: dict[str, Any] = {"id": result.id, "kind": result.kind, "changes": changes}
        if all(ups):
            better.append(row)
        else:
            row["mixed"] = any(ups)
            worse.append(row)
    old_aggregate = baseline.get("aggregate", {})
    now = {k: v for k, v in aggregate(results).items() if k not in REPORTED_ONLY}
    return {
        "aggregate": {k: {"before": old_aggregate.get(k), "after": v} for k, v in now.items()},
        "better": better,
        "worse": worse,
        "quotes_changed_only": quotes_changed,
        "new_cases": sorted({r.id for r in results} - set(old_cases)),
        "removed_cases": sorted(set(old_cases) - {r.id for r in results}),
    }


def build_report(
    results: Sequence[CaseResult],
    floors: dict[str, float],
    baseline: dict[str, Any] | None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    checks = check_metrics(results, floors)
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cases": len(results),
        "answerable": sum(r.answerable for r in results),
        "statements": labels or {},
        "passed": all(c.passed for c in checks.values()),
        "aggregate": aggregate(results),
        "floors": floors,
        "below_floor": {
            m: {"value": c.value, "floor": c.floor, "cases": c.culprits}
            for m, c in checks.items()
            if not c.passed
        },
        "by_kind": by_kind(results),
        "baseline_diff": compare_with_baseline(results, baseline),
        "failed_cases": [r.id for r in results if r.failed],
        "results": [asdict(r) for r in results],
    }


def write_report(report: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    md_path, json_path = directory / "latest.md", directory / "latest.json"
    write_json(json_path, report)
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return md_path, json_path


# -- Markdown --------------------------------------------------------------------------------


def _cell(text: object, limit: int = 0) -> str:
    value = str(text)
    if limit and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _num(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.0f}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _quoted(result: dict[str, Any]) -> str:
    if result["abstained"]:
        nearest = "; ".join(f"“{q['quote']}”" for q in result["nearest"][:1])
        return _cell(f"(abstained) nearest: {nearest}" if nearest else "(abstained)", 300)
    parts = [
        f"[{q['n']}] ¶{q['paragraph']} {q['statement_id'][:3]}: “{q['quote']}”"
        for q in result["citations"][:EVIDENCE_TOP]
    ]
    more = len(result["citations"]) - EVIDENCE_TOP
    if more > 0:
        parts.append(f"(+{more} more)")
    return _cell(" ".join(parts), 600)


def _overview(report: dict[str, Any]) -> list[str]:
    verdict = "PASS" if report["passed"] else "FAIL"
    lines = [
        "# Eval report: Statements Q&A",
        "",
        f"**{verdict}**: {report['cases']} cases ({report['answerable']} answerable, "
        f"{report['cases'] - report['answerable']} that must be refused), "
        f"{len(report['failed_cases'])} with at least one issue. "
        f"Generated {report['generated_at']} by `pytest evals/` or `python -m evals.harness`.",
        "",
        "Each case is a question written from the statements, with the paragraphs that answer "
        "it and short *evidence* strings a correct quote must contain (`evals/cases.yaml`). "
        "The system answers only with verbatim quotes, or abstains.",
        "",
    ]
    if report["statements"]:
        lines += ["Statements:"] + [
            f"- `{sid}` ({sid[:3]}): {label}" for sid, label in report["statements"].items()
        ]
        lines.append("")
    lines += ["## What the metrics mean", ""]
    lines += [f"- **{name}**: {text}" for name, text in METRICS.items()]
    lines += ["", "Kinds of case:", ""]
    lines += [f"- *{kind}*: {text}" for kind, text in KIND_NOTES.items()]
    lines += [
        "",
        "Floors live in `evals/thresholds.toml`; `pytest evals/` fails when a metric is below "
        "its floor. The baseline (`evals/baseline.json`) is refreshed with "
        "`python -m evals.harness --write-baseline`.",
    ]
    return [*lines, ""]


def _aggregate(report: dict[str, Any]) -> list[str]:
    diff = report["baseline_diff"] or {}
    before = diff.get("aggregate", {})
    rows = []
    for name, value in report["aggregate"].items():
        floor = report["floors"].get(name)
        old = before.get(name, {}).get("before")
        delta = "–" if old is None or value is None else f"{value - old:+.3f}"
        if name in REPORTED_ONLY:
            status = "reported"
        elif floor is None:
            status = "no floor"
        else:
            status = "ok" if name not in report["below_floor"] else "**BELOW FLOOR**"
        rows.append([name, _num(value), _num(floor), _num(old), delta, status])
    lines = ["## Aggregate", ""]
    lines += _table(["metric", "value", "floor", "baseline", "change", "status"], rows)
    for name, info in report["below_floor"].items():
        lines.append(
            f"- **{name}** is {_num(info['value'])} < {info['floor']}: " + "; ".join(info["cases"])
        )
    return [*lines, ""] if report["below_floor"] else lines


def _kinds(report: dict[str, Any]) -> list[str]:
    header = [
        "kind",
        "cases",
        "with issues",
        "recall@8",
        "MRR",
        "evidence",
        "coverage",
        "precision",
        "abstained",
        "p50 ms",
    ]
    rows = [
        [
            kind,
            v["cases"],
            v["failed"],
            _num(v["retrieval_recall_at_8"]),
            _num(v["retrieval_mrr"]),
            _num(v["evidence_recall"]),
            _num(v["statement_coverage"]),
            _num(v["citation_precision"]),
            _num(v["abstained"]),
            _num(v["latency_p50_ms"]),
        ]
        for kind, v in report["by_kind"].items()
    ]
    return ["## By kind of case", "", *_table(header, rows)]


def _baseline(report: dict[str, Any]) -> list[str]:
    diff = report["baseline_diff"]
    lines = ["## Compared with the baseline (`evals/baseline.json`)", ""]
    if diff is None:
        return [
            *lines,
            "No baseline committed yet: `python -m evals.harness --write-baseline`.",
            "",
        ]

    def rows(items: list[dict[str, Any]]) -> list[list[object]]:
        return [
            [
                f"`{item['id']}`",
                item["kind"],
                "; ".join(
                    f"{c['field']}: {_num(c['before'])} → {_num(c['after'])}"
                    for c in item["changes"]
                ),
            ]
            for item in items
        ]

    lines.append(f"{len(diff['better'])} case(s) better, {len(diff['worse'])} worse.")
    lines.append("")
    if diff["better"]:
        lines += ["Better:", "", *_table(["case", "kind", "changes"], rows(diff["better"]))]
    if diff["worse"]:
        lines += [
            "Worse (or mixed):",
            "",
            *_table(["case", "kind", "changes"], rows(diff["worse"])),
        ]
    for key, text in (
        ("quotes_changed_only", "Quotes changed, scores the same"),
        ("new_cases", "New cases (not in the baseline)"),
        ("removed_cases", "Cases in the baseline but no longer in the set"),
    ):
        if diff[key]:
            lines += [f"{text}: " + ", ".join(f"`{c}`" for c in diff[key]), ""]
    return lines


def _failures(report: dict[str, Any]) -> list[str]:
    failed = [r for r in report["results"] if r["issues"]]
    lines = [f"## Cases with issues ({len(failed)})", ""]
    if not failed:
        return [*lines, "None.", ""]
    lines += [
        "What was quoted: the first three quotes in answer order, as `[n] ¶paragraph "
        "statement: “quote”`; for an abstention, the nearest passage offered instead.",
        "",
    ]
    rows = []
    for r in failed:
        question = (
            r["question"]
            if not r["resolved_question"]
            else (f"{r['question']} (understood as: {r['resolved_question']})")
        )
        evidence = " / ".join(f"“{e}”" for e in r["expected_evidence"][:3]) or "(must abstain)"
        rows.append(
            [
                f"`{r['id']}`",
                r["kind"],
                _cell(question, 200),
                _cell(evidence, 250),
                _quoted(r),
                "yes" if r["abstained"] else "no",
                _cell("; ".join(r["issues"])),
            ]
        )
    header = [
        "case",
        "kind",
        "question",
        "expected evidence",
        "what was quoted",
        "abstained",
        "issues",
    ]
    return lines + _table(header, rows)


def _all_cases(report: dict[str, Any]) -> list[str]:
    rows = [
        [
            f"`{r['id']}`",
            r["kind"],
            _num(r["recall_at_k"]),
            _num(r["reciprocal_rank"]),
            _num(r["evidence_hit"]),
            _num(r["statements_covered"]),
            f"{r['cited_correct']}/{r['cited_total']}",
            "yes" if r["abstained"] else "no",
            f"{r['quotes_exact']}/{r['quotes_total']}",
            f"{r['latency_ms']:.0f}",
        ]
        for r in report["results"]
    ]
    header = [
        "case",
        "kind",
        "recall@8",
        "RR",
        "evidence",
        "all statements",
        "on-gold quotes",
        "abstained",
        "exact quotes",
        "ms",
    ]
    return ["## All cases", "", *_table(header, rows)]


def render_markdown(report: dict[str, Any]) -> str:
    lines = (
        _overview(report)
        + _aggregate(report)
        + _kinds(report)
        + _baseline(report)
        + _failures(report)
        + _all_cases(report)
    )
    return "\n".join(lines).rstrip() + "\n"
