"""Scale: synthetic corpora of growing size; ingest, query latency and peak RSS per size.

Each size is generated (``benchmarks.synthetic``), ingested by the real Ingestor in one
child process, then queried in fresh child processes (sentence-transformers query embedder,
and ONNX), so every peak RSS belongs to one step alone (wait4 of that child).

When embedding a size for real would take longer than ``budget_min`` (estimated from the
largest size already ingested for real), the size is built by reusing the paragraphs of
that largest real corpus and ingested with the content-hash embedding cache of its real
run: labelled ``cached`` in the results, with the real ingest time given as an estimate.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import load_average, run_child
from benchmarks.synthetic import write_corpus, write_reuse_corpus

PY = sys.executable


def _worker(args: list[str], timeout: float) -> tuple[dict[str, Any], float]:
    child = run_child([PY, "-m", "benchmarks.scale_worker", *args], timeout=timeout)
    if child.returncode != 0:
        raise RuntimeError(f"scale_worker {args[0]} failed: {child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1]), child.peak_rss_mb


def run(
    sizes: list[int],
    workdir: Path,
    rounds: int = 2,
    cache_mode: str = "auto",
    budget_min: float = 30.0,
    keep: bool = False,
) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    steps: list[dict[str, Any]] = []
    real_rate: float | None = None
    real_source: tuple[int, Path, Path] | None = None  # size, corpus, cache file
    for size in sorted(sizes):
        corpus = workdir / f"corpus-{size}"
        home = workdir / f"home-{size}"
        for path in (corpus, home):
            shutil.rmtree(path, ignore_errors=True)
        estimate_s = size / real_rate if real_rate else None
        cached = real_source is not None and (
            cache_mode == "always"
            or (cache_mode == "auto" and estimate_s is not None and estimate_s > budget_min * 60)
        )
        step: dict[str, Any] = {"size": size, "load_before": load_average()}
        if cached:
            assert real_source is not None
            src_size, src_corpus, cache_file = real_source
            step["corpus"] = write_reuse_corpus(corpus, size, src_corpus)
            step["mode"] = f"cached (vectors reused from the real {src_size:,} run)"
            ingest_args = ["--cache", str(cache_file), "--cache-mode", "use"]
        else:
            step["corpus"] = write_corpus(corpus, size)
            step["mode"] = "real"
            cache_file = workdir / f"cache-{size}.pkl"
            ingest_args = ["--cache", str(cache_file), "--cache-mode", "record"]
        if estimate_s is not None:
            step["estimated_real_ingest_s"] = round(estimate_s, 0)
        ingest, peak = _worker(
            ["ingest", "--corpus", str(corpus), "--home", str(home), *ingest_args],
            timeout=6 * 3600,
        )
        ingest["peak_rss_mb"] = round(peak, 1)
        step["ingest"] = ingest
        if not cached:
            real_rate = ingest["passages_per_s"]
            real_source = (size, corpus, cache_file)
        for embedder in ("st", "onnx"):
            result, peak = _worker(
                ["query", "--home", str(home), "--embedder", embedder, "--rounds", str(rounds)],
                timeout=3 * 3600,
            )
            result["peak_rss_mb"] = round(peak, 1)
            step[f"query_{embedder}"] = result
        step["disk_mb"] = round(
            sum(f.stat().st_size for f in home.rglob("*") if f.is_file()) / 1024 / 1024, 1
        )
        step["load_after"] = load_average()
        steps.append(step)
        print(f"scale {size}: {json.dumps(step)}", file=sys.stderr, flush=True)
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"steps": steps, "cache_mode": cache_mode, "budget_min": budget_min}
