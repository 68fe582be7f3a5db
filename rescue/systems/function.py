"""``python`` and ``notebook`` systems: a function defined in the PoC's own module or notebook.

A notebook runs as it is, its setup and never its demo (:mod:`rescue.systems.notebook` writes the rule down).
The function is called with the item's fields its parameters name (``poc.inputs``; by default the item's text),
may be ``async``, and may return text, a dict, a list, a pydantic model, a dataclass or an SDK response
(:func:`rescue.systems.shapes.normalise`). By default it runs in worker processes of the PoC's interpreter
(:mod:`rescue.systems.workers`: a hang is killed at ``poc.timeout_s``, a crash fails one item, ``poc.python``
names the PoC's own virtualenv); ``poc.isolation: thread`` calls it in rescue's own process, in a thread.

**The PoC's environment** is rescue's with ``poc.env`` over it (:func:`poc_env`): text, with ``{port}`` and
``{url}`` filled from ``poc.url``, or ``${VAR}`` read from rescue's environment when the adapter is made (a secret:
remembered, so it is redacted from everything rescue writes). An inherited variable that ``poc.env`` names in
another case is dropped (``http_proxy`` and ``HTTP_PROXY`` are both read, the lower-case one first). The worker
processes get it at their start; with ``poc.isolation: thread`` it is set in rescue's own process while the adapter
is open (until :attr:`Adapter.close`; rescue's own code there sees it too). With ``poc.serve`` and ``poc.url``,
the served endpoint (a local stub, a model server) is started first (:func:`rescue.systems.serve.ensure_served`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat

from ..errors import SpecError, SpecIssue
from ..hashing import file_sha256
from ..spec import PocSpec, SecretRef, Spec
from .base import Adapter, Answer, CallFailed, behaviour, config_hash
from .notebook import explain, notebook_setup, python_of
from .serve import ensure_served
from .shapes import normalise
from .spans import Spans
from .watch import Watch
from .workers import PocCode, WorkerPool, call_tokens, input_fields, with_personal_data


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


def poc_code(path: Path, function: str, notebook: bool, setup_cells: list[int] | None = None,
             skip_cells: list[int] | None = None) -> PocCode:  # fmt: skip
    """What of the PoC runs before a call: a module file whole, a notebook's setup cell by cell (its demo never:
    see :mod:`rescue.systems.notebook`)."""
    if not notebook:
        return PocCode(path, function, [(str(path), path.name, path.read_text(encoding="utf-8"))])
    setup = notebook_setup(path, function, setup_cells, skip_cells)
    pieces = [(f"{path.name} cell {n}", f"{path.name}, cell {n}", code) for n, code in setup.cells]
    return PocCode(path, function, pieces, setup)


def load_function(path: Path, function: str, notebook: bool, setup_cells: list[int] | None = None,
                  skip_cells: list[int] | None = None) -> Callable[..., Any]:  # fmt: skip
    """Load ``function`` into rescue's own process from a module file, or from a notebook run as it is (its setup,
    never its demo: see :mod:`rescue.systems.notebook`). A notebook's function carries its setup as
    ``__rescue_setup__``."""
    code = poc_code(path, function, notebook, setup_cells, skip_cells)
    module = types.ModuleType(code.name)  # in sys.modules, as a script's __main__ is: dataclasses need it
    module.__file__ = str(path)
    sys.modules[code.name] = module
    namespace = module.__dict__
    with _cwd(path.parent):
        for filename, where, source in code.pieces:
            _run(code, source, filename, namespace, where)
    fn = namespace.get(function)
    if not callable(fn):
        raise code.no_function()
    if code.setup is not None:
        with contextlib.suppress(AttributeError, TypeError):
            fn.__rescue_setup__ = code.setup  # type: ignore[attr-defined]
    return fn


def _run(code: PocCode, source: str, filename: str, namespace: dict[str, Any], where: str) -> None:
    try:
        exec(compile(source, filename, "exec"), namespace)  # running the PoC's own code is the point
    except Exception as exc:  # the PoC's code may fail in any way: say so, and where, instead of crashing
        line = next(
            (f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename), None
        )
        raise code.load_failed(where, line, type(exc).__name__, str(exc)) from None


def call_with(fn: Callable[..., Any], item: dict[str, Any], inputs: dict[str, str] | None) -> Any:
    """Call ``fn`` on ``item``: with the item's fields its parameters name (``inputs``: parameter -> field), or
    with the item's text; an ``async`` function is run to its end."""
    fields = input_fields(item, inputs)
    result = fn(**{param: fields[f] for param, f in inputs.items()}) if inputs else fn(fields["text"])
    if inspect.isawaitable(result):
        result = asyncio.run(_awaited(result))
    return result


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _spans(sent: Spans) -> list[dict[str, Any]] | None:
    """A call's spans with the personal data in each request counted (None when none were captured)."""
    return with_personal_data(sent.spans, sent.sent)


def _where(spec: Spec, poc: PocSpec) -> str:
    """The field path that declares ``poc`` in the spec (``poc``, ``eval.baseline_system``)."""
    return next((where for where, system in spec.systems() if system is poc), "poc")


