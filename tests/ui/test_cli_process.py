"""The ``rag`` console script as a process: ``rag ask`` ends as soon as its output is
flushed, without the interpreter's teardown, and loads only what its path needs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from rag.service import Services
from tests.ui.process import run_rag

TEARDOWN = "TEARDOWN RAN"
# what `rag ask` must not import: the other faces, ingest, the torch stack, the LLM stack,
# bm25s and scipy (a saved keyword index is read with numpy). rich and jsonschema are not
# listed: chromadb imports them itself (httpx's command line, its embedding functions).
NOT_ON_THE_ASK_PATH = (
    "ingest",
    "ui.web",
    "ui.render",
    "gradio",
    "langchain_core",
    "langchain_chroma",
    "torch",
    "transformers",
    "sentence_transformers",
    "sklearn",
    "pandas",
    "bm25s",
    "scipy",
    "pypdf",
    "bs4",
)


def rag(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``rag ARGS`` through ``ui.cli.main`` in a new process; at its normal teardown the
    process prints ``TEARDOWN`` to stderr, and it lists the modules it loaded."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('TEARDOWN RAN', file=sys.stderr))\n"
        "import ui.cli\n"
        "exit_now = ui.cli.exit_now\n"
        "def listed(code):\n"
        "    print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
        "    exit_now(code)\n"
        "ui.cli.exit_now = listed\n"
        "sys.argv = ['rag', *sys.argv[1:]]\n"
        "ui.cli.main()\n"
    )
    return run_rag(home, args, code)


def modules(done: subprocess.CompletedProcess[str]) -> set[str]:
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    return set(line.split()[1:])


@pytest.fixture(scope="module")
def home(bundled: Services, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled store after a user's first question: its keyword index saved and the
    ONNX export written (the first `rag ask` does both), as every later `rag ask` sees it."""
    home = tmp_path_factory.mktemp("cli-process") / "home"
    shutil.copytree(bundled.settings.chroma_path, home / "chroma")
    first = rag(home, "ask", "What is the Quds Force?", "--json")
    assert first.returncode == 0, first.stderr[-2000:]
    return home


def test_ask_ends_without_teardown_and_loads_only_its_path(home: Path) -> None:
    done = rag(home, "ask", "What is the Quds Force?", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["citations"]
    assert TEARDOWN not in done.stderr
    loaded = modules(done)
    unwanted = sorted(
        m for m in loaded if any(m == p or m.startswith(p + ".") for p in NOT_ON_THE_ASK_PATH)
    )
    assert unwanted == []


def test_ask_errors_keep_their_exit_code(home: Path) -> None:
    done = rag(home, "ask")
    assert done.returncode == 1
    assert done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert TEARDOWN not in done.stderr


def test_other_commands_end_as_usual(tmp_path: Path) -> None:
    done = rag(tmp_path / "home", "ui", "--help")
    assert done.returncode == 0
    assert "--port" in done.stdout
    assert TEARDOWN in done.stderr


def test_a_store_first_opened_by_a_quick_ask_ingests_and_answers(tmp_path: Path) -> None:
    """`rag ask` on a new data directory creates the Chroma database before it says the
    store is empty; ending without teardown leaves that database whole."""
    home = tmp_path / "home"
    empty = rag(home, "ask", "What is the Quds Force?", "--json")
    assert empty.returncode == 1
    assert TEARDOWN not in empty.stderr
    ingested = run_rag(home, ["ingest"])
    assert ingested.returncode == 0, ingested.stderr[-2000:]
    answered = rag(home, "ask", "What is the Quds Force?", "--json")
    assert answered.returncode == 0, answered.stderr[-2000:]
    assert json.loads(answered.stdout)["citations"]
