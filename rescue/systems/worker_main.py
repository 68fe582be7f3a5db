"""One worker process of the PoC: it runs the PoC's setup once, then answers calls one at a time, in JSON.

:mod:`rescue.systems.workers` starts it as ``PYTHON worker_main.py FD PID LOGS`` in the PoC's interpreter
(rescue's own, or ``poc.python``), where rescue need not be installed: this file and :mod:`rescue.systems.shapes`
next to it use the standard library only and run in Python 3.9 or later. ``FD`` is this process's end of a
socket pair with rescue (no address anyone else could connect to); each message is one JSON document framed by
``multiprocessing.connection`` (``send_bytes``/``recv_bytes``: nothing is ever unpickled):

    rescue -> worker  {"setup": {"path", "name", "code": [[filename, where, source], ...], "function", "spans"}}
    worker -> rescue  {"ready": true} | {"failed": {"where", "line", "type", "message"}} | {"no_function": true}
    rescue -> worker  {"item": {field: value}, "inputs": {parameter: field} | null}          (one per call)
    worker -> rescue  {"ok": true, "output", "raw", "tokens_in", "tokens_out", "destinations"[, "spans", "sent"]}
                    | {"ok": false, "kind", "type", "message", "destinations"[, "spans", "sent"]}
    rescue -> worker  {"stop": true}                                   (the pool closes: the worker exits)

The setup runs in one namespace (a module in ``sys.modules``, never ``__main__``), with the PoC file's folder
as the working directory and first on ``sys.path``, as when the PoC runs on its own; the PoC's prints go to
this process's stdout and stderr, which rescue sends to a log file in the folder ``LOGS``.

The worker ends when rescue says stop, or when rescue is gone: an end of file on the socket without a stop, or
a parent other than ``PID`` (checked every second, so that a hung call ends too: then it kills its process
group, the PoC's own children included); either way it removes ``LOGS``, which rescue no longer can. A hang,
a segfault or ``sys.exit`` in the PoC ends only this process; rescue records the item and starts another.
"""

from __future__ import annotations

import collections.abc
import contextlib
import faulthandler
import importlib.util
import json
import os
import signal
import sys
import threading
import time
import traceback
import types
from multiprocessing.connection import Connection
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
PARENT_CHECK_S = 1.0


