"""The project's import graph, read from the source with ``ast`` (nothing is imported), and the two rules it must
keep: no cycles between modules, and no import against the layering."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = {"zkpot": ROOT / "services" / "zkpot", "loadtest": ROOT / "loadtest"}

# Lower layers never import higher ones; one layer's packages may import each other, but without cycles.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("zkpot.domain",),
    ("zkpot", "zkpot.errors", "zkpot.config", "zkpot.metrics", "zkpot.ml", "zkpot.pool"),
    ("zkpot.zk",),
    ("zkpot.roles",),
    ("zkpot.bus", "zkpot.db", "zkpot.storage", "zkpot.gateway", "zkpot.infra", "zkpot.task"),
    ("zkpot.services",),
    ("zkpot.devnet", "zkpot.sim", "zkpot.audit", "zkpot.watch", "zkpot.bench", "zkpot.experiment"),
    ("zkpot.cli", "zkpot.__main__"),
    ("loadtest",),
)
Graph = Mapping[str, set[str]]


def module_name(package: str, root: Path, path: Path) -> str:
    parts = (package, *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_graph(packages: Mapping[str, Path] = PACKAGES) -> dict[str, set[str]]:
    """module -> the project modules it imports (at module level or inside functions)."""
    paths = {module_name(pkg, root, p): p for pkg, root in packages.items() for p in root.rglob("*.py")
             if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        graph[name] = {t for t in _imports(path, set(paths)) if t != name}
    return graph


def _imports(path: Path, known: set[str]) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(_closest(a.name, known) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:  # `from pkg import submodule` names the submodule
                full = f"{node.module}.{a.name}"
                out.add(full if full in known else _closest(node.module, known))
    return {m for m in out if m}


def _closest(module: str, known: set[str]) -> str:
    while module and module not in known:
        module = module.rpartition(".")[0]
    return module


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_of(module: str, layers: tuple[tuple[str, ...], ...] = LAYERS) -> int:
    """The layer of the longest package prefix naming ``module``; KeyError for a module no layer names."""
    best, rank = "", -1
    for i, packages in enumerate(layers):
        for package in packages:
            if (module == package or module.startswith(package + ".")) and len(package) > len(best):
                best, rank = package, i
    if rank < 0:
        raise KeyError(module)
    return rank


def breaches(graph: Graph, layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[str]:
    """Every import of a higher layer from a lower one, as 'importer -> imported'."""
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                  if layer_of(b, layers) > layer_of(a, layers))
