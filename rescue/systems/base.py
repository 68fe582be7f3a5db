"""What every system is: an :class:`Adapter` that maps an item to an :class:`Answer`, or raises :class:`CallFailed`.

An item is a dict with at least ``item_id`` and ``text``. A failure has a kind (``error``, ``timeout``, ``crash``
— the PoC's worker process died on the item —, ``connection``, ``http_5xx``, ``rate_limited``, ``auth``,
``http_4xx``, ``bad_request``, ``bad_response``, ``missing``); ``transient`` ones are retried by the runner.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import CallFailed

__all__ = ["NOT_BEHAVIOUR", "Adapter", "Answer", "CallFailed", "behaviour", "config_hash"]


@dataclass(frozen=True)
class Answer:
    """A system's answer to one item, with the token usage it reported (None when it reported none); ``raw`` is
    the answer as returned when ``output`` is its normalised form (an SDK object's fields). ``latency_ms``: how
    long the system took, when the adapter measured it itself (a worker process: not the wait for a free one)."""

    output: Any
    tokens_in: int | None = None
    tokens_out: int | None = None
    raw: Any = None
    latency_ms: float | None = None
    destinations: list[dict[str, Any]] | None = None
    """Where the call went on the network (:mod:`rescue.systems.watch`); None when it was not watched."""
    spans: list[dict[str, Any]] | None = None
    """The HTTP requests the call sent (:mod:`rescue.systems.spans`); None when they were not captured."""


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
    # stops what the adapter started (the PoC's worker processes); a call after it fails. The runner leaves it
    # to the adapter's owner: one adapter serves several batches (Day 4's production items, then the demo), and
    # the workers also stop when the adapter is dropped, and at exit
    close: Callable[[], None] | None = None


@contextmanager
def opened(adapter: Adapter) -> Iterator[Adapter]:
    """``adapter`` for the ``with`` block, closed at its end (its workers stopped, its ``poc.env`` put back)."""
    try:
        yield adapter
    finally:
        if adapter.close is not None:
            adapter.close()


def config_hash(*parts: Any) -> str:
    """A short, stable hash of a system's configuration (its ledger ``config`` key)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def behaviour(system: Any, also: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields of a system's spec that change what it answers, for its config hash: those set to other than
    their defaults (a field a later rescue adds, left at its default, changes no hash and re-asks nothing), less
    :data:`NOT_BEHAVIOUR` and ``also``."""
    return system.model_dump(mode="json", exclude=NOT_BEHAVIOUR | set(also), exclude_defaults=True)


# fields that do not change what a system answers: never part of its config hash (changing them re-asks nothing)
NOT_BEHAVIOUR = {"api_key", "serve", "concurrency", "timeout_s", "cost_per_call_eur", "provider", "min_kappa",
                 "min_calibration_items", "isolation"}  # fmt: skip
