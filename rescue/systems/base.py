"""What every system is: an :class:`Adapter` that maps an item to an :class:`Answer`, or raises :class:`CallFailed`.

An item is a dict with at least ``item_id`` and ``text``. A failure has a kind (``error``, ``timeout``,
``connection``, ``http_5xx``, ``rate_limited``, ``auth``, ``http_4xx``, ``bad_response``, ``missing``);
``transient`` ones are retried by the runner.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import CallFailed

__all__ = ["NOT_BEHAVIOUR", "Adapter", "Answer", "CallFailed", "behaviour", "config_hash"]


@dataclass(frozen=True)
class Answer:
    """A system's answer to one item, with the token usage it reported (None when it reported none); ``raw`` is
    the answer as returned when ``output`` is its normalised form (an SDK object's fields)."""

    output: Any
    tokens_in: int | None = None
    tokens_out: int | None = None
    raw: Any = None


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
                 "min_calibration_items"}  # fmt: skip
