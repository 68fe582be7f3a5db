"""Assess the production gap: run every catalogue check, score areas, apply blockers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from .. import __version__
from ..artifacts import SCHEMAS, read_artifact
from ..errors import SpecError, SpecIssue
from ..spec import Attestation, Spec, load_attestations
from .catalogue import Catalogue, Check, load_catalogue
from .rules import RULES, Context, Outcome

# Artifacts of later days that the gap picks up when they exist in the output folder (the evidence of days 2-4;
# nothing of Day 5, which reads the gap).
LATER_ARTIFACTS = ("data_picture", "eval_position")


def load_later_artifacts(out: str | Path | None) -> dict[str, dict[str, Any] | None]:
    """The later days' artifacts present in ``out`` (validated), ``None`` for each one absent."""
    found: dict[str, dict[str, Any] | None] = dict.fromkeys(LATER_ARTIFACTS)
    if out is None:
        return found
    for name in LATER_ARTIFACTS:
        if (SCHEMAS / f"{name}.schema.json").exists():
            found[name] = read_artifact(out, name, required=False)
    return found


def stale_evidence(out: str | Path, gap: dict[str, Any]) -> list[str]:
    """The later days' artifacts in ``out`` that ``gap`` was not assessed on: written (or removed) since."""
    read = gap.get("artifacts_read") or {}
    now = load_later_artifacts(out)
    return [name for name, doc in now.items() if (doc or {}).get("generated_at") != read.get(name)]


def _attestation_text(a: Attestation) -> str:
    role = f", {a.role}" if a.role else ""
    return f"attested by {a.by}{role} on {a.date.isoformat()}: {a.link}"


def _assess_check(
    check: Check, ctx: Context, attestation: Attestation | None, scores: dict[str, float]
) -> dict:
    outcome: Outcome | None = None
    if check.rule is not None:
        outcome = RULES[check.rule](ctx, **check.args)
    status, evidence, produced_by = "unknown", "no evidence yet", "nobody"
    inputs: list[str] = []
    pending = None
    note = None
    if outcome is not None:
        status, evidence, inputs, pending = outcome.status, outcome.evidence, outcome.inputs, outcome.pending
        produced_by = f"rescue {__version__} (computed from {', '.join(outcome.inputs) or 'the spec'})"
    if attestation is not None:
        if status == "pass":
            note = "also " + _attestation_text(attestation)
        elif status == "fail":
            # a measurement beats a statement: the attestation is kept but does not count
            note = "contradicted by the computation; " + _attestation_text(attestation)
        else:
            status, produced_by = "attested", _attestation_text(attestation)
            evidence = attestation.note or "attested (see link)"
    elif check.evidence == "attested":
        evidence = "no attestation recorded"
    return {
        "id": check.id,
        "area": check.area,
        "title": check.title,
        "severity": check.severity,
        "evidence_kind": check.evidence,
        "status": status,
        "score": scores[status],
        "evidence": evidence,
        "produced_by": produced_by,
        "inputs": inputs,
        "pending": pending,
        "note": note,
        "attestation": attestation.model_dump(mode="json") if attestation else None,
        "rubric": list(check.rubric),
        "remedy": check.remedy,
    }


def assess_gap(
    spec: Spec,
    out: str | Path | None = None,
    catalogue: Catalogue | None = None,
    attestations: list[Attestation] | None = None,
) -> dict[str, Any]:
    """Assess every check in the catalogue against the spec, the attestations and the artifacts in ``out``.

    Returns the ``gap`` artifact's payload: checks with status, score, evidence and who produced it;
    area scores (mean of their checks), the headline (minimum over areas), blockers and the verdict.
    """
    catalogue = catalogue or load_catalogue()
    if attestations is None:
        attestations = load_attestations(spec)
    unknown_ids = sorted({a.check for a in attestations} - {c.id for c in catalogue.checks})
    if unknown_ids:
        raise SpecError(
            spec.path(spec.attestations),
            [
                SpecIssue("attestations[*].check", i, "a check id from the catalogue (see rescue checks)")
                for i in unknown_ids
            ],
        )
    latest: dict[str, Attestation] = {}
    for a in sorted(attestations, key=lambda a: a.date):
        if a.date <= date.today():
            latest[a.check] = a
    artifacts = load_later_artifacts(out)
    ctx = Context(spec=spec, artifacts=artifacts)
    checks = [_assess_check(c, ctx, latest.get(c.id), catalogue.scores) for c in catalogue.checks]

    areas = []
    for area_id, title in catalogue.areas.items():
        mine = [c for c in checks if c["area"] == area_id]
        points = sum(c["score"] for c in mine)
        counts = {s: sum(c["status"] == s for c in mine) for s in ("pass", "attested", "fail", "unknown")}
        areas.append(
            {
                "id": area_id,
                "title": title,
                "score": round(points / len(mine), 4) if mine else 0.0,
                "points": points,
                "checks": len(mine),
                **counts,
            }
        )
    headline = min(a["score"] for a in areas)
    by_id = {c["id"]: c for c in checks}
    blockers = []
    for b in catalogue.blockers:
        check = by_id[b.check]
        status = check["status"]
        applies = status in b.applies_when or (status == "attested" and not b.accept_attestation)
        blockers.append(
            {
                "id": b.id,
                "title": b.title,
                "check": b.check,
                "status": status,
                "applies": applies,
                "evidence": check["evidence"],
            }
        )
    active = [b for b in blockers if b["applies"]]
    verdict = "blocked" if active else ("ready" if headline >= 1.0 else "gaps")
    return {
        "verdict": verdict,
        "headline_score": headline,
        "weakest_areas": [a["id"] for a in areas if a["score"] == headline],
        "points": sum(c["score"] for c in checks),
        "max_points": float(len(checks)),
        "catalogue_version": catalogue.version,
        "areas": areas,
        "blockers": blockers,
        "checks": checks,
        "artifacts_read": {name: (doc or {}).get("generated_at") for name, doc in artifacts.items()},
        "counts": {s: sum(c["status"] == s for c in checks) for s in ("pass", "attested", "fail", "unknown")},
    }
