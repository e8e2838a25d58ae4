"""``rag ingest DIR`` on a folder that mixes good statements with every kind of bad file:
good ones are all ingested, each bad one gets one line, exit 3, never a traceback."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from rag.settings import Settings
from rag.store.chroma import ChromaStore

from .conftest import assert_no_traceback, bundled_sentences, run_rag

LATIN1_TEXT = (
    "Déclaration du comité: nous refusons la guerre à l'étranger. Les travailleurs "
    "français paient déjà le prix, «assez» disent-ils.\n\n"
    "Nous exigeons le retrait immédiat des troupes. Même la presse le reconnaît."
)


def _pdf_bytes() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for sentence in bundled_sentences()[:6]:
        pdf.multi_cell(0, 8, sentence.encode("latin-1", "replace").decode("latin-1"))
        pdf.ln()
    return bytes(pdf.output())


def _build_folder(root: Path, corpus: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The fault folder. Returns (good files -> statement id, bad files -> expected reason)."""
    folder = root / "faults"
    folder.mkdir()
    good: dict[str, str] = {}
    bad: dict[str, str] = {}
    for path in sorted(corpus.glob("*.txt")):
        (folder / path.name).write_bytes(path.read_bytes())
        good[str(folder / path.name)] = path.stem
    (folder / "latin1.txt").write_bytes(LATIN1_TEXT.encode("latin-1"))
    good[str(folder / "latin1.txt")] = "latin1"
    # a folder whose name looks like a statement is walked like any folder
    (folder / "folder.txt").mkdir()
    (folder / "folder.txt" / "nested.md").write_text(
        "# Nested\n\n" + " ".join(bundled_sentences()[10:14]) + "\n", encoding="utf-8"
    )
    good[str(folder / "folder.txt" / "nested.md")] = "nested"
    # a symlink to a parent folder is not followed (no walk loop)
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to("..", target_is_directory=True)

    rng = random.Random(0)
    (folder / "binary.txt").write_bytes(bytes(rng.randrange(256) for _ in range(8000)))
    bad[str(folder / "binary.txt")] = "binary file, not text"
    (folder / "empty.txt").write_bytes(b"")
    bad[str(folder / "empty.txt")] = "empty file"
    (folder / "blank.md").write_text(" \n\n\t\n", encoding="utf-8")
    bad[str(folder / "blank.md")] = "empty file"
    pdf = _pdf_bytes()
    (folder / "truncated.pdf").write_bytes(pdf[: len(pdf) // 2])
    bad[str(folder / "truncated.pdf")] = "unreadable PDF: "
    (folder / "fake.pdf").write_bytes(b"<html><body>not a pdf</body></html>\n")
    bad[str(folder / "fake.pdf")] = "unreadable PDF: "
    # 20 MB of real sentences: over the per-file limit (RAG_MAX_FILE_MB, default 10)
    sentences = " ".join(bundled_sentences()) + "\n\n"
    with (folder / "huge.txt").open("w", encoding="utf-8") as out:
        while out.tell() < 20 * 1024 * 1024:
            out.write(sentences)
    bad[str(folder / "huge.txt")] = "over the 10 MB limit"
    # unreadable files: tests run as root, who can read a chmod 000 file, so use things
    # nobody can read as a statement: a FIFO (opening it would block), a dangling
    # symlink, symlink loops
    os.mkfifo(folder / "fifo.txt")
    bad[str(folder / "fifo.txt")] = "not a regular file"
    (folder / "dangling.txt").symlink_to(root / "missing" / "gone.txt")
    bad[str(folder / "dangling.txt")] = "cannot read file: No such file or directory"
    (folder / "loop.txt").symlink_to("loop.txt")
    bad[str(folder / "loop.txt")] = "cannot read file: Too many levels of symbolic links"
    (folder / "loop_a.md").symlink_to("loop_b.md")
    (folder / "loop_b.md").symlink_to("loop_a.md")
    for name in ("loop_a.md", "loop_b.md"):
        bad[str(folder / name)] = "cannot read file: Too many levels of symbolic links"
    locked = folder / "locked.txt"
    locked.write_text(" ".join(bundled_sentences()[20:24]) + "\n", encoding="utf-8")
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads it anyway: then it is a good statement
        good[str(locked)] = "locked"
    else:
        bad[str(locked)] = "cannot read file: Permission denied"
    return good, bad


@pytest.mark.slow
def test_ingest_folder_with_bad_files(tmp_path: Path, corpus_copy: Path) -> None:
    good, bad = _build_folder(tmp_path, corpus_copy)
    home = tmp_path / "home"
    folder = tmp_path / "faults"

    result = run_rag(["ingest", str(folder)], home)

    assert_no_traceback(result.stdout, result.stderr)
    assert result.returncode == 3, result.stderr  # 3: some files were skipped
    # stderr: exactly one line per bad file, naming it and saying why, and nothing else
    lines = result.stderr.splitlines()
    assert len(lines) == len(bad), lines
    for line in lines:
        assert line.startswith("skipped "), line
        path, _, reason = line.removeprefix("skipped ").partition(": ")
        assert path in bad, line
        assert bad[path] in reason, line
    assert {line.removeprefix("skipped ").partition(": ")[0] for line in lines} == set(bad)
    # stdout: one line per good file, then the summary
    out = result.stdout.splitlines()
    assert sorted(line.split()[1] for line in out[:-1]) == sorted(good.values())
    assert all(line.startswith("new ") for line in out[:-1])
    assert out[-1].startswith(f"{len(good)} new, 0 updated, 0 unchanged, {len(bad)} skipped")

    store = ChromaStore.from_settings(Settings(home=home))
    assert sorted(s.statement_id for s in store.statements()) == sorted(good.values())
    # latin-1 is just another encoding: stored as the right characters
    assert store.statement("latin1").text == LATIN1_TEXT
    del store

    # a second run changes nothing and says the same about the bad files
    again = run_rag(["ingest", str(folder)], home)
    assert again.returncode == 3
    assert sorted(again.stderr.splitlines()) == sorted(lines)
    assert again.stdout.splitlines()[-1].startswith(
        f"0 new, 0 updated, {len(good)} unchanged, {len(bad)} skipped"
    )
