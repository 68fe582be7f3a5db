"""Day 1 — the production gap: every requirement production has, checked against the PoC's evidence.

The catalogue (``catalogue.yaml``) becomes a rule registry (:mod:`.rules`); :mod:`.assess` runs it apart from
display (:mod:`.display`); :mod:`.plan` turns the open checks into a dated rebuild plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..artifacts import read_artifact, write_artifact
from ..spec import Spec
from .assess import assess_gap, stale_evidence
from .attest import attest
from .catalogue import Catalogue, Check, load_catalogue
from .display import area_chart, area_table, attestation_form, gap_table, plot_area_scores, summary_markdown
from .plan import due_dates, plan_start, rebuild_plan

__all__ = [
    "Catalogue",
    "Check",
    "area_chart",
    "area_table",
    "assess_gap",
    "attest",
    "attestation_form",
    "build",
    "closed",
    "due_dates",
    "gap_table",
    "load_catalogue",
    "plan_start",
    "plot_area_scores",
    "rebuild_plan",
    "stale_evidence",
    "summary_markdown",
]


def build(spec: Spec, out: str | Path) -> dict[str, Any]:
    """The gap artifact's payload: every check assessed on the spec, the attestations and the later days'
    artifacts present in ``out``."""
    return assess_gap(spec, out)


def closed(spec: Spec, out: str | Path) -> dict[str, Any]:
    """``gap.json`` as the week's closing step left it: assessed on every later day's evidence.

    The week runs the closing step (Day 1 once more) after days 2-4. Where that has not happened — the workbooks
    run one by one in JupyterLab, or a later day re-run since — and ``gap.json`` predates a later day's artifact,
    the closing step runs here: the gap is assessed again and ``gap.json`` rewritten (with its audit record).
    """
    gap = read_artifact(out, "gap", required=False)
    if gap is not None and not stale_evidence(out, gap):
        return gap
    write_artifact(out, "gap", assess_gap(spec, out), spec, parameters={"closing_step": True})
    return read_artifact(out, "gap")
