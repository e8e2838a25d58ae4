"""RESULTS.md parts for issue 14: ingest on the real corpora (throughput, where time goes),
answer latency per question kind on them."""

from __future__ import annotations

from typing import Any

from benchmarks.report_table import _table, _verdict

ANSWER_TO_FLOOR = 10.0  # a warm answer <= 10x one bare query embedding (issue 14)


def ingest_targets(results: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    ing = results.get("ingest")
    for run in ing["runs"] if ing else ():
        r = run["ratio_ingest_to_raw"]
        rows.append(
            [f"ingest >= 0.9x raw model.encode ({run['corpus']})", f"{r:.2f}x", _verdict(r >= 0.9)]
        )
        c = run.get("ratio_cpu_1_thread")
        if c is not None:
            rows.append(["  same in CPU seconds, 1 torch thread", f"{c:.2f}x", _verdict(c >= 0.9)])
    return rows


def devsets_targets(results: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    dev = results.get("devsets")
    for s in dev["sets"] if dev else ():
        a = s["kinds"]["all"]
        worst = max(
            (k for k in s["kinds"] if k != "all"),
            key=lambda k: s["kinds"][k]["ratio_p50_to_floor_onnx"],
        )
        w = s["kinds"][worst]
        rows.append(
            [
                f"warm answer <= {ANSWER_TO_FLOOR:.0f}x one bare query embedding ({s['set']}, "
                "p50, ONNX floor)",
                f"{a['ratio_p50_to_floor_onnx']:.2f}x (worst kind {worst}: "
                f"{w['ratio_p50_to_floor_onnx']:.2f}x)",
                _verdict(w["ratio_p50_to_floor_onnx"] <= ANSWER_TO_FLOOR),
            ]
        )
    return rows


def render_ingest(ing: dict[str, Any] | None) -> list[str]:
    if not ing:
        return []
    out = ["## 2. Ingest throughput", "", f"Ran {ing['ran']}.", ""]
    rows = []
    for r in ing["runs"]:
        cpu, cpu1 = r.get("cpu_s", {}), r.get("cpu_1_thread_s", {})
        rows.append(
            [
                r["corpus"],
                r["passages"],
                r["ingest_s"],
                r.get("ingest_serial_s"),
                r["raw_encode_s"],
                f"{r['ratio_ingest_to_raw']:.2f}x",
                f"{r['ratio_serial_to_raw']:.2f}x" if "ratio_serial_to_raw" in r else "–",
                f"{cpu.get('overlap', '–')} / {cpu.get('serial', '–')} / {cpu.get('raw', '–')}",
                f"{cpu1.get('overlap', '–')} / {cpu1.get('serial', '–')} / {cpu1.get('raw', '–')}",
                f"{r['ratio_cpu_1_thread']:.2f}x" if "ratio_cpu_1_thread" in r else "–",
                r["embed_passages_per_s"],
                f"{r['load']} / {r.get('load_1_thread', '–')}",
            ]
        )
    out += _table(
        [
            "corpus",
            "passages",
            "Ingestor s (writer thread)",
            "Ingestor s (no writer thread)",
            "raw encode s",
            "ratio",
            "ratio, no writer thread",
            "CPU s, 2 threads: ingest / no writer / raw",
            "CPU s, 1 torch thread: ingest / no writer / raw",
            "CPU-time ratio, 1 thread (no writer)",
            "embed_passages passages/s",
            "load (2 threads / 1 thread)",
        ],
        rows,
    )
    out += [
        "ratio = raw `model.encode` time / Ingestor time on the same passage texts (model "
        "preloaded for both; raw encode before and after each pair of ingests, medians of the "
        "repeats). The CPU columns are process CPU seconds (all threads); with torch on one "
        "thread they are what other jobs on the cores barely move. `embed_passages` = the "
        "project's encode (passage vectors + per-sentence vectors) of all passages in one "
        "call, without files or Chroma. The real corpora are read in place from "
        "`evals/devsets/` (their `.txt` statements with the `statements.json` sidecar).",
        "",
    ]
    for prof in ing.get("profile", []):
        out += [
            f"**Where ingest time goes** ({prof['corpus']}, {prof['passages']:,} passages; "
            "torch on one thread, no writer thread, so every part is on one thread and its "
            "CPU seconds add up; Chroma's own worker threads are not in its CPU column): "
            f"{prof['ingest_wall_s']} s wall, {prof['ingest_cpu_s']} CPU s; "
            f"load {prof['load']} -> {prof['load_after']}.",
            "",
        ]
        out += _table(
            ["part", "wall s", "CPU s", "share of ingest CPU"],
            [
                [
                    p["label"],
                    f"{p['wall_s']:.2f}",
                    f"{p['cpu_s']:.2f}",
                    "–" if p["share_of_ingest_cpu"] is None else f"{p['share_of_ingest_cpu']:.0%}",
                ]
                for p in prof["parts"]
            ],
        )
    return out


def render_devsets(dev: dict[str, Any] | None) -> list[str]:
    if not dev:
        return []
    out = [
        "## 1b. Warm answer latency per question kind (real corpora, evals/devsets)",
        "",
        f"Every case x {dev['rounds']} rounds, each answer bracketed by the floor (one bare "
        "query embedding of the same question) in rotating order; ran "
        f"{dev['ran']}, load {dev['load_before']} -> {dev['load_after']}. The same answerer "
        "without its cross-encoder (when it has one) runs interleaved with them; the rerank "
        "stage is the answer's own `timings_ms['rerank']`.",
        "",
    ]
    for s in dev["sets"]:
        out += [
            f"**{s['set']}** ({s['statements']} statements, {s['cases']} cases, questions "
            f"through {s['query_backend']}; ingest {s['ingest_s']} s, first pass over all "
            f"cases {s['warm_up_s']} s).",
            "",
        ]
        out += _table(
            [
                "kind",
                "n",
                "p50 ms",
                "p95 ms",
                "CPU p50 ms",
                "floor ONNX p50 ms",
                "floor ST p50 ms",
                "p50 / ONNX floor",
                "p50 / ST floor",
                "rerank stage p50 / p95 ms",
                "without cross-encoder p50 / p95 ms",
            ],
            [
                [
                    kind,
                    k["n"],
                    k["p50_ms"],
                    k["p95_ms"],
                    k["cpu_p50_ms"],
                    k["floor_onnx_p50_ms"],
                    k["floor_st_p50_ms"],
                    f"{k['ratio_p50_to_floor_onnx']:.2f}x",
                    f"{k['ratio_p50_to_floor_st']:.2f}x",
                    f"{k.get('rerank_p50_ms', '–')} / {k.get('rerank_p95_ms', '–')}",
                    f"{k.get('no_reranker_p50_ms', '–')} / {k.get('no_reranker_p95_ms', '–')}",
                ]
                for kind, k in s["kinds"].items()
            ],
        )
    return out
