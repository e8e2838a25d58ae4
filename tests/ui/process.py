"""The ``rag`` command as a new process, the way a user runs it (default configuration)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_rag(
    home: Path, args: Sequence[str], code: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m ui.cli ARGS`` with ``RAG_HOME=home``; with ``code``, ``python -c CODE``
    instead, ``sys.argv`` being ``['rag', *ARGS]``."""
    env = {**os.environ, "RAG_HOME": str(home)}
    env.pop("RAG_ONNX_QUERIES", None)
    command = ["-m", "ui.cli", *args] if code is None else ["-c", code, *args]
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
