"""Day 4 — the eval position: the PoC and a baseline scored on labeled production data.

The PoC's kind (``eval.task``) chooses its module once: :mod:`.classification` (labels, and JSON records for
structured extraction) or :mod:`.generation` (free text and RAG, with a calibrated judge). Both share the
operations (:mod:`.operations`: errors, latency, cost, contracts) and the slices (:mod:`.slices`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..spec import Spec
from ..systems import RunPolicy
from . import classification, generation

__all__ = ["build", "build_eval_position"]

KINDS = {"classification": classification, "generation": generation}


def build_eval_position(
    spec: Spec, out: str | Path, progress: bool = True, policy: RunPolicy | None = None
) -> dict[str, Any]:
    """Run the PoC (and its baseline, its demo examples, the judge) on the labeled production set; score it all."""
    return KINDS[spec.eval.task].build_position(spec, out, progress, policy)


build = build_eval_position
