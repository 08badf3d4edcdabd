"""The package's folders are its layers, and imports point down only (issue #18).

Read from the code, as `python -m summarizer` would run it: every `import` and
`from ... import`, inside functions too (they are arrows all the same); only imports under
`if TYPE_CHECKING:` are left out, since they never run. docs/architecture.md draws the
same picture.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "summarizer"

# Top to bottom. A module may import from its own layer (no cycle, checked below) and from
# any layer under it, never from one above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("entry", ("summarizer.__main__", "summarizer.cli")),
    (
        "front doors",
        ("summarizer.service", "summarizer.slack", "summarizer.mcp", "summarizer.site"),
    ),
    ("workers", ("summarizer.workers",)),
    ("serving", ("summarizer.serving",)),
    (
        "library",
        ("summarizer.daily", "summarizer.eval", "summarizer.briefing", "summarizer.testing"),
    ),
    ("batch", ("summarizer.batch",)),
    ("rendering", ("summarizer.render",)),
    ("stories", ("summarizer.stories",)),
    ("core", ("summarizer.core",)),
    ("sources", ("summarizer.sources",)),
    ("model and storage", ("summarizer.llm", "summarizer.store")),
    (
        "foundation",
        ("summarizer.config", "summarizer.errors", "summarizer.signals", "summarizer.plumbing"),
    ),
]
# Front doors are adapters over the library: none reaches into another.
INDEPENDENT = ("summarizer.service", "summarizer.slack", "summarizer.mcp", "summarizer.site")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}: relative import (the house uses absolute ones)"
            base = node.module or ""
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            if not name.startswith("summarizer"):
                continue
            target = _resolve(name)
            # The root package only re-exports lazily; a module's own package is no arrow.
            if target and target != module and not module.startswith(target + "."):
                out.add(target)
    return out


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _layer(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def test_every_module_has_a_layer() -> None:
    homeless = sorted(m for m in MODULES if m != "summarizer" and _layer(m) is None)
    assert not homeless, f"modules in no layer (add their folder to LAYERS): {homeless}"


def test_imports_point_down() -> None:
    upward = []
    for module, targets in GRAPH.items():
        here = _layer(module)
        for target in targets:
            there = _layer(target)
            if here is not None and there is not None and there < here:
                upward.append(f"{module} ({LAYERS[here][0]}) imports {target} ({LAYERS[there][0]})")
    assert not upward, "imports that point up:\n" + "\n".join(sorted(upward))


@pytest.mark.parametrize("door", INDEPENDENT)
def test_front_doors_are_independent(door: str) -> None:
    others = [d for d in INDEPENDENT if d != door]
    crossing = sorted(
        f"{m} imports {t}"
        for m, targets in GRAPH.items()
        if m == door or m.startswith(door + ".")
        for t in targets
        if any(t == o or t.startswith(o + ".") for o in others)
    )
    assert not crossing, "\n".join(crossing)


def test_no_import_cycles() -> None:
    # Tarjan's strongly connected components over the module graph.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(", ".join(c) for c in cycles)
