"""Shared helpers: timing statistics, machine description, eval questions, child processes."""

from __future__ import annotations

import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# The environment this run started with, before ``quiet`` set variables of its own: what a
# user's shell gives a command (the cold-start section starts its children from it).
STARTING_ENV = dict(os.environ)
CASES = ROOT / "evals" / "cases.yaml"
BENCH_QUESTION = "What is the Quds Force?"

logger = logging.getLogger("benchmarks")


def quiet() -> None:
    """Silence libraries the way the CLI does, so their logging costs nothing here either."""
    from ui.cli import quiet_libraries

    quiet_libraries(logging.ERROR)
    warnings.filterwarnings("ignore")


def eval_questions() -> list[str]:
    import yaml

    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    return [str(c["question"]) for c in cases]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty sequence."""
    data = sorted(values)
    if not data:
        return float("nan")
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


@dataclass
class Stats:
    """Wall-clock samples in milliseconds."""

    samples: list[float]

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples)

    def as_dict(self) -> dict[str, float]:
        return {
            "n": len(self.samples),
            "p50_ms": round(self.p50, 2),
            "p95_ms": round(self.p95, 2),
            "mean_ms": round(self.mean, 2),
        }


def timed_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000.0, result


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def self_peak_rss_mb() -> float:
    """This process's peak resident set size since its exec (VmHWM)."""
    return _vm_hwm_mb(os.getpid()) or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> dict[str, Any]:
    import importlib.metadata as md

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "-"

    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "gpu": "none",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {
            name: version(name)
            for name in (
                "torch",
                "sentence-transformers",
                "transformers",
                "onnxruntime",
                "tokenizers",
                "chromadb",
                "bm25s",
                "langchain-chroma",
                "langchain-huggingface",
                "langchain-text-splitters",
            )
        },
    }


@dataclass
class ChildResult:
    """A finished child process: its output, wall time and its own peak RSS."""

    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_mb: float
    cpu_s: float = 0.0  # user + system time of the child alone (robust to shared cores)


def _vm_hwm_mb(pid: int) -> float | None:
    """Peak RSS of a live process since its exec (VmHWM), or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def run_child(
    args: Sequence[str],
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    cwd: Path | None = None,
) -> ChildResult:
    """Run a process to completion and measure its own peak RSS. ``env`` is the child's
    whole environment when given (this process's otherwise).

    The peak is VmHWM from /proc, sampled every 5 ms until the child exits (a high-water
    mark, so sampling loses at most the last few ms). ``getrusage``/``wait4`` are not used:
    on Linux a child's ru_maxrss starts from the RSS of the parent it was forked from.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(args),
            stdout=out,
            stderr=err,
            env=dict(os.environ) if env is None else env,
            cwd=str(cwd or ROOT),
            text=True,
        )
        deadline = None if timeout is None else started + timeout
        peak = 0.0
        while True:
            hwm = _vm_hwm_mb(proc.pid)
            if hwm is not None:
                peak = max(peak, hwm)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                raise subprocess.TimeoutExpired(list(args), timeout or 0)
            time.sleep(0.005)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return ChildResult(proc.returncode, out.read(), err.read(), wall, peak, cpu)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
