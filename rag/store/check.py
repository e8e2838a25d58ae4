"""A look at embedded Chroma's vector index files before Chroma opens them.

Chroma 1.5 maps the HNSW files of each vector segment (``<chroma>/<segment>/``) and
follows the graph's links without checking them: a truncated file, or one overwritten
in place at the same size, crashes the whole process (segmentation fault) on the first
query, where no error can be caught. So the files are checked first and a damaged index
is one clear error: their sizes against the header, and every link of the graph (each
element's neighbour count and neighbour ids, vectorised over a memory map of
``data_level0.bin``) against the element count.

Reading every link costs milliseconds per thousand passages, so it is done once per
state of the files: the size and modification time of each file checked are kept in
``<chroma>/rag-index-check.json``, and a process that finds them unchanged (every
``rag ask`` after the first) only looks at the file sizes. Chroma rewrites the files
when it persists, which changes their times: the next process checks them again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import struct
import time
from pathlib import Path

import numpy as np

from rag.errors import StoreUnavailableError
from rag.store.failures import REBUILD_HINT

logger = logging.getLogger(__name__)

# hnswlib's header as Chroma persists it: version, offsetLevel0, max_elements,
# cur_element_count, size_data_per_element, label_offset, offsetData, maxlevel,
# enterpoint_node, maxM, maxM0, M, mult, ef_construction
_HEADER = struct.Struct("<iQQQQQQiIQQQdQ")
FILES = ("header.bin", "data_level0.bin", "length.bin", "link_lists.bin")
STAMP = "rag-index-check.json"
SETTLE_SECONDS = 1.0  # another process may be writing the files this very moment
MAX_LEVELS = 64  # hnswlib's levels grow with log(elements): a larger one is garbage


def vector_index_problem(segment: Path) -> str | None:
    """What is wrong with the HNSW files in ``segment``, or None when they fit together."""
    try:
        header = (segment / "header.bin").read_bytes()
        fields = _HEADER.unpack_from(header)
        sizes = {name: (segment / name).stat().st_size for name in FILES[1:]}
        links = (segment / "link_lists.bin").read_bytes()
    except (OSError, struct.error) as exc:
        return f"unreadable: {exc}"
    version, offset_level0, max_elements, count, per_element, label_offset, offset_data = fields[:7]
    max_level, entry, max_m, max_m0 = fields[7], fields[8], fields[9], fields[10]
    if version != 1:
        return None  # another format (or garbage, which Chroma refuses with an error)
    if not 0 < label_offset < per_element or offset_data >= per_element:
        return "header.bin is not an index header"
    if count > max_elements:
        return "header.bin counts more elements than it has room for"
    if count and (entry >= count or not 0 <= max_level < MAX_LEVELS):
        return "header.bin names an entry point or level the index does not have"
    if offset_level0 + 4 + 4 * max_m0 > offset_data:
        return "header.bin is not an index header"
    if sizes["data_level0.bin"] < count * per_element or sizes["data_level0.bin"] % per_element:
        return f"data_level0.bin has {sizes['data_level0.bin']} bytes for {count} elements"
    if sizes["length.bin"] < 4 * count:
        return f"length.bin has {sizes['length.bin']} bytes for {count} elements"
    walked, upper = _link_lists(links, count, max_m)
    if walked != len(links):
        return f"link_lists.bin has {len(links)} bytes, its entries need {walked}"
    if upper:
        return f"link_lists.bin: {upper}"
    return _level0_problem(segment / "data_level0.bin", count, per_element, offset_level0, max_m0)


def _level0_problem(
    path: Path, count: int, per_element: int, offset: int, max_m0: int
) -> str | None:
    """Every element's level-0 links: at most ``max_m0`` of them, each below ``count``.
    (An overwritten ``data_level0.bin`` of the right size passed the size checks and
    crashed every command.)"""
    if count == 0:
        return None
    data = np.memmap(path, dtype=np.uint8, mode="r", shape=(count * per_element,))
    try:
        sizes = np.ndarray((count,), "<u2", data, offset, (per_element,))
        over = np.flatnonzero(sizes > max_m0)
        if over.size:
            i = int(over[0])
            return f"data_level0.bin: element {i} has {sizes[i]} links, more than {max_m0}"
        links = np.ndarray((count, max_m0), "<u4", data, offset + 4, (per_element, 4))
        bad = (links >= count) & (np.arange(max_m0) < sizes[:, None])
        if bad.any():
            i, j = (int(x) for x in np.argwhere(bad)[0])
            return f"data_level0.bin: element {i} links to {links[i, j]}, of {count} elements"
    finally:
        del data
    return None


def _link_lists(links: bytes, count: int, max_m: int) -> tuple[int, str | None]:
    """The size ``count`` entries of hnswlib's link lists take (each a 4-byte length and
    that many bytes: a short file gives a larger size), and what is wrong with the
    neighbours they hold (each level: a count of at most ``max_m``, ids below ``count``)."""
    offset = 0
    level_bytes = 4 + 4 * max_m
    for _ in range(count):
        if offset + 4 > len(links):
            return offset + 4, None
        size = struct.unpack_from("<I", links, offset)[0]
        offset += 4
        if size and (size % level_bytes or offset + size > len(links)):
            return offset + size, None
        if size:
            levels = np.frombuffer(links, "<u4", size // 4, offset).reshape(-1, 1 + max_m)
            counts = levels[:, 0] & 0xFFFF
            used = np.arange(max_m) < counts[:, None]
            if (counts > max_m).any() or (used & (levels[:, 1:] >= count)).any():
                return offset + size, "a neighbour list holds elements the index does not have"
        offset += size
    return offset, None


def _signature(segment: Path) -> list[list[int]] | None:
    """Size and modification time of each of the segment's files (None: one is missing)."""
    try:
        stats = [os.stat(segment / name) for name in FILES]
    except OSError:
        return None
    return [[s.st_size, s.st_mtime_ns] for s in stats]


