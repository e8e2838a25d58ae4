"""The RESULTS.md parts of the speaker answers (``benchmarks/speakers.py``, issue 20)."""

from __future__ import annotations

from typing import Any

from benchmarks.report_table import _table as table
from benchmarks.report_table import _verdict

POSITIONS_P50_MS = 1500.0
COMPARE_P50_MS = 300.0


def speakers_targets(results: dict[str, Any]) -> list[list[Any]]:
    data = results.get("speakers")
    if not data:
        return []
    kinds = data["kinds"]
    who = f"{data['speakers']} speakers of sotu/"
    rows = []
    if "positions" in kinds:
        p50 = kinds["positions"]["p50_ms"]
        rows.append(
            [
                f"positions over {who} p50 <= 1.5 s (warm)",
                f"{p50:,.0f} ms",
                _verdict(p50 <= POSITIONS_P50_MS),
            ]
        )
    if "compare" in kinds:
        p50 = kinds["compare"]["p50_ms"]
        rows.append(
            [
                "two-speaker comparison p50 <= 300 ms (warm)",
                f"{p50:,.0f} ms",
                _verdict(p50 <= COMPARE_P50_MS),
            ]
        )
    return rows


def render_speakers(data: dict[str, Any] | None) -> list[str]:
    if not data:
        return []
    out = [
        "## Speaker answers: positions, comparisons, timelines (sotu/, whole folder)",
        "",
        f"Ran {data['ran']}; load average {data['load_before']} before, {data['load_after']} "
        f"after. {data['statements']} addresses by {data['speakers']} presidents, "
        f"{data['passages']:,} passages (ingest, or its check when `BENCH_SOTU_HOME` kept the "
        f"store: {data['ingest_s']} s); every question answered once unmeasured, then "
        f"{data['rounds']} rounds.",
        "",
    ]
    refused = [q for k in data["kinds"].values() for q in k.get("refused", [])]
    if refused:
        out += [
            f"Refused (a name two presidents of the whole folder share; the gate's 1945-2018 "
            f"slice has one): {'; '.join(refused)}.",
            "",
        ]
    rows = []
    for kind, k in data["kinds"].items():
        stages = k["stages_p50_ms"]
        rows.append(
            [
                kind,
                k["questions"],
                f"{k['p50_ms']:,.0f}",
                f"{k['p95_ms']:,.0f}",
                ", ".join(
                    f"{s} {stages[s]:,.0f}" for s in ("retrieve", "score", "rerank") if s in stages
                ),
            ]
        )
    out += table(["kind", "questions", "p50 ms", "p95 ms", "stages p50 ms"], rows)
    return [*out, ""]
