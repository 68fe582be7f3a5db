"""The PoC's notebook run as it is: its setup, never its demo.

The rule, statement by statement over the code cells, top to bottom (cells are numbered from 1 over all
cells, as they stand in the notebook):

- **run**: imports, function and class definitions, assignments of any value (a client, a loaded index, a
  model handle, a constant), ``with``/``try``/``if`` blocks, loops that do more than display, and calls made
  for their effect (``load_dotenv()``, ``index.add(docs)``);
- **skip**: any statement that calls the entry function (``classify(...)``), statements that only display,
  print or plot (``print``, ``display``, ``plt.*``, ``df.head()``, a bare value at the end of a cell), loops
  that only display, ``assert``, ``if __name__ == "__main__":``, a top-level ``raise`` and the rest of its cell
  (the notebook stops there too), and every statement that reads a name a skipped statement set or changed
  (``results.append(...)``, ``seen[k] = ...``, ``obj.attr = ...`` in a demo loop): its value would not be the
  notebook's;
- IPython magics and shell escapes (``%pip``, ``!ls``, ``%%time``) are dropped as IPython itself parses them, so a
  string literal holding ``!`` or ``%`` is left whole; a cell under ``%%time`` or ``%%capture`` runs its body.

Overrides, without editing logic: the cell tags ``rescue-setup`` (run the cell as it is) and ``rescue-skip``
(never run it), or ``poc.setup_cells`` / ``poc.skip_cells`` in rescue.yaml (cell numbers). When a call fails on a
name the rule skipped, the error names the cell and statement that set it and how to include it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

SETUP_TAG, SKIP_TAG = "rescue-setup", "rescue-skip"
# what only displays, prints or plots: a call to one of these, or a method of these names
DISPLAY_FUNCTIONS = frozenset({"print", "display", "pprint", "Markdown", "HTML", "clear_output", "show"})
DISPLAY_MODULES = frozenset({"plt", "sns", "px", "go", "alt", "pprint"})
DISPLAY_METHODS = frozenset({
    "head", "tail", "describe", "info", "show", "plot", "hist", "value_counts", "sample", "display",
    "to_markdown", "style", "savefig", "barh", "bar", "scatter",
})  # fmt: skip
BODY_MAGICS = frozenset({"time", "capture", "timeit"})  # cell magics whose body is the cell's Python
# methods that change the object they are called on (lists, dicts, sets): a skipped statement calling one changes
# a name it does not bind
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "update", "add", "setdefault", "pop", "popitem", "remove", "discard", "clear",
    "sort", "reverse",
})  # fmt: skip


@dataclass(frozen=True)
class Skipped:
    """A statement the rule did not run: where it is, why, and the names it would have set."""

    cell: int
    line: int
    statement: str
    why: str
    names: frozenset[str] = frozenset()

    def hint(self) -> str:
        """How to run it anyway."""
        return (f"cell {self.cell}, line {self.line} (`{self.statement}`) sets or changes it, and rescue skipped it because it "
                f"{self.why}; tag that cell `{SETUP_TAG}` or list it in poc.setup_cells to run it")  # fmt: skip


@dataclass
class NotebookSetup:
    """What of a notebook runs (one code object per cell, named after the cell) and what was skipped."""

    path: Path
    cells: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def who_sets(self, name: str) -> Skipped | None:
        """The last skipped statement that would have set ``name``."""
        return next((s for s in reversed(self.skipped) if name in s.names), None)


def python_of(source: str) -> str:
    """A cell as Python, its magics and shell escapes dropped the way IPython parses them (a string literal
    that holds ``!`` or ``%`` is untouched). ``%%time``/``%%capture`` cells give their body."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        code = TransformerManager().transform_cell(source)
        tree = ast.parse(code)
    except SyntaxError:
        return source
    body: list[ast.stmt] = []
    for node in tree.body:
        magic = _ipython_call(node)
        if magic is None:
            body.append(node)
        elif magic[0] == "run_cell_magic" and magic[1] in BODY_MAGICS and magic[2] is not None:
            inner = python_of(magic[2])
            body.extend(ast.parse(inner).body if inner.strip() else [])
    return ast.unparse(ast.Module(body=body, type_ignores=[])) if body else ""


def _ipython_call(node: ast.stmt) -> tuple[str, str, str | None] | None:
    """``get_ipython().run_*_magic(name, ..., body)`` or ``get_ipython().system(...)``: (method, magic, body)."""
    value = node.value if isinstance(node, ast.Expr | ast.Assign) else None
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
        return None
    owner = value.func.value
    if not (
        isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "get_ipython"
    ):
        return None
    args = [a.value if isinstance(a, ast.Constant) else None for a in value.args]
    name = str(args[0]) if args else ""
    body = args[2] if len(args) > 2 and isinstance(args[2], str) else None
    return value.func.attr, name, body


