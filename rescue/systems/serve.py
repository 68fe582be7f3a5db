"""The serve supervisor: start a system's ``serve`` command (a local model server or stub) and stop it at exit.

A server is started in the project folder, in its own process group, only when nothing serves the model at its
URL yet; something else answering there is an error, not a server to use.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

import urllib3

from ..errors import RescueError
from ..spec import PocSpec, Spec

_SERVED: dict[str, subprocess.Popen[bytes]] = {}
_HELD: dict[int, int] = {}  # watchdog pid -> the write end of its pipe, held open while the server should run

# The server runs under a watchdog: a small Python process, the leader of the server's process group, that starts
# the command and stops the group (SIGTERM, SIGKILL 5 s later) when the process that started it is gone: its
# stdin is the read end of a pipe only that process holds, which reads EOF then. So a kernel that dies without
# running its exit handlers (killed, or terminated as hung in its shutdown by rescue.kernels) leaves no server
# on the port. The watchdog exits with the server's exit code (127 when the command could not start, saying why);
# it ignores the SIGTERM that stops the group, and exits when the server does.
_WATCHDOG = """
import os, signal, subprocess, sys, threading, time
try:
    server = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
except OSError as exc:
    print(f"cannot start {sys.argv[1]}: {exc}", file=sys.stderr, flush=True)
    sys.exit(127)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
def orphaned():
    while os.read(0, 1):
        pass
    os.killpg(0, signal.SIGTERM)
    time.sleep(5)
    os.killpg(0, signal.SIGKILL)
threading.Thread(target=orphaned, daemon=True).start()
code = server.wait()
sys.exit(code if code >= 0 else 128 - code)
"""
STARTING_FAILED = 127


def _served_models(url: str, headers: dict[str, str] | None = None) -> list[str] | None:
    """The model ids an OpenAI-compatible endpoint lists ([] when it answers but will not list them without
    credentials; None when nothing answers there as one)."""
    try:
        response = urllib3.request(
            "GET", url.rstrip("/") + "/models", headers=headers, timeout=1.0, retries=False
        )
    except urllib3.exceptions.HTTPError:
        return None
    if response.status in (401, 403):
        return []
    if response.status != 200:
        return None
    try:
        listed = json.loads(response.data)["data"]
        return [str(m["id"]) for m in listed if isinstance(m, dict) and "id" in m]
    except (ValueError, KeyError, TypeError):
        return None


def ensure_served(
    spec: Spec,
    system: PocSpec,
    where: str = "poc",
    wait_s: float = 20.0,
    headers: dict[str, str] | None = None,
) -> None:
    """Start ``system.serve`` (in the project folder, in its own process group) unless the URL already serves
    the model; stopped at exit. Something else answering on that URL is an error, not a server to use."""
    if not system.serve or not system.url:
        return
    running = _SERVED.get(system.url)
    if running is not None and running.poll() is None:
        return
    models = _served_models(system.url, headers)
    if models is not None:
        # a python or notebook PoC may name no model: an OpenAI-compatible server answering there is its endpoint
        if not models or system.model is None or system.model in models:
            return
        raise RescueError(
            f"{where}.url {system.url} answers but does not serve model {system.model} (it lists {', '.join(models[:5])});"
            " stop what runs on that port or change the port"
        )
    port = str(urlsplit(system.url).port or "")
    command = [part.replace("{port}", port) for part in system.serve]
    if command[0] in ("python", "python3"):
        command[0] = sys.executable  # the kernel's interpreter, not whatever python is on PATH
    log = tempfile.TemporaryFile()  # noqa: SIM115 — the server writes to it for as long as it runs
    # the watchdog reads EOF on `alive` once this process, which holds `held`, is gone
    alive, held = os.pipe()
    try:
        process = subprocess.Popen([sys.executable, "-c", _WATCHDOG, *command], cwd=spec.root, stdout=log,
                                   stderr=log, stdin=alive, start_new_session=True)  # fmt: skip
    except OSError as exc:
        os.close(held)
        raise RescueError(f"{where}.serve could not start {command[0]}: {exc}") from None
    finally:
        os.close(alive)
    _HELD[process.pid] = held
    atexit.register(_stop, process)
    deadline = time.monotonic() + wait_s
    while _served_models(system.url, headers) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            log.seek(0)
            tail = log.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            if process.returncode == STARTING_FAILED and tail and tail[-1].startswith("cannot start "):
                raise RescueError(f"{where}.serve could not start {tail[-1].removeprefix('cannot start ')}")
            raise RescueError(
                f"{where}.serve did not bring up {system.url} within {wait_s:g} s"
                + (f" (exit code {process.returncode})" if process.returncode is not None else "")
                + (": " + " | ".join(tail) if tail else "")
            )
        time.sleep(0.1)
    _SERVED[system.url] = process


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and everything it started (its process group, the watchdog included)."""
    held = _HELD.pop(process.pid, None)
    if held is not None:
        os.close(held)
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
