"""Adapters: how rescue calls the PoC under audit (and the baselines) on one item at a time.

An adapter maps an item (a dict with at least ``text``) to an :class:`Answer`. Failures raise
:class:`CallFailed` with a kind (``error``, ``timeout``, ``http_5xx``, ``rate_limited``, ``bad_response``);
``transient`` ones are retried by the runner.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat
import pandas as pd
import urllib3

from ..errors import RescueError
from ..spec import PocSpec, Spec, file_sha256


@dataclass(frozen=True)
class Answer:
    output: Any
    tokens_in: int | None = None
    tokens_out: int | None = None


class CallFailed(Exception):
    """A call that did not produce an answer. ``retry_after_s`` comes from a Retry-After header."""

    def __init__(self, kind: str, message: str, transient: bool = False, retry_after_s: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.transient = transient
        self.retry_after_s = retry_after_s


@dataclass
class Adapter:
    """A callable system with a name and a config hash (a changed PoC is a new config: no stale cache)."""

    name: str
    config: str
    call: Callable[[dict[str, Any]], Answer]
    timeout_s: float = 30.0
    concurrency: int = 4
    details: dict[str, Any] = field(default_factory=dict)
    # what a call sends for an item (hashed into the ledger: a changed request is a new call); None: the text
    request_of: Callable[[dict[str, Any]], Any] | None = None


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --- python and notebook: a function defined in the PoC's own code -------------------------------

_DEF_NODES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _definitions_only(source: str) -> str:
    """Keep imports, defs, classes and assignments of constants; drop demo code, prints and I/O."""
    source = re.sub(r"(?m)^\s*[%!].*$", "", source)  # IPython magics and shell escapes
    try:
        tree = ast.parse(source)
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
                # computed constants (re.compile, set(...) of literals) are kept when they only call builtins/re
                names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
                if names <= {
                    "re",
                    "set",
                    "frozenset",
                    "dict",
                    "list",
                    "tuple",
                    "sorted",
                    "str",
                    "int",
                    "float",
                }:
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
        nb = nbformat.read(str(path), as_version=4)
        code = "\n\n".join(_definitions_only(c.source) for c in nb.cells if c.cell_type == "code")
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


def _function_adapter(spec: Spec, poc: PocSpec, name: str = "poc") -> Adapter:
    path = spec.path(poc.path or "")
    fn = load_function(path, poc.function or "", notebook=poc.kind == "notebook")

    def call(item: dict[str, Any]) -> Answer:
        try:
            output = fn(item["text"])
        except Exception as exc:  # the PoC's own failure is a finding, recorded and counted
            raise CallFailed("error", f"{type(exc).__name__}: {exc}") from None
        usage = output.get("usage") if isinstance(output, dict) else None
        return Answer(output, *(_usage(usage) if usage else (None, None)))

    return Adapter(
        name, _hash(poc.model_dump(mode="json"), file_sha256(path)), call, poc.timeout_s, poc.concurrency
    )


def _usage(usage: Any) -> tuple[int | None, int | None]:
    if not isinstance(usage, dict):
        return None, None
    return _count(usage.get("input_tokens", usage.get("prompt_tokens"))), _count(
        usage.get("output_tokens", usage.get("completion_tokens"))
    )


def _count(value: Any) -> int | None:
    """A token count as reported (None when the endpoint reports something that is not a count)."""
    try:
        count = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return count if count >= 0 else None


# --- http ------------------------------------------------------------------------------------------


def _render(template: Any, item: dict[str, Any]) -> Any:
    """Fill ``{field}`` placeholders of a JSON request template with the item's fields."""
    if isinstance(template, str):
        whole = re.fullmatch(r"\{(\w+)\}", template)
        if whole:
            return item.get(whole.group(1))
        return re.sub(r"\{(\w+)\}", lambda m: str(item.get(m.group(1), "")), template)
    if isinstance(template, dict):
        return {k: _render(v, item) for k, v in template.items()}
    if isinstance(template, list):
        return [_render(v, item) for v in template]
    return template


