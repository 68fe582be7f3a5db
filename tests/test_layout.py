"""The package's layout, read from its imports (``ast`` over every ``rescue/**/*.py``, nothing is imported).

Each subpackage ``rescue/<pkg>/`` and each top-level module ``rescue/<mod>.py`` is a node; an import of
another node (absolute ``rescue.x`` or relative ``from ..x import y``, at module level or inside a function)
is an edge. Three rules:

- no import cycle between nodes;
- no import of another module's private name (``from .x import _name``; dunders like ``__version__`` pass);
- the days depend one way only: a node may import only nodes of its rank or lower (``RANKS`` below).
  A node missing from ``RANKS`` fails: give it a rank deliberately.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "rescue"

PLUMBING = 0
# rank of each node: a node of rank r may import only nodes of rank <= r
RANKS: dict[str, float] = {
    **dict.fromkeys(
        [
            "errors",
            "hashing",
            "ledger",
            "stats",
            "spec",
            "artifacts",
            "auditlog",
            "render",
            "units",
            "pdf",
            "params",
            "charts",
            "systems",
            "inputs",
            "traces",
            "prices",
            "tables",
            "models",
            "pii",
            "jsonschemas",
            "kernels",
            "days",
        ],
        PLUMBING,
    ),
    "gap": 1,  # Day 1
    "data": 2,  # Day 2
    "evalset": 3,  # Day 3
    "evals": 4,  # Day 4
    "owner": 5,  # Day 5
    "readout": 5.5,  # Day 5's readout may use the owner, not the other way round
    # orchestrators: may import anything
    **dict.fromkeys(["week", "cli", "gate", "portfolio", "scaffold", "home", "__init__"], 6),
}


@dataclass(frozen=True)
class Import:
    """One imported module (or name of the package root) of one file."""

    file: str  # path relative to the repository
    line: int
    source: str  # node of the importing file
    target: str  # node of the imported module
    module: str  # what is imported, dotted (``rescue.spec.Spec``, ``rescue.__version__``)
    name: str | None  # the name of a ``from ... import name``, else None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def what(self) -> str:
        """What is imported, dotted: ``rescue.spec``, ``rescue.spec.Spec``, ``rescue.__version__``."""
        if self.name is None or self.name == "*" or self.module.endswith("." + self.name):
            return self.module
        return f"{self.module}.{self.name}"


def module_of(path: Path, root: Path) -> str:
    """Dotted module name of ``path`` (``rescue/gap/__init__.py`` -> ``rescue.gap``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def node_of(module: str, package: str = PACKAGE) -> str | None:
    """The node of a dotted module: ``__init__`` for the package root itself, None outside the package."""
    parts = module.split(".")
    if parts[0] != package:
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def is_module(dotted: str, root: Path) -> bool:
    """Whether ``dotted`` names a module or a (namespace) package under ``root``."""
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or base.is_dir()


def resolve_from(path: Path, root: Path, level: int, module: str | None) -> str:
    """The absolute module of ``from <level dots><module> import ...`` written in ``path``."""
    if level == 0:
        return module or ""
    here = module_of(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def imports_of(path: Path, root: Path, package: str = PACKAGE) -> list[Import]:
    """Every import of a ``package`` module in ``path``, wherever it is written (functions, ``if`` blocks)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    file = path.relative_to(root).as_posix()
    source = node_of(module_of(path, root), package)
    assert source is not None
    found: list[Import] = []

    def add(line: int, module: str, name: str | None) -> None:
        target = node_of(module, package)
        if target is not None:
            found.append(Import(file, line, source, target, module, name))

    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                add(getattr(alias, "lineno", stmt.lineno), alias.name, None)
        elif isinstance(stmt, ast.ImportFrom):
            base = resolve_from(path, root, stmt.level, stmt.module)
            for alias in stmt.names:
                line = getattr(alias, "lineno", stmt.lineno)
                # ``from rescue import spec`` imports module rescue.spec; ``from rescue import Spec`` a name
                sub = f"{base}.{alias.name}"
                add(line, sub if alias.name != "*" and is_module(sub, root) else base, alias.name)
    return found


def python_files(root: Path, package: str = PACKAGE) -> list[Path]:
    return sorted((root / package).rglob("*.py"))


def collect(root: Path, package: str = PACKAGE) -> tuple[list[Import], set[str], list[str]]:
    """All imports of the package, its nodes (files' and imports' ones) and the files that failed to parse."""
    found: list[Import] = []
    nodes: set[str] = set()
    broken: list[str] = []
    for path in python_files(root, package):
        try:
            found += imports_of(path, root, package)
        except FileNotFoundError:  # moved away while we walk (files are being moved around)
            continue
        except SyntaxError as exc:
            broken.append(f"{path.relative_to(root).as_posix()}:{exc.lineno}: {exc.msg}")
            continue
        nodes.add(node_of(module_of(path, root), package) or "?")
    nodes |= {imp.target for imp in found}
    return found, nodes, broken


def graph_of(found: Iterable[Import]) -> dict[str, dict[str, list[Import]]]:
    """node -> imported node -> the imports making that edge (imports within a node are not edges)."""
    graph: dict[str, dict[str, list[Import]]] = {}
    for imp in found:
        if imp.source != imp.target:
            graph.setdefault(imp.source, {}).setdefault(imp.target, []).append(imp)
    return graph


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph``, each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    nodes = sorted(set(graph) | {t for targets in graph.values() for t in targets})

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
            components.append(sorted(component))

    for v in nodes:
        if v not in index:
            visit(v)
    return sorted(components)


def find_cycles(graph: Mapping[str, Iterable[str]], limit: int = 100) -> list[list[str]]:
    """The elementary cycles of ``graph`` (each starting at its smallest node), at most ``limit`` of them.

    Within each strongly connected component of more than one node, a depth-first search from each node
    ``s`` through nodes greater than ``s`` finds every cycle once. Self-loops are ignored.
    """
    cycles: list[list[str]] = []

    def extend(path: list[str], members: set[str]) -> None:
        start = path[0]
        for w in sorted(set(graph.get(path[-1], ())) & members):
            if len(cycles) >= limit:
                return
            if w == start and len(path) > 1:
                cycles.append(list(path))
            elif w > start and w not in path:
                extend([*path, w], members)

    for component in strongly_connected(graph):
        if len(component) > 1:
            for start in component:
                extend([start], set(component))
    return cycles


FOUND, NODES, BROKEN = collect(REPO)
GRAPH = graph_of(FOUND)


def test_every_module_parses() -> None:
    assert not BROKEN, "files that do not parse:\n" + "\n".join(BROKEN)


def test_the_walk_sees_the_package() -> None:
    assert len(python_files(REPO)) > 10 and FOUND, "no rescue/**/*.py or no imports found: is REPO right?"


def test_imported_modules_exist() -> None:
    """Not one of the three rules, but a moved module leaves imports of nothing behind: list them."""
    missing = {
        f"{imp.where} imports {imp.module}: no such module": None
        for imp in FOUND
        if not is_module(imp.module, REPO)
    }
    if missing:
        pytest.fail("imports of rescue modules that do not exist:\n" + "\n".join(missing), pytrace=False)


def test_no_import_cycle_between_nodes() -> None:
    lines = []
    for cycle in find_cycles({v: set(ts) for v, ts in GRAPH.items()}):
        hops = zip(cycle, [*cycle[1:], cycle[0]], strict=True)
        lines.append(" -> ".join([*cycle, cycle[0]]))
        lines += [f"    {a} -> {b}: {GRAPH[a][b][0].where} imports {GRAPH[a][b][0].what}" for a, b in hops]
    if lines:
        pytest.fail("import cycles between rescue subpackages/modules:\n" + "\n".join(lines), pytrace=False)


def test_no_import_of_private_names() -> None:
    offences = [
        f"{imp.where} imports {imp.what}"
        for imp in FOUND
        if imp.name
        and imp.name.startswith("_")
        and not (imp.name.startswith("__") and imp.name.endswith("__"))
    ]
    if offences:
        pytest.fail("imports of another module's private name:\n" + "\n".join(offences), pytrace=False)


def test_every_node_has_a_rank() -> None:
    unranked = sorted(NODES - set(RANKS))
    where = {n: sorted({i.where for i in FOUND if n in (i.source, i.target)})[:3] for n in unranked}
    if unranked:
        pytest.fail(
            "\n".join(
                f"rescue node {n!r} has no rank: give it one in RANKS in tests/test_layout.py "
                f"(plumbing 0, day 1-5, orchestrator 6); seen at {', '.join(where[n]) or 'its files'}"
                for n in unranked
            ),
            pytrace=False,
        )


def test_days_depend_one_way() -> None:
    offences = [
        f"{imp.where} imports {imp.what} ({imp.source} rank {RANKS[imp.source]:g} -> "
        f"{imp.target} rank {RANKS[imp.target]:g})"
        for imp in FOUND
        if imp.source in RANKS
        and imp.target in RANKS
        and RANKS[imp.target] > RANKS[imp.source]
        and imp.what != "rescue.__version__"  # the package's version is data, not code of a later rank
    ]
    if offences:
        pytest.fail("imports of a later day (or of an orchestrator):\n" + "\n".join(offences), pytrace=False)


# the checks themselves, on synthetic graphs and packages: they can fail


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"a"}}, []),  # a self-loop is an import within a node
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        # a three-node cycle with no pair importing each other: a pairwise check misses it
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"a", "c"}, "c": {"a"}}, [["a", "b"], ["a", "b", "c"]]),
    ],
)
def test_find_cycles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert find_cycles(graph) == expected


def test_imports_are_resolved(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "day").mkdir(parents=True)
    (pkg / "__init__.py").write_text("__version__ = '1'\n")
    (pkg / "base.py").write_text("from . import __version__\nfrom .day import late\n")
    (pkg / "day" / "__init__.py").write_text("from . import late\n")
    (pkg / "day" / "late.py").write_text(
        "import os\n\ndef f():\n    from ..base import _hidden\n"
        "    import pkg.base\n    from pkg import base\n"
    )
    found, nodes, broken = collect(tmp_path, "pkg")
    assert not broken and nodes == {"__init__", "base", "day"}
    edges = {(i.file, i.line, i.target, i.module) for i in found}
    assert edges == {
        ("pkg/base.py", 1, "__init__", "pkg"),
        ("pkg/base.py", 2, "day", "pkg.day.late"),
        ("pkg/day/__init__.py", 1, "day", "pkg.day.late"),
        ("pkg/day/late.py", 4, "base", "pkg.base"),
        ("pkg/day/late.py", 5, "base", "pkg.base"),
        ("pkg/day/late.py", 6, "base", "pkg.base"),
    }
    assert [i.name for i in found if i.name and i.name.startswith("_")] == ["__version__", "_hidden"]
    assert find_cycles({v: set(ts) for v, ts in graph_of(found).items()}) == [["base", "day"]]
