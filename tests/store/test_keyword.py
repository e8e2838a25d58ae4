"""The saved keyword index is scored with numpy alone, to the bit as bm25s scores it, and
loading it imports neither bm25s nor scipy (they are a quarter of a second of `rag ask`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bm25s
import numpy as np
import pytest

from ingest.chunking import chunk
from ingest.loaders import load_document
from ingest.normalize import normalize
from rag.models import Passage
from rag.sentences import content_terms
from rag.service import Services
from rag.store.keyword import DamagedIndexError, KeywordIndex, SavedScores

DEBATES = Path(__file__).resolve().parents[2] / "evals" / "devsets" / "debates2019"
QUESTIONS = [
    "What is the Quds Force?",
    "How many US soldiers had died in Iraq according to the SEP?",
    "What do the candidates say about health care and Medicare for All?",
    "climate change climate change",  # a repeated term counts twice, as in bm25s
    "zzzunknown words only",
]


def debate_passages() -> list[Passage]:
    """The passages of the debates devset (a real corpus of some thousand passages)."""
    passages = []
    for path in sorted(DEBATES.glob("*.txt")):
        passages.extend(chunk(path.stem, normalize(load_document(path))))
    return passages


def queries(passages: list[Passage]) -> list[list[str]]:
    """The questions above and, from every seventh passage, its first eight terms."""
    found = [content_terms(q) for q in QUESTIONS]
    found += [content_terms(p.text)[:8] for p in passages[::7]]
    return [q for q in found if q]


def assert_same_scores(saved: Path, passages: list[Passage]) -> None:
    reference = bm25s.BM25.load(str(saved), show_progress=False)
    ours = SavedScores.read(saved)
    for terms in queries(passages):
        known = [t for t in terms if t in reference.vocab_dict]
        got = ours.get_scores(terms)
        if not known:  # bm25s refuses a query with no known term; every score is zero
            assert not got.any()
            continue
        want = reference.get_scores(known)
        assert got.dtype == want.dtype
        assert np.array_equal(got, want), terms


@pytest.fixture(scope="module")
def debates() -> list[Passage]:
    return debate_passages()


def test_saved_scores_equal_bm25s_on_the_bundled_store(bundled: Services, tmp_path: Path) -> None:
    passages = list(bundled.store.iter_passages())
    KeywordIndex.build(passages).save(tmp_path / "kw", "fp")
    assert_same_scores(tmp_path / "kw" / "bm25", passages)


def test_saved_scores_equal_bm25s_on_a_real_corpus(debates: list[Passage], tmp_path: Path) -> None:
    assert len(debates) > 500
    index = KeywordIndex.build(debates)
    index.save(tmp_path / "kw", "fp")
    assert_same_scores(tmp_path / "kw" / "bm25", debates)
    loaded = KeywordIndex.load(tmp_path / "kw", "fp", len(debates))
    for question in QUESTIONS:
        assert loaded.search(question, 20) == index.search(question, 20), question


@pytest.mark.parametrize("method", ["bm25l", "bm25+", "robertson"])
def test_other_bm25_variants_are_read_alike(
    method: str, debates: list[Passage], tmp_path: Path
) -> None:
    """BM25L and BM25+ save a non-occurrence array, which is added as bm25s adds it."""
    retriever = bm25s.BM25(method=method)
    retriever.index([content_terms(p.text) for p in debates[:300]], show_progress=False)
    retriever.save(str(tmp_path), show_progress=False)
    assert_same_scores(tmp_path, debates[:300])


def test_loading_and_searching_import_neither_bm25s_nor_scipy(
    debates: list[Passage], tmp_path: Path
) -> None:
    KeywordIndex.build(debates[:50]).save(tmp_path / "kw", "fp")
    code = (
        "import sys; from pathlib import Path; from rag.store.keyword import KeywordIndex;"
        f"i = KeywordIndex.load(Path({str(tmp_path / 'kw')!r}), 'fp', 50);"
        "print(len(i.search('health care', 5)), sorted("
        "m for m in ('bm25s', 'scipy') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    hits, imported = out.stdout.split(" ", 1)
    assert int(hits) > 0
    assert imported.strip() == "[]"


def test_score_arrays_that_do_not_fit_are_damaged(debates: list[Passage], tmp_path: Path) -> None:
    KeywordIndex.build(debates[:50]).save(tmp_path / "kw", "fp")
    saved = tmp_path / "kw" / "bm25"
    indptr = np.load(saved / "indptr.csc.index.npy")
    np.save(saved / "indptr.csc.index.npy", indptr[:-5])
    with pytest.raises(DamagedIndexError, match="do not fit"):
        SavedScores.read(saved)
    np.save(saved / "indptr.csc.index.npy", indptr)
    params = json.loads((saved / "params.index.json").read_text(encoding="utf-8"))
    (saved / "params.index.json").write_text(json.dumps({**params, "num_docs": 3}))
    with pytest.raises(DamagedIndexError, match="beyond the index"):
        SavedScores.read(saved)
    (saved / "vocab.index.json").write_text("{not json")
    with pytest.raises(DamagedIndexError, match="unreadable"):
        SavedScores.read(saved)