def _read_stamp(chroma: Path) -> dict[str, list[list[int]]]:
    try:
        stamp = json.loads((chroma / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def _write_stamp(chroma: Path, stamp: dict[str, list[list[int]]]) -> None:
    """Remember the checked files' state (atomically; a read-only store checks again)."""
    temporary = chroma / f".{STAMP}.{os.getpid()}.tmp"
    try:
        temporary.write_text(json.dumps(stamp), encoding="utf-8")
        temporary.replace(chroma / STAMP)
    except OSError:
        with contextlib.suppress(OSError):  # a read-only folder: nothing was written
            temporary.unlink(missing_ok=True)


def index_problems(chroma: Path, use_stamp: bool = True) -> list[tuple[str, str]]:
    """``(segment, problem)`` for each damaged vector index under ``chroma``; segments
    whose files are as they were when last found sound are not read (``use_stamp``)."""
    stamp = _read_stamp(chroma) if use_stamp else {}
    fresh: dict[str, list[list[int]]] = {}
    problems = []
    for header in sorted(chroma.glob("*/header.bin")):
        segment = header.parent
        signature = _signature(segment)
        if signature is not None and stamp.get(segment.name) == signature:
            fresh[segment.name] = signature
            continue
        problem = vector_index_problem(segment)
        if problem:
            problems.append((segment.name, problem))
        elif signature is not None and signature == _signature(segment):  # not rewritten
            fresh[segment.name] = signature
    if not problems and fresh != stamp:
        _write_stamp(chroma, fresh)
    return problems


def check_vector_indexes(chroma: Path) -> None:
    """Raise one clear error if a vector index under ``chroma`` is damaged."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        problems = index_problems(chroma)
        if not problems:
            return
        if time.monotonic() >= deadline:
            segment, problem = problems[0]
            raise StoreUnavailableError(
                f"The Chroma store at {chroma} is damaged: in its vector index {segment}, "
                f"{problem}",
                hint=REBUILD_HINT,
            )
        time.sleep(0.2)
