"""Development sets: real text nobody on the team wrote (see ``evals/devsets/README.md``).

Each set is a folder of statements plus its questions, loaded as ``Case`` objects, and a
fixed dev/test split of those cases (``split_of``): tune on dev, report and gate on test.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from evals.cases import Case, load_cases

DEVSETS_DIR = Path(__file__).resolve().parent
SPLITS = ("dev", "test")
# Fixed once (2026-11-29): of 400 salts tried, the one most balanced per kind in both
# sets. A case keeps its split forever, whatever is added later. Never change it: that
# would leak test cases into tuning.
SPLIT_SALT = "statements-qa-devsets-113"


@dataclass(frozen=True)
class DevSet:
    """A development set: where its statements are and how to read its questions.

    ``since``: only the statements dated from that year on (their ``statements.json``
    date), a slice that a test session can ingest (the whole folder is for benchmarks).
    """

    name: str
    folder: Path
    description: str
    since: int | None = None

    @property
    def all_files(self) -> list[Path]:
        """The statements of the folder (an empty file is left out: the published sotu
        corpus has one, ``sotu_1790_washington.txt``, which ingest skips as empty)."""
        return sorted(p for p in self.folder.glob("*.txt") if p.stat().st_size)

    @property
    def files(self) -> list[Path]:
        if self.since is None:
            return self.all_files
        meta = json.loads((self.folder / "statements.json").read_text(encoding="utf-8"))
        return [
            path
            for path in self.all_files
            if int(str(meta.get(path.name, {}).get("date", "0"))[:4]) >= self.since
        ]

    def cases(self) -> list[Case]:
        if self.name == "squad2":
            return squad_cases(self.folder / "questions.json")
        return load_cases(self.folder / "cases.yaml", paragraphs=False)


SETS: dict[str, DevSet] = {
    "debates2019": DevSet(
        "debates2019",
        DEVSETS_DIR / "debates2019",
        "first 2020 Democratic primary debate, one statement per candidate (20)",
    ),
    "sotu": DevSet(
        "sotu",
        DEVSETS_DIR / "sotu",
        "State of the Union addresses 1945-2018 (74 of the folder's 228, 14 presidents)",
        since=1945,
    ),
    "squad2": DevSet(
        "squad2",
        DEVSETS_DIR / "squad2-cct",
        'SQuAD 2.0, "Computational complexity theory" (one statement, 418 questions)',
    ),
}


def squad_cases(path: Path) -> list[Case]:
    """SQuAD's questions as cases: right when one of ``answers`` is inside the quotes
    (answerable) or when the answer abstains (``impossible``)."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    cases: list[Case] = []
    for row in rows:
        answerable = not row["impossible"]
        answers = tuple(dict.fromkeys(str(a) for a in row.get("answers") or ()))
        cases.append(
            Case(
                id=f"squad-{row['id']}",
                kind="squad_answerable" if answerable else "squad_unanswerable",
                question=str(row["q"]),
                answerable=answerable,
                answers=answers if answerable else (),
            )
        )
    return cases


def split_of(case: Case | str) -> str:
    """``dev`` or ``test``: the case's own ``split`` when its file says (cases added after
    the salt was fixed are split alternately within their kind, in file order, so that each
    kind stays balanced), else a stable hash of the case id alone."""
    if isinstance(case, Case):
        if case.split is not None:
            return case.split
        case = case.id
    digest = hashlib.sha256(f"{SPLIT_SALT}:{case}".encode()).digest()
    return SPLITS[digest[0] & 1]