def _shapes(name: str = "shapes") -> Any:
    """:mod:`rescue.systems.shapes` (or ``watch``), loaded from its file under a private name (rescue is not
    importable here)."""
    spec = importlib.util.spec_from_file_location(f"_rescue_worker_{name}", os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _send(conn: Connection, message: dict) -> None:
    conn.send_bytes(json.dumps(message, default=str).encode("ascii"))


def _setup(setup: dict) -> tuple[Any, dict | None]:
    """Run the PoC's code; return its function, or None and what to reply."""
    folder = os.path.dirname(setup["path"])
    os.chdir(folder)
    sys.path.insert(0, folder)
    module = types.ModuleType(setup["name"])  # in sys.modules, as a script's __main__ is: dataclasses need it
    module.__file__ = setup["path"]
    sys.modules[setup["name"]] = module
    namespace = module.__dict__
    for filename, where, source in setup["code"]:
        try:
            exec(compile(source, filename, "exec"), namespace)  # running the PoC's own code is the point
        except (Exception, SystemExit) as exc:  # the PoC may fail in any way: say where, instead of exiting
            frames = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
            failed = {"where": where, "line": frames[0] if frames else None, "type": type(exc).__name__,
                      "message": str(exc)}  # fmt: skip
            return None, {"failed": failed}
    fn = namespace.get(setup["function"])
    if not callable(fn):
        return None, {"no_function": True}
    return fn, None


_NOTHING = contextlib.nullcontext()


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _answer(fn: Any, request: dict, shapes: Any, watch: Any, spans: Any) -> dict:
    """Call the PoC's function on one item, as ``rescue.systems.function.call_with`` does in-process, watching
    where it goes on the network (:mod:`rescue.systems.watch`) and the HTTP requests it sends
    (:mod:`rescue.systems.spans`, when ``spans`` is not None)."""
    item, inputs = request["item"], request.get("inputs")
    seen = watch.Watch()
    sent = spans.Spans() if spans is not None else None
    try:
        with seen, sent or _NOTHING:
            result = (
                fn(**{param: item[field] for param, field in inputs.items()}) if inputs else fn(item["text"])
            )
            if isinstance(result, collections.abc.Awaitable):
                import asyncio  # only for an async PoC: importing it takes longer than starting Python

                result = asyncio.run(_awaited(result))
        output, raw, tokens_in, tokens_out = shapes.normalise(result)
    except Exception as exc:  # the PoC's own failure is a finding: rescue records it
        return {"ok": False, "kind": "error", "type": type(exc).__name__, "message": str(exc),
                "destinations": seen.destinations, **_spans(sent)}  # fmt: skip
    return {"ok": True, "output": output, "raw": raw, "tokens_in": tokens_in, "tokens_out": tokens_out,
            "destinations": seen.destinations, **_spans(sent)}  # fmt: skip


def _spans(sent: Any) -> dict:
    """The call's HTTP spans and request bodies for the reply (none when they were not captured)."""
    if sent is None or sent.spans is None:
        return {}
    return {"spans": sent.spans, "sent": sent.sent}


def _encoded(reply: dict) -> bytes:
    try:
        return json.dumps(reply, default=str).encode("ascii")
    except Exception as exc:  # a circular value, or one whose text fails: that item's answer is unusable
        return json.dumps({"ok": False, "kind": "bad_response", "type": type(exc).__name__,
                           "message": f"the PoC's answer cannot be written as JSON: {exc}"}).encode("ascii")  # fmt: skip


def _http_spans() -> Any:
    """:mod:`rescue.systems.spans`, installed, when the PoC's setup imported an HTTP client it instruments and
    this interpreter has OpenTelemetry; else None (the audit hooks still see every destination)."""
    if "httpx" not in sys.modules and "httpx2" not in sys.modules:
        return None  # nothing to instrument (and importing OpenTelemetry would slow every worker's start)
    spans = _shapes("spans")
    return spans if spans.install() else None


def _watch_parent(parent: int, folder: str) -> None:
    """End this process group when rescue is gone: a hung call would never read the end of file."""
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent:
            _remove(folder)
            if os.getpgrp() == os.getpid():
                os.killpg(os.getpid(), signal.SIGKILL)
            os._exit(1)


def _remove(folder: str) -> None:
    """Remove the logs' folder: rescue is gone, and can no longer."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    if sys.path and os.path.abspath(sys.path[0] or ".") == HERE:
        del sys.path[0]  # rescue/systems is no place to import from: its http.py and openai.py would shadow
    fd, parent, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    os.set_inheritable(fd, False)  # a process the PoC starts must not hold rescue's end of file open
    conn = Connection(fd)
    faulthandler.enable(all_threads=False)  # a segfault leaves the call's Python traceback in the log
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # what it printed before a crash
    threading.Thread(target=_watch_parent, args=(parent, folder), daemon=True).start()
    shapes, watch = _shapes(), _shapes("watch")
    try:
        setup = json.loads(conn.recv_bytes())["setup"]
    except (EOFError, OSError):
        return _remove(folder)  # rescue is gone
    fn, failed = _setup(setup)
    if failed is not None:
        _send(conn, failed)
        return None
    spans = _http_spans() if setup.get("spans", True) else None
    _send(conn, {"ready": True})
    while True:
        try:
            request = json.loads(conn.recv_bytes())
            if request.get("stop"):
                return None  # rescue closes the pool
            conn.send_bytes(_encoded(_answer(fn, request, shapes, watch, spans)))
        except (EOFError, OSError):
            return _remove(folder)  # rescue is gone


if __name__ == "__main__":
    main()
