"""Day 5a — the owner: who runs the system, who signed what, and what is left to hand over.

Sign-offs live in the project's ``signoffs.yaml``; each pins the SHA-256 of the artifact version it
signs, so a sign-off whose artifact changed afterwards is reported as stale.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from ..gap import closed
from ..gap.plan import due_dates, plan_start, rebuild_plan
from ..spec import Spec
from .build import build_owner, raci
from .display import handover_table, owner_table, raci_table, signoff_form
from .signoffs import REQUIRED_SIGNOFFS, SIGNOFF_HEADER, sign_off, signoff_status, unrecorded_signoffs

__all__ = [
    "REQUIRED_SIGNOFFS",
    "SIGNOFF_HEADER",
    "build",
    "build_owner",
    "handover_table",
    "owner_table",
    "raci",
    "raci_table",
    "sign_off",
    "signoff_form",
    "signoff_status",
    "unrecorded_signoffs",
]


def build(spec: Spec, out: str | Path, as_of: date | None = None) -> dict[str, Any]:
    """The owner artifact's payload, from the spec, the sign-offs and the closed gap (:func:`rescue.gap.closed`):
    its open ownership, rollback and observability checks are the handover, each due when the rebuild plan from
    ``as_of`` says."""
    gap = closed(spec, out)
    return build_owner(spec, out, gap, due_dates(rebuild_plan(gap, plan_start(as_of))))
