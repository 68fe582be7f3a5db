"""How rescue calls a system — the PoC under audit, a baseline system, the judge — on one item at a time.

One module per transport (``function`` for python and notebook PoCs, ``http``, ``openai``, ``predictions``),
the built-in ``baselines``, the ``serve`` supervisor, output parsing (``parse``) and the ``runner`` that calls a
system over items through the ledger: concurrent, bounded, retried, timed, every call committed at once.
"""

from __future__ import annotations

from ..spec import PocSpec, Spec
from .base import NOT_BEHAVIOUR, Adapter, Answer, CallFailed, config_hash, opened
from .baselines import make_baseline, make_recorded
from .function import function_adapter
from .http import http_adapter
from .openai import openai_adapter
from .parse import cited_documents, dig, output_field, parse_output, token_usage
from .predictions import predictions_adapter
from .runner import TRANSIENT_KINDS, RunPolicy, input_hash, run
from .serve import ensure_served

__all__ = [
    "NOT_BEHAVIOUR",
    "TRANSIENT_KINDS",
    "Adapter",
    "Answer",
    "CallFailed",
    "RunPolicy",
    "cited_documents",
    "config_hash",
    "dig",
    "ensure_served",
    "input_hash",
    "make_baseline",
    "make_poc_adapter",
    "make_recorded",
    "make_system_adapter",
    "opened",
    "output_field",
    "parse_output",
    "run",
    "token_usage",
]


def make_system_adapter(spec: Spec, system: PocSpec, name: str, where: str) -> Adapter:
    """The adapter for any declared system (the PoC, a baseline system, the judge); ``where`` is its spec path."""
    if system.kind in ("python", "notebook"):
        return function_adapter(spec, system, name)
    if system.kind == "http":
        return http_adapter(spec, system, name)
    if system.kind == "openai":
        return openai_adapter(spec, system, name, where)
    return predictions_adapter(spec, system, name)


def make_poc_adapter(spec: Spec) -> Adapter:
    """The adapter for ``spec.poc``."""
    return make_system_adapter(spec, spec.poc, "poc", "poc")
