"""``python`` and ``notebook`` systems: a function defined in the PoC's own module or notebook, called in-process.

From a notebook only the definitions run (imports, functions, classes, assignments of constants), never its
demo cells: see :func:`definitions_only`.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat

from ..errors import RescueError
from ..hashing import file_sha256
from ..spec import PocSpec, Spec
from .base import Adapter, Answer, CallFailed, config_hash
from .parse import token_usage

_DEF_NODES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_MAGIC = re.compile(r"(?m)^\s*[%!].*$")
# computed constants (re.compile, set(...) of literals) are kept when they only call these
_SAFE_CALLS = {"re", "set", "frozenset", "dict", "list", "tuple", "sorted", "str", "int", "float"}


def strip_magics(source: str) -> str:
    """Blank IPython magics and shell escapes (``%pip``, ``!ls``): they are not Python."""
    return _MAGIC.sub("", source)


def notebook_code(path: Path) -> list[str]:
    """The source of each code cell of a notebook, magics blanked."""
    nb = nbformat.read(str(path), as_version=4)
    return [strip_magics(c.source) for c in nb.cells if c.cell_type == "code"]


def definitions_only(source: str) -> str:
    """Keep imports, defs, classes and assignments of constants; drop demo code, prints and I/O."""
    try:
        tree = ast.parse(strip_magics(source))
    except SyntaxError:
        return ""
    kept = []
    for node in tree.body:
        if isinstance(node, _DEF_NODES):
            kept.append(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            value = node.value
            try:
                if value is not None:
                    ast.literal_eval(value)
                kept.append(node)
            except ValueError:
                names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
                if names <= _SAFE_CALLS:
                    kept.append(node)
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def load_function(path: Path, function: str, notebook: bool) -> Callable[..., Any]:
    """Load ``function`` from a module file or from the definitions in a notebook (no demo cells run)."""
    if notebook:
        code = "\n\n".join(definitions_only(cell) for cell in notebook_code(path))
    else:
        code = path.read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": f"rescue_poc_{path.stem}", "__file__": str(path)}
    with _cwd(path.parent):
        try:
            exec(compile(code, str(path), "exec"), namespace)  # running the PoC's own code is the point
        except Exception as exc:  # the PoC's code may fail in any way: say so instead of crashing
            raise RescueError(f"the PoC in {path.name} failed to load: {type(exc).__name__}: {exc}") from None
    fn = namespace.get(function)
    if not callable(fn):
        raise RescueError(f"{path.name} defines no function {function}()")
    return fn


def function_adapter(spec: Spec, poc: PocSpec, name: str = "poc") -> Adapter:
    """The adapter for a ``python`` or ``notebook`` system."""
    path = spec.path(poc.path or "")
    fn = load_function(path, poc.function or "", notebook=poc.kind == "notebook")

    def call(item: dict[str, Any]) -> Answer:
        try:
            output = fn(item["text"])
        except Exception as exc:  # the PoC's own failure is a finding, recorded and counted
            raise CallFailed("error", f"{type(exc).__name__}: {exc}") from None
        usage = output.get("usage") if isinstance(output, dict) else None
        return Answer(output, *(token_usage(usage) if usage else (None, None)))

    return Adapter(
        name,
        config_hash(poc.model_dump(mode="json"), file_sha256(path)),
        call,
        poc.timeout_s,
        poc.concurrency,
    )
