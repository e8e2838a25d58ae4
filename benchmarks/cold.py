"""Cold start: ``rag ask --json`` as a new process, and the UI from launch to ready.

A fresh data directory is ingested once (``rag ingest``, which also writes the ONNX export
that questions are embedded with). Each command then runs once unmeasured (so the OS file
cache is warm, as for any user's second command) and ``runs`` times measured; the median is
reported, for the default configuration and with ``RAG_ONNX_QUERIES=false`` (questions
through sentence-transformers, i.e. torch). ``python -X importtime`` of both says which
imports cost what (self time summed per top-level package).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import BENCH_QUESTION, ROOT, VENV_BIN, load_average, run_child

PY = str(VENV_BIN / "python")
RAG = str(VENV_BIN / "rag")
_IMPORTTIME = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def _answer_core(stdout: str) -> dict[str, Any]:
    data = json.loads(stdout)
    data.pop("timings_ms", None)
    return dict(data)


def importtime(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Self import time per top-level package, and the top-level imports' cumulative times."""
    child = run_child([PY, "-X", "importtime", *args], env=env, timeout=600)
    per_package: dict[str, float] = defaultdict(float)
    top_level: dict[str, float] = {}
    for line in child.stderr.splitlines():
        m = _IMPORTTIME.match(line)
        if not m:
            continue
        self_us, cumulative_us, indent, name = m.groups()
        per_package[name.split(".")[0]] += int(self_us) / 1000.0
        if len(indent) <= 1:  # imported by the program itself, not by another module
            root = name.split(".")[0]
            top_level[root] = max(top_level.get(root, 0.0), int(cumulative_us) / 1000.0)
    ranked = sorted(per_package.items(), key=lambda kv: -kv[1])
    return {
        "wall_s": round(child.wall_s, 2),
        "total_import_ms": round(sum(per_package.values()), 1),
        "self_ms_by_package": {k: round(v, 1) for k, v in ranked[:15]},
        "top_level_cumulative_ms": {
            k: round(v, 1) for k, v in sorted(top_level.items(), key=lambda kv: -kv[1])[:10]
        },
        "packages_imported": len(per_package),
        "imports_torch": "torch" in per_package,
        "imports": sorted(k for k in per_package if k in _WATCH),
    }


_WATCH = {
    "torch",
    "sentence_transformers",
    "transformers",
    "onnxruntime",
    "tokenizers",
    "chromadb",
    "bm25s",
    "scipy",
    "sklearn",
    "pandas",
    "langchain_core",
    "gradio",
    "numpy",
    "pydantic",
    "typer",
    "rich",
    "httpx",
    "opentelemetry",
    "onnx",
}


def _median_run(args: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    warm = run_child(args, env=env, timeout=600)
    if warm.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {warm.stderr[-2000:]}")
    walls: list[float] = []
    cpus: list[float] = []
    peaks: list[float] = []
    for _ in range(runs):
        child = run_child(args, env=env, timeout=600)
        walls.append(child.wall_s)
        cpus.append(child.cpu_s)
        peaks.append(child.peak_rss_mb)
    modules = re.findall(r"BENCH_MODULES (\[.*\])", warm.stderr)
    return {
        "median_s": round(statistics.median(walls), 2),
        "runs_s": [round(w, 2) for w in walls],
        "cpu_median_s": round(statistics.median(cpus), 2),
        "peak_rss_mb": round(max(peaks), 1),
        "answer": _answer_core(warm.stdout) if "--json" in args else None,
        "modules": json.loads(modules[0]) if modules else None,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ui_ready_s(
    args: list[str],
    env: dict[str, str],
    timeout: float = 300.0,
    port_args: Callable[[int], list[str]] = lambda port: ["--port", str(port)],
    cwd: Path = ROOT,
) -> float:
    """Seconds from launching ``args`` (with ``port_args(PORT)`` appended) to HTTP 200 on /.

    The command runs in its own process group, which is stopped as a whole (``make run``
    would otherwise leave its ``rag ui`` child behind)."""
    port = _free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*args, *port_args(port)],
        env=env,
        cwd=str(cwd),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        while time.perf_counter() - started < timeout:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"the UI exited with {proc.returncode}: {err[-1500:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    if resp.status == 200:
                        return time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.05)
        raise TimeoutError(f"the UI was not ready within {timeout:.0f}s")
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    time.sleep(0.5)  # the group's other members (make's child) finish exiting


