"""Files the UI offers for download (conversation exports), kept in one folder.

Each export is written to its own subfolder (so the downloaded file keeps a readable
name); exports older than ``max_age`` seconds, or beyond the newest ``keep``, are
deleted whenever a new one is written, and the whole folder when the process exits.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import time
import uuid
from pathlib import Path

logger = logging.getLogger(__name__)


class ExportFolder:
    def __init__(self, root: Path | None = None, keep: int = 100, max_age: float = 3600.0) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="statements-qa-exports-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.keep, self.max_age = keep, max_age
        atexit.register(self.remove)

    def write(self, name: str, text: str) -> Path:
        """A new file ``name`` holding ``text``; old exports are pruned first."""
        self.prune()
        folder = self.root / uuid.uuid4().hex[:12]
        folder.mkdir()
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def prune(self) -> None:
        """Delete exports older than ``max_age`` and all but the newest ``keep - 1``."""
        now = time.time()
        try:
            folders = sorted(
                (p for p in self.root.iterdir() if p.is_dir()),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
        except OSError:
            return
        for index, folder in enumerate(folders):
            try:
                old = now - folder.stat().st_mtime > self.max_age
            except OSError:
                continue
            if old or index >= self.keep - 1:
                shutil.rmtree(folder, ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        logger.debug("removed the export folder %s", self.root)
