"""Run the benchmarks, print the numbers, write ``benchmarks/RESULTS.md``.

    python -m benchmarks                                   # everything
    python -m benchmarks --only latency,onnx               # some sections
    python -m benchmarks --only scale --scale-sizes 1000,10000,100000

Sections: latency (warm answers vs the floor and plain LangChain), devsets (warm answers per
question kind on the real corpora under evals/devsets), speakers (positions over the 42
presidents of sotu/, comparisons, timelines), onnx (the ONNX query embedder gives
the same vectors, rankings and eval results), ingest (Ingestor vs raw model.encode on the
real corpora, the bundled and a synthetic set, and where ingest time goes), cold
(new-process `rag ask`, UI start, a second `make run`), scale (synthetic corpora).
Results of a partial run are merged into ``benchmarks/results.json`` so RESULTS.md always
shows the latest run of every section.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import machine, quiet
from benchmarks.report import existing_notes, render

HERE = Path(__file__).resolve().parent
SECTIONS = ("latency", "devsets", "speakers", "onnx", "ingest", "cold", "scale")


def _now() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--scale-sizes", default="1000,10000,100000")
    parser.add_argument(
        "--scale-cache",
        choices=("auto", "never", "always"),
        default="auto",
        help="reuse vectors of identical passages for sizes over the budget",
    )
    parser.add_argument(
        "--scale-budget-min",
        type=float,
        default=30.0,
        help="largest estimated real ingest (minutes) before --scale-cache auto",
    )
    parser.add_argument("--scale-rounds", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="latency rounds over the questions")
    parser.add_argument("--questions", type=int, default=None, help="use only the first N")
    parser.add_argument("--cold-runs", type=int, default=7, help="measured `rag ask` runs")
    parser.add_argument("--ui-runs", type=int, default=3, help="measured UI starts")
    parser.add_argument("--ingest-repeats", type=int, default=3)
    parser.add_argument("--devset-rounds", type=int, default=2, help="rounds over the devsets")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch space (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the scale corpora and stores")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--render", action="store_true", help="only rewrite RESULTS.md from the results file"
    )
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet()

    results: dict[str, Any] = {}
    if args.results.exists():
        results = json.loads(args.results.read_text(encoding="utf-8"))
    if args.render:
        args.out.write_text(render(results, existing_notes(args.out)), encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
        return 0
    results["machine"] = machine()
    results["date"] = dt.date.today().isoformat()
    results["command"] = "python -m benchmarks " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="statements-qa-bench-"))

    def save() -> None:
        if args.no_write:
            return
        args.results.write_text(json.dumps(results, indent=1), encoding="utf-8")
        args.out.write_text(render(results, existing_notes(args.out)), encoding="utf-8")

    for section in SECTIONS:  # a fixed order: the latency re-run at the end is separate
        if section not in only:
            continue
        started = _now()
        print(f"== {section} ({started})", file=sys.stderr, flush=True)
        data = _run(section, args, workdir)
        data["ran"] = started
        results[section] = data
        print(json.dumps({section: data}, indent=1), flush=True)
        save()
    if args.workdir is None and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    if not args.no_write:
        print(f"wrote {args.out} and {args.results}", file=sys.stderr)
    return 0


def _run(section: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    if section == "latency":
        from benchmarks import latency

        return latency.run(rounds=args.rounds, limit=args.questions)
    if section == "devsets":
        from benchmarks import devsets_latency

        return devsets_latency.run(rounds=args.devset_rounds)
    if section == "speakers":
        from benchmarks import speakers

        return speakers.run(rounds=args.devset_rounds)
    if section == "onnx":
        from benchmarks import onnx_check

        return onnx_check.run()
    if section == "ingest":
        from benchmarks import ingest_speed
        from benchmarks.synthetic import write_corpus

        corpus = workdir / "ingest-1000"
        write_corpus(corpus, 1000)
        return ingest_speed.run(corpus, repeats=args.ingest_repeats)
    if section == "cold":
        from benchmarks import cold

        return cold.run(runs=args.cold_runs, ui_runs=args.ui_runs)
    from benchmarks import scale

    sizes = [int(s) for s in args.scale_sizes.split(",") if s.strip()]
    return scale.run(
        sizes,
        workdir / "scale",
        rounds=args.scale_rounds,
        cache_mode=args.scale_cache,
        budget_min=args.scale_budget_min,
        keep=args.keep,
    )


if __name__ == "__main__":
    raise SystemExit(main())
