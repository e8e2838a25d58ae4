"""Question latency while an upload is ingested in the same process (issue 22, F4).

    python -m benchmarks.upload_latency [--rounds N] [--kind hostile|prose|large|all]

The app answers questions on worker threads while an upload is ingested on another, as
the UI does. This measures warm answers (p50/p95/max) with nothing else running, then
while an upload is ingested: ``hostile`` is 20 kB of ``a`` lines (before the
tiny-paragraph merge: 10,000 passages), ``prose`` 20 kB of real sentences, ``large``
200 kB of them (about 300 passages: long enough to see the upload yield to answers). Prints one
JSON object; timings only, no assertion (speed is not a test).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import Stats, eval_questions, quiet

UPLOAD_BYTES = {"hostile": 20_000, "prose": 20_000, "large": 200_000}


def _upload_file(folder: Path, kind: str, seed: int) -> Path:
    """A 20 kB upload: ``a`` lines (a passage bomb) or real sentences."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{seed}.txt"
    if kind == "hostile":
        path.write_text("a\n" * (UPLOAD_BYTES[kind] // 2), encoding="utf-8")
        return path
    from tests.reliability.conftest import bundled_sentences

    rng = random.Random(seed)
    sentences = bundled_sentences()
    paragraphs: list[str] = []
    while sum(len(p) + 2 for p in paragraphs) < UPLOAD_BYTES[kind]:
        paragraphs.append(" ".join(rng.sample(sentences, 4)))
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def _ask(answerer: Any, questions: Sequence[str], until: threading.Event | None, n: int) -> Stats:
    """Answer questions one after another: ``n`` of them, or until ``until`` is set."""
    samples: list[float] = []
    i = 0
    while (until is None and i < n) or (until is not None and not until.is_set()):
        started = time.perf_counter()
        answerer.answer(questions[i % len(questions)])
        samples.append((time.perf_counter() - started) * 1000)
        i += 1
    return Stats(samples)


class _Upload:
    """One upload, ingested on its own thread as the app does."""

    def __init__(self, settings: Any, services: Any, source: Path) -> None:
        self.settings, self.services, self.source = settings, services, source
        self.done = threading.Event()
        self.seconds = 0.0
        self.lines: list[tuple[str, str]] = []

    def run(self) -> None:
        from ingest.uploads import ingest_uploads
        from rag.models import StatementMeta

        started = time.perf_counter()
        try:
            services = self.services
            self.lines = ingest_uploads(
                self.settings, services.store, services.embedder, [self.source], StatementMeta()
            )
        finally:
            self.seconds = time.perf_counter() - started
            self.done.set()


def measure(kinds: Sequence[str], rounds: int) -> dict[str, Any]:
    from ingest.pipeline import Ingestor
    from rag.service import build_services
    from rag.settings import Settings

    quiet()
    questions = eval_questions()[:12]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="upload-latency-") as tmp:
        settings = Settings(home=Path(tmp) / "home")
        services = build_services(settings)
        Ingestor(settings, services.store, services.embedder).run()
        services.catalog.invalidate()
        _ask(services.answerer, questions, None, 2 * len(questions))  # warm (ONNX export too)
        idle = _ask(services.answerer, questions, None, rounds * len(questions))
        results["idle"] = idle.as_dict() | {"max_ms": round(max(idle.samples), 1)}
        for kind in kinds:
            for seed in range(rounds):
                source = _upload_file(Path(tmp) / "in", kind, seed)
                upload = _Upload(settings, services, source)
                worker = threading.Thread(target=upload.run)
                worker.start()
                busy = _ask(services.answerer, questions, upload.done, 0)
                worker.join()
                results[f"during_{kind}_{seed}"] = busy.as_dict() | {
                    "max_ms": round(max(busy.samples), 1) if busy.samples else None,
                    "upload_s": round(upload.seconds, 2),
                    "upload": upload.lines,
                }
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.upload_latency")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--kind", choices=(*UPLOAD_BYTES, "all"), default="all")
    args = parser.parse_args(argv)
    kinds = tuple(UPLOAD_BYTES) if args.kind == "all" else (args.kind,)
    print(json.dumps(measure(kinds, args.rounds), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