def _bound(node: ast.AST) -> set[str]:
    """The names (and attributes) a top-level statement sets; a definition sets its own name only."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {a.asname or a.name.split(".")[0] for a in node.names}
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        elif isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store):
            names.add(n.attr)
        elif isinstance(n, ast.Import | ast.ImportFrom):
            names |= {a.asname or a.name.split(".")[0] for a in n.names}
    return names


def _root(expr: ast.expr) -> str | None:
    while isinstance(expr, ast.Attribute | ast.Subscript):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def _changed(node: ast.AST) -> set[str]:
    """The names a statement changes without binding them: the object of a mutating method call
    (:data:`MUTATING_METHODS`), of an item or attribute assignment or deletion."""
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in MUTATING_METHODS:
            root = _root(n.func.value)
        elif isinstance(n, ast.Subscript | ast.Attribute) and isinstance(n.ctx, ast.Store | ast.Del):
            root = _root(n.value)
        else:
            continue
        if root is not None:
            names.add(root)
    return names


def _read(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _calls(node: ast.AST, entry: str) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == entry
        for n in ast.walk(node)
    )


def _displays(call: ast.expr) -> bool:
    if isinstance(call, ast.Await):
        call = call.value
    if not isinstance(call, ast.Call):
        return True  # a bare value: shown at the end of a cell, nothing else
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in DISPLAY_FUNCTIONS
    if isinstance(func, ast.Attribute):
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value  # type: ignore[assignment]
        module = root.id if isinstance(root, ast.Name) else ""
        return func.attr in DISPLAY_METHODS or module in DISPLAY_MODULES
    return False


def _only_displays(body: list[ast.stmt]) -> bool:
    for node in body:
        if isinstance(node, ast.Expr):
            if not _displays(node.value):
                return False
        elif isinstance(node, ast.For | ast.AsyncFor | ast.While | ast.If):
            if not _only_displays(node.body) or not _only_displays(node.orelse):
                return False
        elif not isinstance(node, ast.Pass | ast.Continue | ast.Break):
            return False
    return True


def _is_main_guard(node: ast.stmt) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")  # fmt: skip


def why_skip(node: ast.stmt, entry: str, tainted: set[str]) -> str | None:
    """Why the rule skips ``node`` (None: it runs). ``tainted``: names a skipped statement set."""
    if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return None
    if _calls(node, entry):
        return f"calls {entry}(), the entry function"
    stale = sorted(_read(node) & tainted)
    if stale:
        return f"reads {stale[0]}, which a skipped statement sets"
    if isinstance(node, ast.Expr) and _displays(node.value):
        return "only displays, prints or plots"
    if isinstance(node, ast.For | ast.AsyncFor | ast.While) and _only_displays([node]):
        return "only displays, prints or plots"
    if isinstance(node, ast.Assert):
        return "checks the demo (assert)"
    if _is_main_guard(node):
        return 'is the script\'s `if __name__ == "__main__":` block'
    return None


def _first_line(node: ast.stmt) -> str:
    text = ast.unparse(node).splitlines()[0] if ast.unparse(node) else ""
    return text if len(text) <= 80 else text[:77] + "..."


def notebook_setup(path: Path, entry: str, setup_cells: list[int] | None = None,
                   skip_cells: list[int] | None = None) -> NotebookSetup:  # fmt: skip
    """The setup of the notebook at ``path`` under the rule above, for the entry function ``entry``."""
    nb = nbformat.read(str(path), as_version=4)
    setup, skip = set(setup_cells or []), set(skip_cells or [])
    result = NotebookSetup(path)
    tainted: set[str] = set()
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        code = python_of(cell.source)
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            if SKIP_TAG in tags or number in skip:
                continue
            result.skipped.append(
                Skipped(number, exc.lineno or 1, (exc.text or "").strip()[:80], "is not valid Python")
            )
            continue
        if SKIP_TAG in tags or number in skip:
            names = frozenset().union(*(_bound(node) | _changed(node) for node in tree.body))
            tainted |= names
            result.skipped.append(
                Skipped(number, 1, f"the whole cell ({SKIP_TAG})", "is marked to skip", names)
            )
            continue
        if SETUP_TAG in tags or number in setup:
            result.cells.append((number, code))
            tainted -= set().union(*(_bound(node) for node in tree.body))
            continue
        kept: list[ast.stmt] = []
        stopped = False  # a top-level raise ends the cell in the notebook too: nothing after it runs
        for node in tree.body:
            why = "comes after a raise that ends its cell" if stopped else why_skip(node, entry, tainted)
            if isinstance(node, ast.Raise):
                stopped, why = True, why or "raises, ending its cell (a stop before the demo)"
            if why is None:
                kept.append(node)
                tainted -= _bound(node)
            else:
                names = frozenset(_bound(node) | _changed(node))
                tainted |= names
                result.skipped.append(Skipped(number, node.lineno, _first_line(node), why, names))
        if kept:
            result.cells.append((number, ast.unparse(ast.Module(body=kept, type_ignores=[]))))
    return result


_UNDEFINED = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")
_NO_ATTRIBUTE = re.compile(r"has no attribute '([A-Za-z_][A-Za-z0-9_]*)'")


def explain(setup: NotebookSetup, exc: BaseException | str, message: str | None = None) -> str | None:
    """For a NameError (or AttributeError) on a name the rule skipped: where it is set and how to run it.

    ``exc`` is the exception, or the name of its type with its ``message`` (a worker process's error)."""
    if isinstance(exc, BaseException):
        name_error, text = isinstance(exc, NameError), str(exc)
    else:
        name_error, text = exc in ("NameError", "UnboundLocalError"), message or ""
    match = _UNDEFINED.search(text) if name_error else _NO_ATTRIBUTE.search(text)
    if match is None:
        return None
    found = setup.who_sets(match.group(1))
    return None if found is None else f"`{match.group(1)}`: {found.hint()}"
