"""Run a development set, or dump per-case features for fitting a model.

    python -m evals.devsets run  --set debates2019            # metrics per split and kind
    python -m evals.devsets dump --set squad2 --split dev > squad-dev.jsonl
    python -m evals.devsets run  --set sotu --home /tmp/sotu  # keep the ingest for next time

The statements are ingested into a temporary directory, or into ``--home`` (incremental:
a second run finds them unchanged), with the app's embedding (passages with
sentence-transformers, questions through the ONNX export). Tune on ``dev`` only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from evals.devsets import SETS, SPLITS
from evals.devsets.report import render_set
from evals.devsets.results import DevResult
from evals.devsets.run import devset_services, run_devset


def run_set(name: str, split: str | None = None, home: Path | None = None) -> list[DevResult]:
    """Ingest set ``name`` into ``home`` (default: a temporary one) and answer its cases
    (of ``split``)."""
    from evals.devsets import split_of
    from rag.encoders.embeddings import SentenceTransformerEmbedder
    from rag.encoders.onnx import HybridEmbedder, export_dir

    devset = SETS[name]
    cases = [c for c in devset.cases() if split is None or split_of(c) == split]
    with tempfile.TemporaryDirectory(prefix=f"rag-devset-{name}-") as tmp:
        folder = home or Path(tmp)
        embedder = SentenceTransformerEmbedder()
        hybrid = HybridEmbedder(embedder, export_dir(folder, embedder.model_name))
        services = devset_services(folder, devset, embedder=hybrid)
        return run_devset(services, devset, cases)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.devsets", description=__doc__)
    parser.add_argument("command", choices=("run", "dump"))
    parser.add_argument("--set", dest="name", choices=sorted(SETS), required=True)
    parser.add_argument("--split", choices=SPLITS, help="only this part (default: both)")
    parser.add_argument("--home", type=Path, help="data directory to ingest into and keep")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TOKENIZERS_PARALLELISM", "false"),
        ("ANONYMIZED_TELEMETRY", "False"),
    ):
        os.environ.setdefault(key, value)
    results = run_set(args.name, args.split, args.home)
    if args.command == "dump":
        for result in results:
            sys.stdout.write(json.dumps(result.record(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_set(args.name, results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
