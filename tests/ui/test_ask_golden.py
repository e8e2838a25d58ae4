"""`rag ask --json` of a few bundled questions, as new processes, against answers pinned in
``tests/fixtures/ask_golden.json``: what a cold-start change (lazy imports, the keyword
index read without bm25s, the ONNX query embedder) may not move by a character.

The first process builds the keyword index with bm25s and embeds with sentence-transformers
(and writes the ONNX export); the second loads the saved index with numpy and embeds with
ONNX, as every later `rag ask` does. Both must give the pinned answers.

A change that is meant to change answers rewrites the file:
``RAG_WRITE_GOLDEN=1 pytest tests/ui/test_ask_golden.py`` (and says so in its commit).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from rag.encoders.onnx import export_dir, read_manifest
from rag.service import Services
from rag.settings import Settings
from tests.ui.process import ROOT, run_rag

GOLDEN = ROOT / "tests" / "fixtures" / "ask_golden.json"
QUESTIONS = [
    "What is the Quds Force?",
    "How many US soldiers had died in Iraq according to the SEP?",
    "How do the statements differ on the Democratic Party?",
    "What do they demand about US troops?",
    "Who was Qassem Soleimani?",
    "What does the SWP say about the Democrats over time?",
    "How do I bake a loaf of sourdough bread?",
]


def ask_all(home: Path, batch: Path) -> list[dict[str, Any]]:
    done = run_rag(home, ["ask", "--json", "--batch", str(batch)])
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_ask_json_answers_are_pinned(bundled: Services, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(bundled.settings.chroma_path, home / "chroma")
    batch = tmp_path / "questions.txt"
    batch.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")

    first = ask_all(home, batch)  # builds the keyword index, writes the ONNX export
    settings = Settings(home=home)
    assert read_manifest(export_dir(home, settings.embedding_model)) is not None
    assert any((settings.keyword_dir / settings.collection_prefix).iterdir())
    second = ask_all(home, batch)  # loads both

    if os.environ.get("RAG_WRITE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(first, ensure_ascii=False, indent=1) + "\n", "utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert [a["question"] for a in golden] == QUESTIONS
    for got_first, got_second, want in zip(first, second, golden, strict=True):
        assert got_first == want, want["question"]
        assert got_second == want, want["question"]
