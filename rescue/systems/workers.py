"""The PoC in its own worker processes: a hang is killed at the timeout, a crash is one failed item, and the
PoC's dependencies never meet rescue's.

A :class:`WorkerPool` keeps up to ``size`` processes of the PoC's interpreter (rescue's own, or ``poc.python``:
the PoC's virtualenv, with its own pins), each running :mod:`rescue.systems.worker_main` — a standard-library
script, so rescue need not be installed there — over a private socket pair, in JSON (never pickle).

- **Start.** The first worker starts with the pool, so a setup that fails is a clear error when the adapter is
  made, naming the cell and line; the others start when calls need them, up to ``size``. An extra worker that
  cannot start caps the pool at the workers it has. Each worker runs the PoC's setup once.
- **A call** takes a free worker, sends it the item's fields the function takes, and waits ``timeout_s`` for the
  answer. The latency it reports runs from send to answer: never the wait for a worker nor a worker's start.
- **A hang** (no answer at the timeout): the worker's process group is killed and the call fails as
  ``timeout``. **A crash** (segfault, ``sys.exit``, out of memory): the call fails as ``crash``, with the exit
  code and the last lines the PoC printed, secrets redacted. Either way a new worker replaces it at the next
  call; neither is retried within the run (a hang or a crash on an item usually repeats).
- **What the PoC prints** goes to a log file per worker in a private temporary folder, not to rescue's terminal
  or the day's notebook; a crash message quotes its last lines.
- **The end.** :meth:`WorkerPool.close` (also run when the pool is garbage-collected, and at exit) closes each
  worker's socket; a worker ends at that end of file and one still running a few seconds later is killed.
  Workers end on their own when rescue dies. The worker's environment is rescue's, less ``RESCUE_AUDIT_KEY``
  (the secrets the PoC needs are its own business; the audit log's key is not).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..auditlog import KEY_ENV
from ..errors import CallFailed, RescueError
from ..spec.secrets import redact
from .base import Answer
from .notebook import NotebookSetup, explain

WORKER_MAIN = Path(__file__).with_name("worker_main.py")
EXIT_WAIT_S = 5.0  # how long a worker that closed its socket (or was asked to stop) has to exit
LOG_TAIL_LINES = 5
LOG_TAIL_BYTES = 4096
HIDDEN_ENV = frozenset({KEY_ENV})  # never passed to the PoC's processes


@dataclass(frozen=True)
class PocCode:
    """The PoC's code as it runs before any call: ``pieces`` in order, each (filename in tracebacks, where to
    say it is, source) — a module's file, or the setup of each notebook cell — then ``function`` is called."""

    path: Path
    function: str
    pieces: list[tuple[str, str, str]]
    setup: NotebookSetup | None = None  # a notebook's: where a skipped name is set, for hints

    @property
    def name(self) -> str:
        """The ``__name__`` the PoC's code runs under (never ``__main__``: a script's main block stays out)."""
        return f"rescue_poc_{self.path.stem}"

    def load_failed(self, where: str, line: int | None, error_type: str, message: str) -> RescueError:
        """The error for a setup that raised: ``the PoC failed to load (poc.ipynb, cell 3, line 2): ...``."""
        at = where + (f", line {line}" if line else "")
        return RescueError(f"the PoC failed to load ({at}): {error_type}: {message}")

    def no_function(self) -> RescueError:
        """The error for a setup that defines no ``function`` (with the skipped statement that would have)."""
        found = self.setup.who_sets(self.function) if self.setup is not None else None
        where = f": {found.hint()}" if found is not None else ""
        return RescueError(f"{self.path.name} defines no function {self.function}(){where}")

    def hint(self, error_type: str, message: str) -> str | None:
        """For a NameError on a name the notebook rule skipped: where it is set and how to run it."""
        return explain(self.setup, error_type, message) if self.setup is not None else None


def input_fields(item: dict[str, Any], inputs: dict[str, str] | None) -> dict[str, Any]:
    """The fields of ``item`` a call passes (``inputs``: parameter -> field; by default the text)."""
    if not inputs:
        return {"text": item["text"]}
    missing = [f for f in inputs.values() if f not in item]
    if missing:
        raise CallFailed("bad_request", f"the item has no field {missing[0]!r} (poc.inputs); it has: "
                         f"{', '.join(sorted(k for k in item if not k.startswith('_')))}")  # fmt: skip
    return {f: item[f] for f in inputs.values()}


def _plain(value: Any) -> Any:
    """An item's value as JSON carries it to the worker: a numpy scalar or array its Python value, a date its
    ISO text, anything else its text."""
    for method in ("tolist", "isoformat"):
        with contextlib.suppress(Exception):
            return getattr(value, method)()
    return str(value)


def worker_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the PoC's processes get: ``env`` (by default rescue's) less :data:`HIDDEN_ENV`."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k not in HIDDEN_ENV}