def make_run_ready(env: dict[str, str], runs: int) -> dict[str, Any]:
    """A second ``make run``: the project's Makefile in a scratch folder whose ``.venv``
    links to this interpreter's venv and whose install stamps are newer than pyproject.toml
    and constraints.txt (as after a first ``make run``), so no install recipe runs; from
    launching ``make run`` to HTTP 200 on / (``rag ui`` as ``make run`` starts it, ingest
    check of the bundled statements included)."""
    with tempfile.TemporaryDirectory(prefix="bench-make-") as tmp:
        folder = Path(tmp)
        for name in ("Makefile", "pyproject.toml", "constraints.txt"):
            shutil.copy(ROOT / name, folder / name)
        venv_bin = folder / ".venv" / "bin"
        venv_bin.mkdir(parents=True)
        for name in ("python", "rag"):
            (venv_bin / name).symlink_to(VENV_BIN / name)
        for stamp in (".torch", ".installed"):
            (folder / ".venv" / stamp).touch()
        dry = subprocess.run(
            ["make", "-n", "run"], cwd=folder, capture_output=True, text=True, check=True
        )
        installs = [line for line in dry.stdout.splitlines() if "pip" in line]
        times = [
            ui_ready_s(
                ["make", "--no-print-directory", "run"],
                env,
                port_args=lambda port: [f"PORT={port}"],
                cwd=folder,
            )
            for _ in range(runs + 1)
        ][1:]  # the first run is the warm-up
    return {
        "median_s": round(statistics.median(times), 2),
        "runs_s": [round(t, 2) for t in times],
        "install_recipes_run": installs,
    }


def run(runs: int = 3, ui_runs: int = 3) -> dict[str, Any]:
    result: dict[str, Any] = {"load_before": load_average(), "question": BENCH_QUESTION}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        env = {**os.environ, "RAG_HOME": str(Path(tmp) / "home"), "PYTHONPATH": str(ROOT)}
        env.pop("RAG_ONNX_QUERIES", None)
        torch_env = {**env, "RAG_ONNX_QUERIES": "false"}
        ingest = run_child([RAG, "ingest"], env=env, timeout=1200)
        if ingest.returncode != 0:
            raise RuntimeError(f"rag ingest failed: {ingest.stderr[-2000:]}")
        result["first_ingest_s"] = round(ingest.wall_s, 2)  # model load + encode + export
        ask = ["ask", BENCH_QUESTION, "--json"]
        default = _median_run([RAG, *ask], env, runs)
        torch_side = _median_run([RAG, *ask], torch_env, runs)
        result["rag_ask"] = default
        result["rag_ask_torch"] = torch_side
        # the cross-encoder of the answer-quality work off (RAG_RERANKER_MODEL=none): its cost
        result["rag_ask_no_rerank"] = _median_run(
            [RAG, *ask], {**env, "RAG_RERANKER_MODEL": "none"}, runs
        )
        result["rag_ask_no_rerank"].pop("answer", None)
        result["same_answer"] = default["answer"] == torch_side["answer"]
        for item in (default, torch_side):
            item.pop("answer", None)
        result["python_startup_s"] = _median_run([PY, "-c", "pass"], env, runs)["median_s"]
        result["importtime_rag_ask"] = importtime(["-m", "ui.cli", *ask], env)
        result["importtime_rag_ask_torch"] = importtime(["-m", "ui.cli", *ask], torch_env)
        for module in ("torch", "sentence_transformers", "chromadb", "bm25s", "langchain_core"):
            child = run_child([PY, "-c", f"import {module}"], env=env)
            result.setdefault("import_alone_s", {})[module] = round(child.wall_s, 2)
        try:
            result["ui_ready_s"] = _ui_runs([RAG, "ui", "--no-ingest"], env, ui_runs)
            result["ui_ready_torch_s"] = _ui_runs([RAG, "ui", "--no-ingest"], torch_env, ui_runs)
            result["make_run_ready_s"] = make_run_ready(env, ui_runs)
        except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
            result["ui_note"] = f"UI not measured: {exc}"
    result["load_after"] = load_average()
    return result


def _ui_runs(args: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    times = [ui_ready_s(args, env) for _ in range(runs)]
    return {"median_s": round(statistics.median(times), 2), "runs_s": [round(t, 2) for t in times]}
