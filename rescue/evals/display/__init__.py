"""How the Day 4 workbook shows the eval position. The PoC's kind chooses its display module once
(:mod:`.classification` or :mod:`.generation`); what both show is in :mod:`.common`.

A section that does not apply to a PoC (a judge, retrieval, a contract) is left out of its page.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from . import classification, generation
from .common import Section, plot_latency

__all__ = [
    "Section",
    "for_kind",
    "operations_markdown",
    "plot_latency",
    "quality_markdown",
    "sections",
    "summary_markdown",
]

KINDS: dict[str, ModuleType] = {"classification": classification, "generation": generation}


def for_kind(pos: dict[str, Any]) -> ModuleType:
    """The display module for the position's kind of PoC."""
    return KINDS[pos.get("task", "classification")]


def quality_markdown(pos: dict[str, Any]) -> str:
    """Where the PoC stands on quality, in a few lines (deterministic: the workbook checks it)."""
    return for_kind(pos).quality_markdown(pos)


def operations_markdown(pos: dict[str, Any]) -> str:
    """Latency, cost and the contract (and, for a free-text PoC, the judge's cost and the retrieval budget)."""
    return for_kind(pos).operations_markdown(pos)


def summary_markdown(pos: dict[str, Any]) -> str:
    """The eval position in a few lines a manager can read: quality, then operations."""
    return quality_markdown(pos) + "\n" + operations_markdown(pos)


def sections(pos: dict[str, Any]) -> list[Section]:
    """The sections of the page after the headline, those that apply to this PoC, in order."""
    return for_kind(pos).sections(pos)
