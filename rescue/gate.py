"""The release gate (``rescue check``): why a release must not go ahead — blockers and the thresholds of
rescue.yaml's ``gate`` — read from the artifacts (validated into their models), once the evidence holds: the
audit log verifies, every artifact is the one its audit record wrote, every sign-off is in the log."""

from __future__ import annotations

from pathlib import Path

from .artifacts import read_artifact
from .auditlog import check_log, verify_artifacts
from .errors import LogTampered
from .gap import stale_evidence
from .models import ClassificationPosition, EvalPositionArtifact, GapArtifact
from .owner import unrecorded_signoffs
from .spec import Spec


def _measured(value: float | None) -> str:
    return "not measured" if value is None else f"{value:g}"


def check_gate(spec: Spec | None, out: str | Path) -> list[str]:
    """Why a release must not go ahead (empty when it may): evidence that does not hold (a broken audit log, an
    artifact that is not the one its audit record wrote, a sign-off the log does not hold), the blockers in
    ``gap.json`` (as the week's closing step assessed it) and the thresholds of rescue.yaml's gate."""
    reasons = evidence_reasons(spec, out)
    gap = read_artifact(out, GapArtifact)
    stale = stale_evidence(out, {"artifacts_read": gap.artifacts_read})
    if stale:
        reasons.append(f"gap.json was assessed before the current {', '.join(f'{n}.json' for n in stale)}: "
                       "run the week's closing step (rescue week --days 1) so the gate judges today's evidence")  # fmt: skip
    gate = spec.gate if spec is not None else None
    allow_blockers = gate.allow_blockers if gate else False
    for b in gap.blockers:
        if b.applies and not allow_blockers:
            reasons.append(f"blocker: {b.title} ({b.check} is {b.status}: {b.evidence})")
    if gate and gate.min_headline_score is not None and gap.headline_score < gate.min_headline_score:
        reasons.append(f"headline score {gap.headline_score:.2f} is under gate.min_headline_score {gate.min_headline_score:.2f} "
                       f"(weakest: {', '.join(gap.weakest_areas)})")  # fmt: skip
    read = read_artifact(out, EvalPositionArtifact, required=False)
    position = read.root if read is not None else None
    if gate and gate.min_macro_f1_low is not None:
        low = position.scores.macro_f1.low if isinstance(position, ClassificationPosition) else None
        if low is None or low < gate.min_macro_f1_low:
            reasons.append(
                f"macro-F1 lower bound {_measured(low)} is under gate.min_macro_f1_low {gate.min_macro_f1_low:.2f}"
            )
    if gate and gate.min_contract_valid_rate is not None:
        rate = (
            position.contract.valid_rate if position is not None and position.contract is not None else None
        )
        if rate is None or rate < gate.min_contract_valid_rate:
            reasons.append(
                f"contract valid rate {_measured(rate)} is under gate.min_contract_valid_rate {gate.min_contract_valid_rate:.2f}"
            )
    return reasons


def evidence_reasons(spec: Spec | None, out: str | Path) -> list[str]:
    """Why the evidence in ``out`` does not hold: the audit log, each artifact against the last audit record that
    wrote it, and (with the project's spec) each sign-off against the log."""
    reasons = []
    try:
        check_log(out)
    except LogTampered as exc:
        reasons.append(f"the audit log does not verify: {exc}")
    reasons += [f"artifact: {problem}" for problem in verify_artifacts(out)]
    if spec is not None:
        for s in unrecorded_signoffs(spec, out):
            reasons.append(f"sign-off not in the audit log: {s.scope} ({s.artifact}.json) by {s.by} on {s.date} "
                           "was not made with rescue sign or the Day 5 form; sign again")  # fmt: skip
    return reasons
