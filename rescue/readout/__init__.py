"""Day 5b — the readout: the stall diagnosis from every artifact, the decision and the rebuild plan."""

from __future__ import annotations

from .build import build_readout, readout_markdown
from .diagnose import REASONS, diagnose

__all__ = ["REASONS", "build", "build_readout", "diagnose", "readout_markdown"]

build = build_readout