def dig(document: Any, path: str | None) -> Any:
    """Follow a dotted path (``choices.0.message.content``) into a JSON document."""
    if not path:
        return document
    node = document
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(path)
    return node


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class _Client:
    """A pooled HTTP client (urllib3: ~half the CPU per call of httpx, which matters under the GIL with many
    calls in flight). No retries here: the runner retries, with backoff and Retry-After."""

    def __init__(self, headers: dict[str, str], timeout_s: float, connections: int) -> None:
        self.timeout_s = timeout_s
        self.secrets = [v.split(" ", 1)[-1] for v in headers.values() if v]
        self.pool = urllib3.PoolManager(
            num_pools=4, maxsize=connections, block=False, headers=headers, retries=False,
            timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s),
        )  # fmt: skip

    def request_json(self, method: str, url: str, body: Any) -> Any:
        """One HTTP call that returns the JSON document, or raises CallFailed with a kind."""
        try:
            response = self.pool.request(method, url, json=body, preload_content=True)
        except urllib3.exceptions.NewConnectionError as exc:  # a subclass of the timeout errors in urllib3 2
            raise CallFailed(
                "connection", f"cannot connect: {exc.__class__.__name__}", transient=True
            ) from None
        except urllib3.exceptions.TimeoutError:
            raise CallFailed("timeout", f"no answer within {self.timeout_s:g} s", transient=True) from None
        except urllib3.exceptions.HTTPError as exc:
            raise CallFailed("connection", f"{type(exc).__name__}: {exc}", transient=True) from None
        status = response.status
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if status == 429:
            raise CallFailed("rate_limited", "HTTP 429", True, retry_after)
        if status >= 500:
            raise CallFailed("http_5xx", f"HTTP {status}", True, retry_after)
        if status in (401, 403):
            raise CallFailed("auth", f"HTTP {status}: the endpoint refused the credentials")
        if status >= 400:
            message = _error_message(response.data)
            for secret in self.secrets:  # a server may echo what it was sent: never into the ledger
                message = message.replace(secret, "[redacted]")
            raise CallFailed("http_4xx", f"HTTP {status}{message}")
        try:
            return json.loads(response.data)
        except ValueError:
            raise CallFailed("bad_response", "the response is not JSON") from None


def _error_message(data: bytes) -> str:
    """The message of an OpenAI-style error body, shortened (``: model not found``), or nothing."""
    with contextlib.suppress(ValueError, KeyError, AttributeError, TypeError):
        message = json.loads(data)["error"]["message"]
        return f": {str(message)[:160]}"
    return ""


def _parse_output(output: Any) -> Any:
    if isinstance(output, str) and output.strip().startswith("{"):
        with contextlib.suppress(ValueError):
            return json.loads(output)
    return output


def _http_adapter(spec: Spec, poc: PocSpec, name: str = "poc") -> Adapter:
    headers = {name: ref.resolve("poc.headers") for name, ref in poc.headers.items()}
    client = _Client(headers, poc.timeout_s, poc.concurrency * 2)
    template = poc.request if poc.request is not None else {"text": "{text}"}

    def call(item: dict[str, Any]) -> Answer:
        document = client.request_json(poc.method, poc.url or "", _render(template, item))
        try:
            output = dig(document, poc.response_path)
        except KeyError:
            raise CallFailed("bad_response", f"no {poc.response_path} in the response") from None
        usage = None
        with contextlib.suppress(KeyError):
            usage = dig(document, poc.usage_path) if poc.usage_path else None
        return Answer(_parse_output(output), *_usage(usage))

    config = _hash(poc.model_dump(mode="json", exclude=_NOT_BEHAVIOUR | {"headers"}), sorted(poc.headers))
    return Adapter(name, config, call, poc.timeout_s, poc.concurrency, {"url": poc.url},
                   request_of=lambda item: _render(template, item))  # fmt: skip


# --- openai: an OpenAI-compatible chat completions endpoint ----------------------------------------


def chat_messages(system: PocSpec, item: dict[str, Any]) -> list[dict[str, str]]:
    """The chat messages for ``item``: the system prompt and the user prompt filled from the item."""
    messages = [{"role": "system", "content": system.system_prompt}] if system.system_prompt else []
    return [*messages, {"role": "user", "content": _render(system.prompt, item)}]


