"""Run a system over items: concurrent, bounded, retried, timed, every call in the ledger at once.

Each batch is also in the output folder's audit log: a ``calls`` record when it starts (what is sent, what is
cached) and one when it ends (calls made, failed) — counts and names only, never an item's text or an answer.
A run killed with SIGKILL leaves the ``started`` record.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from ..auditlog import append_record
from ..ledger import Call, Ledger
from .base import Adapter, CallFailed

MAX_BACKOFF_S = 30.0


TRANSIENT_KINDS = frozenset({"timeout", "connection", "http_5xx", "rate_limited"})


@dataclass(frozen=True)
class RunPolicy:
    retries: int = 3
    backoff_s: float = 0.25
    seed: int = 7
    # a call recorded as a transient failure (endpoint down, timeout, 5xx, 429) is tried again by a new run
    retry_failed: bool = True


def input_hash(item: dict[str, Any], adapter: Adapter | None = None) -> str:
    """What the call sends, hashed: the adapter's rendered request when it says, else the item's text."""
    sent = (
        adapter.request_of(item)
        if adapter is not None and adapter.request_of is not None
        else item.get("text")
    )
    return hashlib.sha256(
        json.dumps(sent, ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()


def _one(adapter: Adapter, item: dict[str, Any], dataset: str, policy: RunPolicy, repeat: int) -> Call:
    rng = random.Random(f"{policy.seed}:{item['item_id']}")
    attempts = 0
    while True:
        attempts += 1
        started = time.perf_counter()
        try:
            answer = adapter.call(item)
            # the system's own time when the adapter measured it (a worker process: not the wait for a free one)
            latency = (
                (time.perf_counter() - started) * 1000 if answer.latency_ms is None else answer.latency_ms
            )
            if latency > adapter.timeout_s * 1000:
                # a call in a thread cannot be interrupted: its late answer is discarded, as production would
                raise CallFailed(
                    "timeout", f"answered after {latency:.0f} ms, over the {adapter.timeout_s:g} s timeout"
                )
            return Call(dataset, str(item["item_id"]), adapter.name, adapter.config, repeat, input_hash(item, adapter),
                        answer.output, None, None, round(latency, 3), attempts, answer.tokens_in, answer.tokens_out,
                        raw=answer.raw, destinations=answer.destinations, spans=answer.spans)  # fmt: skip
        except CallFailed as failure:
            latency = (time.perf_counter() - started) * 1000
            if failure.transient and attempts <= policy.retries:
                wait_s = failure.retry_after_s
                if wait_s is None:
                    wait_s = min(MAX_BACKOFF_S, policy.backoff_s * 2 ** (attempts - 1)) * (0.5 + rng.random())
                time.sleep(min(wait_s, MAX_BACKOFF_S))
                continue
            return Call(dataset, str(item["item_id"]), adapter.name, adapter.config, repeat, input_hash(item, adapter),
                        None, str(failure), failure.kind, round(latency, 3), attempts,
                        destinations=failure.destinations, spans=failure.spans)  # fmt: skip


def run(
    adapter: Adapter,
    items: list[dict[str, Any]],
    ledger: Ledger,
    dataset: str,
    policy: RunPolicy | None = None,
    repeat: int = 0,
    progress: bool = True,
) -> list[Call]:
    """Call ``adapter`` on every item not yet in the ledger; return all calls in item order.

    Calls already recorded come back with ``cached=True`` and are never timed again.
    """
    policy = policy or RunPolicy()
    recorded = ledger.done(dataset, adapter.name, adapter.config, repeat)
    # a recorded call counts as done when it was for the same input, and (by default) did not fail transiently
    hashes = {str(it["item_id"]): input_hash(it, adapter) for it in items}
    done = {
        key: call
        for key, call in recorded.items()
        if call.input_hash == hashes.get(key)
        and not (policy.retry_failed and call.error_kind in TRANSIENT_KINDS)
    }
    todo = [it for it in items if str(it["item_id"]) not in done]
    results: dict[str, Call] = dict(done)
    out = ledger.path.parent
    batch = {"dataset": dataset, "system": adapter.name, "config": adapter.config, "repeat": repeat}
    append_record(out, "calls", status="started", **batch, items=len(items), to_send=len(todo),
                  cached=len(items) - len(todo))  # fmt: skip
    made: list[Call] = []
    try:
        _call_all(adapter, todo, ledger, dataset, policy, repeat, progress, len(items), results, made)
    except BaseException:
        append_record(out, "calls", status="interrupted", **batch, calls=len(made),
                      failed=sum(not c.ok for c in made))  # fmt: skip
        raise
    failures = Counter(str(c.error_kind) for c in made if not c.ok)
    append_record(out, "calls", status="finished", **batch, calls=len(made), failed=sum(failures.values()),
                  failed_by_kind=dict(sorted(failures.items())))  # fmt: skip
    return [results[str(it["item_id"])] for it in items]


def _call_all(
    adapter: Adapter,
    todo: list[dict[str, Any]],
    ledger: Ledger,
    dataset: str,
    policy: RunPolicy,
    repeat: int,
    progress: bool,
    total: int,
    results: dict[str, Call],
    made: list[Call],
) -> None:
    """Call ``adapter`` on each item of ``todo``, at most ``concurrency`` at once, each call recorded as it ends."""
    bar = tqdm(total=total, initial=total - len(todo), disable=not progress, unit="call",
               desc=f"{adapter.name} on {dataset}")  # fmt: skip
    with ThreadPoolExecutor(max_workers=max(1, adapter.concurrency)) as pool:
        pending: set[Future[Call]] = set()
        queue = iter(todo)
        # keep at most `concurrency` calls in flight: the limit is the PoC's, not the pool's queue
        for item in queue:
            pending.add(pool.submit(_one, adapter, item, dataset, policy, repeat))
            if len(pending) >= adapter.concurrency:
                break
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                call = future.result()
                ledger.record(call)
                results[call.item] = call
                made.append(call)
                bar.update(1)
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(pool.submit(_one, adapter, nxt, dataset, policy, repeat))
    bar.close()
