"""``python`` and ``notebook`` systems: a function defined in the PoC's own module or notebook, called in-process.

A notebook runs as it is, its setup and never its demo (:mod:`rescue.systems.notebook` writes the rule down).
The function is called with the item's fields its parameters name (``poc.inputs``; by default the item's text),
may be ``async``, and may return text, a dict, a list, a pydantic model, a dataclass or an SDK response
(:func:`rescue.systems.parse.normalise`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat

from ..errors import RescueError
from ..hashing import file_sha256
from ..spec import PocSpec, Spec
from .base import Adapter, Answer, CallFailed, behaviour, config_hash
from .notebook import explain, notebook_setup, python_of
from .parse import normalise


def strip_magics(source: str) -> str:
    """A cell as Python, its IPython magics and shell escapes dropped (:func:`rescue.systems.notebook.python_of`)."""
    return python_of(source)


def notebook_code(path: Path) -> list[str]:
    """The source of each code cell of a notebook, as Python (magics dropped)."""
    nb = nbformat.read(str(path), as_version=4)
    return [python_of(c.source) for c in nb.cells if c.cell_type == "code"]


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def load_function(path: Path, function: str, notebook: bool, setup_cells: list[int] | None = None,
                  skip_cells: list[int] | None = None) -> Callable[..., Any]:  # fmt: skip
    """Load ``function`` from a module file, or from a notebook run as it is (its setup, never its demo: see
    :mod:`rescue.systems.notebook`). A notebook's function carries its setup as ``__rescue_setup__``."""
    namespace: dict[str, Any] = {"__name__": f"rescue_poc_{path.stem}", "__file__": str(path)}
    setup = notebook_setup(path, function, setup_cells, skip_cells) if notebook else None
    with _cwd(path.parent):
        if setup is None:
            _run(path.read_text(encoding="utf-8"), str(path), namespace, path.name)
        else:
            for number, code in setup.cells:
                _run(code, f"{path.name} cell {number}", namespace, f"{path.name}, cell {number}")
    fn = namespace.get(function)
    if not callable(fn):
        where = ""
        if setup is not None and setup.who_sets(function):
            where = f": {setup.who_sets(function).hint()}"  # type: ignore[union-attr]
        raise RescueError(f"{path.name} defines no function {function}(){where}")
    if setup is not None:
        with contextlib.suppress(AttributeError, TypeError):
            fn.__rescue_setup__ = setup  # type: ignore[attr-defined]
    return fn


def _run(code: str, filename: str, namespace: dict[str, Any], where: str) -> None:
    try:
        exec(compile(code, filename, "exec"), namespace)  # running the PoC's own code is the point
    except Exception as exc:  # the PoC's code may fail in any way: say so, and where, instead of crashing
        line = next(
            (f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename), None
        )
        at = f"{where}" + (f", line {line}" if line else "")
        raise RescueError(f"the PoC failed to load ({at}): {type(exc).__name__}: {exc}") from None


def call_with(fn: Callable[..., Any], item: dict[str, Any], inputs: dict[str, str] | None) -> Any:
    """Call ``fn`` on ``item``: with the item's fields its parameters name (``inputs``: parameter -> field), or
    with the item's text; an ``async`` function is run to its end."""
    if inputs:
        missing = [f for f in inputs.values() if f not in item]
        if missing:
            raise CallFailed("bad_request", f"the item has no field {missing[0]!r} (poc.inputs); it has: "
                             f"{', '.join(sorted(k for k in item if not k.startswith('_')))}")  # fmt: skip
        result = fn(**{param: item[f] for param, f in inputs.items()})
    else:
        result = fn(item["text"])
    if inspect.isawaitable(result):
        result = asyncio.run(_awaited(result))
    return result


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def function_adapter(spec: Spec, poc: PocSpec, name: str = "poc") -> Adapter:
    """The adapter for a ``python`` or ``notebook`` system."""
    path = spec.path(poc.path or "")
    fn = load_function(path, poc.function or "", poc.kind == "notebook", poc.setup_cells, poc.skip_cells)
    setup = getattr(fn, "__rescue_setup__", None)

    def call(item: dict[str, Any]) -> Answer:
        try:
            output = call_with(fn, item, poc.inputs)
        except CallFailed:
            raise
        except Exception as exc:  # the PoC's own failure is a finding, recorded and counted
            hint = explain(setup, exc) if setup is not None else None
            raise CallFailed(
                "error", f"{type(exc).__name__}: {exc}" + (f" — {hint}" if hint else "")
            ) from None
        value, raw, tokens_in, tokens_out = normalise(output)
        return Answer(value, tokens_in, tokens_out, raw)

    return Adapter(
        name,
        config_hash(behaviour(poc), file_sha256(path)),
        call,
        poc.timeout_s,
        poc.concurrency,
    )
