"""A synthetic statement corpus made of the bundled statements' sentences, shuffled and mixed.

Every passage is a new paragraph of 2-4 sentences drawn from the bundled statements (at most
~850 characters, so the chunker keeps each paragraph as exactly one passage), and every passage
text is unique within a corpus. Files are ``syn_00001.txt``… with a ``statements.json`` sidecar
(organization, date, title), so the real ingest pipeline reads them like any user folder.

Only 66 distinct sentences exist in the bundled statements, so passages use 2-4 of them to keep
100k passage texts distinct; synthetic passages are therefore longer (median ~430 characters)
than the bundled ones (median 305): embedding costs are, if anything, overstated.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from ingest.loaders import load_document
from ingest.normalize import normalize
from ingest.pipeline import BUNDLED_CORPUS
from rag.sentences import split_sentences

MAX_PARAGRAPH_CHARS = 850
SENTENCE_COUNTS = (2, 3, 3, 4)  # drawn uniformly: mean 3 sentences per passage
PASSAGES_PER_STATEMENT = (10, 30)


def bundled_sentences() -> list[str]:
    sentences: list[str] = []
    for path in sorted(BUNDLED_CORPUS.glob("*.txt")):
        clean = normalize(load_document(path, max_bytes=50 * 1024 * 1024))
        for start, end in clean.paragraphs:
            sentences += [clean.text[s:e] for s, e in split_sentences(clean.text, start, end)]
    return sentences


def _paragraph(rng: random.Random, sentences: list[str], seen: set[str]) -> str:
    for attempt in range(1000):
        k = rng.choice(SENTENCE_COUNTS) + attempt // 50  # more sentences if pairs run out
        picked: list[str] = []
        for sentence in rng.sample(sentences, min(k, len(sentences))):
            if picked and sum(len(s) + 1 for s in picked) + len(sentence) > MAX_PARAGRAPH_CHARS:
                break
            picked.append(sentence)
        text = " ".join(picked)
        if text not in seen:
            seen.add(text)
            return text
    raise RuntimeError("cannot make more distinct paragraphs")


def write_corpus(folder: Path, passages: int, seed: int = 6) -> dict[str, int]:
    """Write ``passages`` one-passage paragraphs as statements into ``folder``."""
    rng = random.Random(seed)
    sentences = bundled_sentences()
    seen: set[str] = set()
    n = _write_statements(
        folder,
        passages,
        rng,
        lambda size, _: [_paragraph(rng, sentences, seen) for _ in range(size)],
    )
    return {"statements": n, "passages": passages}


def _write_statements(
    folder: Path,
    passages: int,
    rng: random.Random,
    paragraphs: Callable[[int, int], list[str]],
) -> int:
    """Statements of 10–30 paragraphs until ``passages`` are written, with a sidecar of
    synthetic metadata; ``paragraphs(size, written)`` gives each statement's paragraphs.
    Returns the number of statements."""
    folder.mkdir(parents=True, exist_ok=True)
    sidecar: dict[str, dict[str, str]] = {}
    written = n = 0
    while written < passages:
        n += 1
        size = min(rng.randint(*PASSAGES_PER_STATEMENT), passages - written)
        name = f"syn_{n:05d}.txt"
        text = "\n\n".join(paragraphs(size, written))
        (folder / name).write_text(text + "\n", encoding="utf-8")
        sidecar[name] = {
            "organization": f"Synthetic Party {rng.randint(1, 20)}",
            "date": f"{rng.randint(1990, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "title": f"Synthetic statement {n}",
        }
        written += size
    (folder / "statements.json").write_text(json.dumps(sidecar, indent=0), encoding="utf-8")
    return n


def passage_texts(folder: Path) -> list[str]:
    """The paragraphs of a synthetic corpus (each is one passage)."""
    texts: list[str] = []
    for path in sorted(folder.glob("syn_*.txt")):
        texts += [p for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return [t.strip() for t in texts]


def write_reuse_corpus(folder: Path, passages: int, source: Path, seed: int = 7) -> dict[str, int]:
    """A corpus of ``passages`` paragraphs that reuses the paragraphs of ``source``.

    Each source paragraph appears ``passages / len(source)`` times, shuffled into new
    statements with new ids and metadata: for the content-hash embedding cache (see
    ``scale_worker``), which can then reuse every vector of the source corpus's real run.
    """
    rng = random.Random(seed)
    pool = passage_texts(source)
    order: list[str] = []
    while len(order) < passages:
        batch = pool[:]
        rng.shuffle(batch)
        order += batch
    order = order[:passages]
    n = _write_statements(folder, passages, rng, lambda size, at: order[at : at + size])
    return {"statements": n, "passages": passages, "distinct_texts": len(set(order))}
