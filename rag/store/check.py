"""A look at embedded Chroma's vector index files before Chroma opens them.

Chroma 1.5 maps the HNSW files of each vector segment (``<chroma>/<segment>/``) without
checking their sizes: a truncated or overwritten file crashes the whole process
(segmentation fault) on the first query, where no error can be caught. So the files'
sizes are checked against their header first, and a damaged index is one clear error.
"""

from __future__ import annotations

import struct
import time
from pathlib import Path

from rag.errors import StoreUnavailableError
from rag.store.failures import REBUILD_HINT

# hnswlib's header as Chroma persists it: version, offsetLevel0, max_elements,
# cur_element_count, size_data_per_element, label_offset, offsetData, maxlevel,
# enterpoint_node, maxM, maxM0, M, mult, ef_construction
_HEADER = struct.Struct("<iQQQQQQiIQQQdQ")
SETTLE_SECONDS = 1.0  # another process may be writing the files this very moment


def vector_index_problem(segment: Path) -> str | None:
    """What is wrong with the HNSW files in ``segment``, or None when they fit together."""
    try:
        header = (segment / "header.bin").read_bytes()
        fields = _HEADER.unpack_from(header)
        sizes = {
            name: (segment / name).stat().st_size
            for name in ("data_level0.bin", "length.bin", "link_lists.bin")
        }
        links = (segment / "link_lists.bin").read_bytes()
    except (OSError, struct.error) as exc:
        return f"unreadable: {exc}"
    version, _, max_elements, count, per_element, label_offset, offset_data = fields[:7]
    if version != 1:
        return None  # another format (or garbage, which Chroma refuses with an error)
    if not 0 < label_offset < per_element or offset_data >= per_element:
        return "header.bin is not an index header"
    if count > max_elements:
        return "header.bin counts more elements than it has room for"
    if sizes["data_level0.bin"] < count * per_element or sizes["data_level0.bin"] % per_element:
        return f"data_level0.bin has {sizes['data_level0.bin']} bytes for {count} elements"
    if sizes["length.bin"] < 4 * count:
        return f"length.bin has {sizes['length.bin']} bytes for {count} elements"
    walked = _link_lists_size(links, count)
    if walked != len(links):
        return f"link_lists.bin has {len(links)} bytes, its entries need {walked}"
    return None


def _link_lists_size(links: bytes, count: int) -> int:
    """The size ``count`` entries of hnswlib's link lists take: each is a 4-byte length
    and that many bytes (as far as ``links`` goes; a short file gives a larger size)."""
    offset = 0
    for _ in range(count):
        if offset + 4 > len(links):
            return offset + 4
        offset += 4 + struct.unpack_from("<I", links, offset)[0]
    return offset


def check_vector_indexes(chroma: Path) -> None:
    """Raise one clear error if a vector index under ``chroma`` is damaged."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        problems = [
            (header.parent.name, problem)
            for header in sorted(chroma.glob("*/header.bin"))
            if (problem := vector_index_problem(header.parent))
        ]
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