def _openai_adapter(spec: Spec, system: PocSpec, name: str = "poc", where: str = "poc") -> Adapter:
    headers = {key: ref.resolve(f"{where}.headers") for key, ref in system.headers.items()}
    if system.api_key:
        headers["Authorization"] = f"Bearer {system.api_key.resolve(f'{where}.api_key')}"
    ensure_served(spec, system, where, headers=headers)
    client = _Client(headers, system.timeout_s, system.concurrency * 2)
    url = (system.url or "").rstrip("/") + "/chat/completions"
    documents_field = spec.eval.documents_field

    def body_of(item: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": system.model, "messages": chat_messages(system, item)}
        if system.temperature is not None:
            body["temperature"] = system.temperature
        if system.max_tokens is not None:
            body["max_tokens"] = system.max_tokens
        return body

    def call(item: dict[str, Any]) -> Answer:
        document = client.request_json("POST", url, body_of(item))
        try:
            content = dig(document, "choices.0.message.content")
        except KeyError:
            raise CallFailed("bad_response", "no choices[0].message.content in the response") from None
        output = _parse_output(content)
        if not isinstance(output, dict):
            output = {"answer": "" if output is None else str(output)}
        if system.documents_path:
            with contextlib.suppress(KeyError):
                output[documents_field] = dig(document, system.documents_path)
        return Answer(output, *_usage(document.get("usage") if isinstance(document, dict) else None))

    served = [file_sha256(spec.path(p)) for p in system.serve or [] if (spec.root / p).is_file()]
    config = _hash(
        system.model_dump(mode="json", exclude=_NOT_BEHAVIOUR | {"headers"}), sorted(system.headers), served
    )
    return Adapter(
        name, config, call, system.timeout_s, system.concurrency, {"url": system.url}, request_of=body_of
    )


# fields that do not change what a system answers: never part of its config hash (changing them re-asks nothing)
_NOT_BEHAVIOUR = {"api_key", "serve", "concurrency", "timeout_s", "cost_per_call_eur", "provider", "min_kappa",
                  "min_calibration_items"}  # fmt: skip

_SERVED: dict[str, subprocess.Popen[bytes]] = {}


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
        if not models or system.model in models:
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
    try:
        process = subprocess.Popen(command, cwd=spec.root, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                   start_new_session=True)  # fmt: skip
    except OSError as exc:
        raise RescueError(f"{where}.serve could not start {command[0]}: {exc}") from None
    atexit.register(_stop, process)
    deadline = time.monotonic() + wait_s
    while _served_models(system.url, headers) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            log.seek(0)
            tail = log.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            raise RescueError(
                f"{where}.serve did not bring up {system.url} within {wait_s:g} s"
                + (f" (exit code {process.returncode})" if process.returncode is not None else "")
                + (": " + " | ".join(tail) if tail else "")
            )
        time.sleep(0.1)
    _SERVED[system.url] = process


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and everything it started (its process group)."""
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


# --- predictions: outputs the team already has --------------------------------------------------


def _predictions_adapter(spec: Spec, poc: PocSpec, name: str = "poc") -> Adapter:
    path = spec.path(poc.path or "")
    frame = (
        pd.read_csv(path, dtype=str, keep_default_na=False)
        if path.suffix != ".jsonl"
        else pd.read_json(path, lines=True, dtype=False)
    )
    if "item_id" not in frame.columns:
        raise RescueError(
            f"{path.name} needs an item_id column (and source, when items come from several sources)"
        )
    keyed = {(str(r.get("source", "")), str(r["item_id"])): r for r in frame.to_dict("records")}

    def call(item: dict[str, Any]) -> Answer:
        raw = str(item.get("source_id", item["item_id"]))
        row = keyed.get((str(item.get("source", "")), raw)) or keyed.get(("", raw))
        if row is None:
            raise CallFailed("missing", "no prediction for this item")
        return Answer({k: v for k, v in row.items() if k not in ("source", "item_id")})

    return Adapter(name, _hash(file_sha256(path)), call, poc.timeout_s, 64)


def make_poc_adapter(spec: Spec) -> Adapter:
    """The adapter for ``spec.poc``."""
    return make_system_adapter(spec, spec.poc, "poc", "poc")


def make_system_adapter(spec: Spec, system: PocSpec, name: str, where: str) -> Adapter:
    """The adapter for any declared system (the PoC, a baseline system, the judge)."""
    if system.kind in ("python", "notebook"):
        return _function_adapter(spec, system, name)
    if system.kind == "http":
        return _http_adapter(spec, system, name)
    if system.kind == "openai":
        return _openai_adapter(spec, system, name, where)
    return _predictions_adapter(spec, system, name)


# --- baselines -----------------------------------------------------------------------------------


def make_baseline(kind: str, labels: list[str], label_field: str) -> Adapter:
    """A built-in baseline: ``majority`` (always the most frequent label) or ``stratified``
    (a label drawn with the label frequencies, seeded by the item so it is repeatable)."""
    counts = Counter(labels)
    if not counts:
        raise RescueError("a baseline needs labels")
    ordered = sorted(counts, key=lambda k: (-counts[k], k))
    if kind == "majority":
        top = ordered[0]

        def call(item: dict[str, Any]) -> Answer:
            return Answer({label_field: top})

    elif kind == "stratified":
        total = sum(counts.values())
        cumulative, acc = [], 0
        for label in ordered:
            acc += counts[label]
            cumulative.append((acc / total, label))

        def call(item: dict[str, Any]) -> Answer:
            u = int(hashlib.sha256(str(item["item_id"]).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
            return Answer({label_field: next(label for edge, label in cumulative if u <= edge)})

    else:
        raise RescueError(f"unknown baseline {kind!r}; expected majority or stratified")
    return Adapter(f"baseline:{kind}", _hash(kind, sorted(counts.items())), call, 5.0, 16)