def with_personal_data(spans: list[dict[str, Any]] | None, sent: list[Any]) -> list[dict[str, Any]] | None:
    """The spans with the personal data found in each request's body counted per kind
    (``rescue.personal_data``: never a value; the bodies are dropped here and never stored)."""
    if not spans or not sent:
        return spans
    from ..pii import count_pii  # only for a PoC whose requests were seen

    for index, body in sent:
        if 0 <= index < len(spans):
            found = {kind: n for kind, n in count_pii([str(body)]).items() if n}
            spans[index]["attributes"]["rescue.personal_data"] = found
    return spans


def call_tokens(tokens_in: int | None, tokens_out: int | None,
                spans: list[dict[str, Any]] | None) -> tuple[int | None, int | None]:  # fmt: skip
    """A call's tokens: those its answer reported, else those the provider's responses reported over the call's
    requests (None when neither did)."""
    if tokens_in is not None or tokens_out is not None:
        return tokens_in, tokens_out
    counted = [s["attributes"] for s in spans or [] if "gen_ai.usage.input_tokens" in s["attributes"]
               or "gen_ai.usage.output_tokens" in s["attributes"]]  # fmt: skip
    if not counted:
        return None, None
    return (sum(a.get("gen_ai.usage.input_tokens") or 0 for a in counted),
            sum(a.get("gen_ai.usage.output_tokens") or 0 for a in counted))  # fmt: skip


def describe_exit(code: int) -> str:
    """``exit code 3``, ``exit code -11 (SIGSEGV)``."""
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    if -code == signal.SIGKILL:
        name += ": killed from outside, often for lack of memory"
    return f"exit code {code} ({name})"


class _Worker:
    """One worker process, its end of the socket and its log."""

    def __init__(self, process: subprocess.Popen[bytes], conn: Connection, log: Path):
        self.process = process
        self.conn = conn
        self.log = log
        self._lock = threading.Lock()

    def end(self, wait_s: float) -> int:
        """Let the process exit within ``wait_s`` (then kill its process group, the PoC's own children too);
        its exit code."""
        with self._lock:
            if self.process.returncode is None:
                deadline = time.monotonic() + wait_s
                while time.monotonic() < deadline and not self._exited():
                    time.sleep(0.01)
                # not reaped yet, so its pid names no other process's group
                if self.process.returncode is None:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            with contextlib.suppress(OSError):
                self.conn.close()
            return self.process.returncode

    def _exited(self) -> bool:
        """Whether the process has exited, without reaping it (where ``waitid`` exists: not on macOS, where
        it is reaped, and a child it left keeps running)."""
        if not hasattr(os, "waitid"):
            return self.process.poll() is not None
        try:
            return os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def last_output(self) -> str:
        """``; last output: ...`` — the last lines the PoC printed (secrets redacted), or nothing."""
        try:
            with self.log.open("rb") as f:
                f.seek(max(0, self.log.stat().st_size - LOG_TAIL_BYTES))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip() and not _plumbing(line)]
        lines = lines[-LOG_TAIL_LINES:]
        return f"; last output: {redact(' | '.join(lines))}" if lines else ""


def _plumbing(line: str) -> bool:
    """A line of a crash traceback about the worker itself, not the PoC."""
    return str(WORKER_MAIN) in line or line.startswith(("Current thread 0x", "Extension modules:"))


def _stop_all(workers: set[_Worker], folder: Path) -> None:
    for worker in list(workers):  # they all stop at once (an end of file alone would say rescue died)
        with contextlib.suppress(OSError):
            worker.conn.send_bytes(b'{"stop": true}')
            worker.conn.close()
    for worker in list(workers):
        worker.end(EXIT_WAIT_S)
    workers.clear()
    shutil.rmtree(folder, ignore_errors=True)