def poc_env(spec: Spec, poc: PocSpec) -> dict[str, str]:
    """The variables ``poc.env`` sets for the PoC's processes: text with ``{port}`` and ``{url}`` filled from
    ``poc.url``; a ``${VAR}`` read from rescue's environment now (remembered as a secret, so it is redacted from
    everything rescue writes), its fallback when unset, else :class:`~rescue.errors.SecretUnavailable`."""
    at = _where(spec, poc)
    url = poc.url or ""
    port = str(urlsplit(url).port or "") if url else ""
    return {
        name: value.resolve(f"{at}.env.{name}")
        if isinstance(value, SecretRef)
        else value.replace("{port}", port).replace("{url}", url)
        for name, value in poc.env.items()
    }


def process_env(spec: Spec, poc: PocSpec, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the PoC's processes: ``base`` (rescue's) with :func:`poc_env` over it; an inherited
    variable that ``poc.env`` names in another case is dropped, as proxies are read in either case."""
    own = poc_env(spec, poc)
    names = {name.lower() for name in own}
    inherited = dict(os.environ if base is None else base)
    return {**{k: v for k, v in inherited.items() if k.lower() not in names}, **own}


def _set_environ(env: dict[str, str]) -> Callable[[], None]:
    """Set ``env`` in this process's environment (a variable it names in another case set aside, as
    :func:`process_env` drops it); the function that puts the environment back."""
    names = {name.lower() for name in env}
    before = {name: os.environ.get(name) for name in [*env, *(k for k in os.environ if k.lower() in names)]}
    for name in before:
        os.environ.pop(name, None)
    os.environ.update(env)

    def restore() -> None:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return restore


def _interpreter(spec: Spec, poc: PocSpec) -> str | None:
    """The interpreter ``poc.python`` names (None: rescue's own), checked to be an executable file."""
    if poc.python is None:
        return None
    at = f"{_where(spec, poc)}.python"
    path = spec.path(poc.python)  # not resolved: a virtualenv's python is a link its folder gives meaning to
    if not path.is_file() or not os.access(path, os.X_OK):
        raise SpecError(spec.file, [SpecIssue(at, poc.python, "an executable Python interpreter (3.9 or later), "
                                              "e.g. the PoC's .venv/bin/python, relative to the project")])  # fmt: skip
    if poc.isolation == "thread":
        raise SpecError(spec.file, [SpecIssue(at, poc.python, "no interpreter when isolation is thread "
                                              "(the PoC then runs in rescue's own)")])  # fmt: skip
    return str(path)


def function_adapter(spec: Spec, poc: PocSpec, name: str = "poc") -> Adapter:
    """The adapter for a ``python`` or ``notebook`` system: in worker processes (``poc.isolation: process``, the
    default) or in a thread of rescue's own process."""
    path = spec.path(poc.path or "")
    # what the PoC is told (a base URL, a proxy) is behaviour; which variable holds its key is not
    told = {name: value for name, value in poc.env.items() if not isinstance(value, SecretRef)}
    config = config_hash(behaviour(poc, {"env"}), file_sha256(path), *([{"env": told}] if told else []))
    notebook = poc.kind == "notebook"
    python = _interpreter(spec, poc)
    if poc.serve and poc.url:
        ensure_served(spec, poc, _where(spec, poc))
    if poc.isolation == "process":
        code = poc_code(path, poc.function or "", notebook, poc.setup_cells, poc.skip_cells)
        env = process_env(spec, poc) if poc.env else None
        pool = WorkerPool(code, poc.inputs, python, poc.concurrency, poc.timeout_s, env=env)
        return Adapter(name, config, pool.call, poc.timeout_s, poc.concurrency, close=pool.close)
    restore = _set_environ(poc_env(spec, poc))
    try:
        fn = load_function(path, poc.function or "", notebook, poc.setup_cells, poc.skip_cells)
    except BaseException:
        restore()
        raise
    setup = getattr(fn, "__rescue_setup__", None)

    def call(item: dict[str, Any]) -> Answer:
        seen = Watch()  # where the call goes on the network
        sent = Spans(per_thread=True)  # the HTTP requests it sends (calls run side by side in threads here)
        try:
            with seen, sent:
                output = call_with(fn, item, poc.inputs)
        except CallFailed as failure:
            failure.destinations, failure.spans = seen.destinations, _spans(sent)
            raise
        except Exception as exc:  # the PoC's own failure is a finding, recorded and counted
            hint = explain(setup, exc) if setup is not None else None
            failure = CallFailed("error", f"{type(exc).__name__}: {exc}" + (f" — {hint}" if hint else ""))
            failure.destinations, failure.spans = seen.destinations, _spans(sent)
            raise failure from None
        value, raw, tokens_in, tokens_out = normalise(output)
        spans = _spans(sent)
        tokens_in, tokens_out = call_tokens(tokens_in, tokens_out, spans)
        return Answer(value, tokens_in, tokens_out, raw, destinations=seen.destinations, spans=spans)

    return Adapter(name, config, call, poc.timeout_s, poc.concurrency, close=restore if poc.env else None)
