"""The tree is the architecture's map: wings import one way, nothing imports in a circle,
no module or class grows past what one reader holds in mind (docs/architecture.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ingest", "ui", "evals", "benchmarks", "tests")
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250
# Lower to higher: a module may import its own wing and the ones below it, never above.
RAG_WINGS = ("shared", "encoders", "store", "stages", "llm", "wiring")
# the package itself is the public face of the core: it exports from every wing
WIRING = frozenset({"rag", "rag.pipeline", "rag.service", "rag.retriever"})
# Faces over the core: rag below ingest below ui.
LAYERS = ("rag", "ingest", "ui")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imported(name: str, path: Path) -> Iterator[str]:
    """First-party modules that ``name`` imports anywhere (top level, lazily, for types)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # ``from package import module`` depends on that module, not on every export
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: set(_imported(name, path)) for name, path in MODULES.items()}


def _wing(module: str) -> str:
    if module in WIRING:
        return "wiring"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in RAG_WINGS:
        return parts[1]
    return "shared"


def test_no_module_imports_another_in_a_circle() -> None:
    # Tarjan's strongly connected components over every import in the tree
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert cycles == []


def test_rag_wings_import_one_way() -> None:
    wrong = [
        f"{module} ({_wing(module)}) imports {target} ({_wing(target)})"
        for module, targets in GRAPH.items()
        if module.startswith("rag.")
        for target in targets
        if target.startswith("rag.")
        and RAG_WINGS.index(_wing(target)) > RAG_WINGS.index(_wing(module))
    ]
    assert wrong == []


def test_core_never_imports_a_face() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if module.split(".")[0] in LAYERS
        for target in targets
        if target.split(".")[0] in LAYERS
        and LAYERS.index(target.split(".")[0]) > LAYERS.index(module.split(".")[0])
    ]
    assert wrong == []


@pytest.mark.parametrize("package", LAYERS)
def test_modules_and_classes_stay_small(package: str) -> None:
    big = []
    for path in sorted((ROOT / package).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if (lines := source.count("\n")) > MAX_MODULE_LINES:
            big.append(f"{path.relative_to(ROOT)}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_CLASS_LINES:
                    big.append(f"{path.relative_to(ROOT)}: class {node.name}, {length} lines")
    assert big == []


def test_each_wing_says_what_it_is() -> None:
    for wing in ("rag", "rag/stages", "rag/store", "rag/encoders", "rag/llm", "ui", "ui/web"):
        init = ROOT / wing / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{wing}/__init__.py has no docstring"


def test_the_public_api_and_the_old_module_names_still_import() -> None:
    """``from rag import …`` keeps working, and a module of the flat ``rag/`` of before the
    wings imports from its new place with a DeprecationWarning naming it."""
    import importlib
    import sys
    import warnings

    import rag

    for name in rag.__all__:
        assert getattr(rag, name) is not None, name
    sys.modules.pop("rag.store_records", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = importlib.import_module("rag.store_records")
    assert old.StoredPassage is importlib.import_module("rag.store.records").StoredPassage
    assert any("rag.store.records" in str(w.message) for w in caught)