class WorkerPool:
    """Up to ``size`` worker processes of ``python`` (by default rescue's), each running ``code``'s setup and
    then its function on one item at a time; see the module docstring."""

    def __init__(self, code: PocCode, inputs: dict[str, str] | None = None, python: str | Path | None = None,
                 size: int = 4, timeout_s: float = 30.0, env: dict[str, str] | None = None,
                 spans: bool = True):  # fmt: skip
        self.code = code
        self.spans = spans
        self.inputs = inputs
        self.python = str(python or sys.executable)
        self.size = max(1, size)
        self.timeout_s = timeout_s
        self._env = worker_env(env)
        self._folder = Path(tempfile.mkdtemp(prefix="rescue-poc-"))  # private (0700): the PoC's logs
        self._cond = threading.Condition()
        self._workers: set[_Worker] = set()
        self._idle: list[_Worker] = []
        self._alive = 0  # started or starting, not yet ended
        self._numbers = itertools.count(1)
        self._closed = False
        self._finalizer = weakref.finalize(self, _stop_all, self._workers, self._folder)
        try:
            self._alive = 1
            self._idle.append(self._start())
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop every worker (the pool cannot be used after)."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def workers(self) -> int:
        """How many worker processes are running now."""
        with self._cond:
            return len(self._workers)

    def call(self, item: dict[str, Any]) -> Answer:
        """The PoC's answer to ``item`` from a free worker, or :class:`CallFailed` (``error``, ``timeout``,
        ``crash``, ``bad_request``, ``bad_response``)."""
        fields = input_fields(item, self.inputs)
        request = json.dumps({"item": fields, "inputs": self.inputs}, default=_plain).encode()
        worker = self._take()
        started = time.perf_counter()
        try:
            worker.conn.send_bytes(request)
            if not worker.conn.poll(self.timeout_s):
                self._discard(worker, 0.0)
                raise CallFailed(
                    "timeout", f"no answer within {self.timeout_s:g} s: rescue stopped the PoC's process"
                )
            reply = json.loads(worker.conn.recv_bytes())
        except CallFailed:
            raise
        except (EOFError, OSError):
            if self._closed:
                raise CallFailed(
                    "error", "rescue stopped the PoC's processes before this call ended"
                ) from None
            code = self._discard(worker, EXIT_WAIT_S)
            raise CallFailed(
                "crash", f"the PoC's process died on this item: {describe_exit(code)}{worker.last_output()}"
            ) from None
        except BaseException:  # interrupted (Ctrl-C): its answer would reach the next call
            self._discard(worker, 0.0)
            raise
        latency_ms = (time.perf_counter() - started) * 1000
        self._release(worker)
        spans = with_personal_data(reply.get("spans"), reply.get("sent") or [])
        if not reply["ok"]:
            hint = self.code.hint(reply["type"], reply["message"])
            failure = CallFailed(
                reply["kind"], f"{reply['type']}: {reply['message']}" + (f" — {hint}" if hint else "")
            )
            failure.destinations = reply.get("destinations")
            failure.spans = spans
            raise failure
        tokens_in, tokens_out = call_tokens(reply["tokens_in"], reply["tokens_out"], spans)
        return Answer(reply["output"], tokens_in, tokens_out, reply["raw"], latency_ms, reply.get("destinations"),
                      spans)  # fmt: skip

    # --- workers ---------------------------------------------------------------------------------------

    def _take(self) -> _Worker:
        """A free worker: an idle one, a new one while the pool has fewer than ``size``, else the next freed."""
        with self._cond:
            while True:
                if self._closed:
                    raise CallFailed("error", "the PoC's worker processes were stopped (the pool is closed)")
                if self._idle:
                    return self._idle.pop()
                if self._alive < self.size:
                    self._alive += 1
                    break
                self._cond.wait()
        try:
            return self._start()
        except BaseException as exc:
            with self._cond:
                self._alive -= 1
                # this PoC does not run twice at once (a port, a lock file): go on with the workers it has
                if self._alive > 0 and isinstance(exc, RescueError):
                    self.size = self._alive
                self._cond.notify_all()
                others = self._alive > 0
            if not isinstance(exc, RescueError):
                raise
            if not others:
                raise CallFailed("crash", f"the PoC's process could not start again: {exc}") from None
        return self._take()

    def _release(self, worker: _Worker) -> None:
        if self._closed:  # it started while the pool closed
            self._discard(worker, 0.0)
            return
        with self._cond:
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker, wait_s: float) -> int:
        code = worker.end(wait_s)
        with self._cond:
            self._workers.discard(worker)
            self._alive -= 1
            self._cond.notify()  # a call waiting for a worker may start one now
        return code

    def _start(self) -> _Worker:
        """A new worker that has run the PoC's setup (a :class:`RescueError` saying why it could not)."""
        log = self._folder / f"worker-{next(self._numbers)}.log"
        ours, theirs = multiprocessing.Pipe()
        try:
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [self.python, str(WORKER_MAIN), str(theirs.fileno()), str(os.getpid()), str(self._folder)],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, pass_fds=(theirs.fileno(),),
                    cwd=self.code.path.parent, env=self._env, start_new_session=True,
                )  # fmt: skip
        except OSError as exc:
            ours.close()
            raise RescueError(
                f"cannot start the PoC's interpreter {self.python}: {exc.strerror or exc}"
            ) from None
        finally:
            theirs.close()
        worker = _Worker(process, ours, log)
        with self._cond:
            self._workers.add(worker)
        code = self.code
        setup = {"path": str(code.path), "name": code.name, "code": code.pieces, "function": code.function,
                 "spans": self.spans}  # fmt: skip
        try:
            ours.send_bytes(json.dumps({"setup": setup}).encode())
            reply = json.loads(ours.recv_bytes())
        except (EOFError, OSError):
            exit_code = self._forget(worker, EXIT_WAIT_S)
            output = worker.last_output()
            old = " (the worker needs Python 3.9 or later)" if "SyntaxError" in output else ""
            raise RescueError(
                f"the PoC's process ({self.python}) ended before it was ready: {describe_exit(exit_code)}{output}{old}"
            ) from None
        except BaseException:
            self._forget(worker, 0.0)
            raise
        if "failed" in reply:
            self._forget(worker, EXIT_WAIT_S)
            failed = reply["failed"]
            raise code.load_failed(failed["where"], failed["line"], failed["type"], failed["message"])
        if reply.get("no_function"):
            self._forget(worker, EXIT_WAIT_S)
            raise code.no_function()
        return worker

    def _forget(self, worker: _Worker, wait_s: float) -> int:
        """End a worker that never served (its slot in ``_alive`` is the caller's to give back)."""
        code = worker.end(wait_s)
        with self._cond:
            self._workers.discard(worker)
        return code
