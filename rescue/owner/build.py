"""The owner artifact: who runs the system, who is responsible for what (RACI), and what is left to hand over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..spec import Spec
from .signoffs import signoff_status


def raci(spec: Spec) -> list[dict[str, Any]]:
    """Who is Responsible / Accountable / Consulted / Informed, from what the spec names; gaps stay visible."""
    o = spec.owner
    owner = o.name if o and o.name and o.on_customer_team else None
    data_owners = sorted({s.owner.name for s in spec.sources if s.owner})
    vendors = sorted({p.name for p in spec.compliance.providers})
    rows = [
        {"role": "problem owner (production owner)", "who": owner, "raci": "A"},
        {"role": "backup owner", "who": o.backup if o else None, "raci": "R"},
        {"role": "data owner(s)", "who": ", ".join(data_owners) or None, "raci": "R"},
        {"role": "platform / ML engineering", "who": None, "raci": "R"},
        {"role": "SRE / on-call", "who": o.on_call if o else None, "raci": "R"},
        {"role": "security", "who": None, "raci": "C"},
        {"role": "DPO / legal", "who": None, "raci": "C"},
        {"role": "vendor(s)", "who": ", ".join(vendors) or None, "raci": "I"},
    ]
    for row in rows:
        row["assigned"] = row["who"] is not None
    return rows


def build_owner(
    spec: Spec, out: str | Path, gap: dict[str, Any], due: dict[str, str] | None = None
) -> dict[str, Any]:
    """The ``owner`` artifact's payload: the owner, RACI, source owners, sign-offs and the handover checklist.

    ``due`` maps a check id to the date its work is due (from the rebuild plan).
    """
    o = spec.owner
    checks = []
    checks.append(
        {
            "check": "a named owner",
            "ok": bool(o and o.name),
            "detail": o.name if o and o.name else "nobody named",
        }
    )
    checks.append({"check": "the owner is on the customer team (not a contractor)", "ok": bool(o and o.on_customer_team),
                   "detail": f"{o.name}: {o.team or 'team not stated'}" if o and o.name else "—"})  # fmt: skip
    checks.append(
        {
            "check": "a backup is named",
            "ok": bool(o and o.backup),
            "detail": (o.backup if o and o.backup else "none"),
        }
    )
    unowned = [s.name for s in spec.sources if s.owner is None]
    checks.append(
        {"check": "every source has an owner", "ok": not unowned, "detail": ", ".join(unowned) or "all owned"}
    )
    signoffs = signoff_status(spec, out)
    for s in signoffs:
        checks.append({"check": f"sign-off: {s['scope']} ({s['artifact']})", "ok": s["status"] == "current",
                       "detail": s["status"] + (f" — {s['by']}, {s['date']}" if s["by"] else "")})  # fmt: skip
    handover = [
        {"item": c["title"], "check": c["id"], "status": c["status"], "due": (due or {}).get(c["id"])}
        for c in gap["checks"]
        if c["area"] in ("ownership", "rollback", "observability") and c["status"] not in ("pass", "attested")
    ]
    return {
        "owner": None if o is None else o.model_dump(mode="json"),
        "raci": raci(spec),
        "runbook": o.runbook if o else None,
        "source_owners": [
            {
                "source": s.name,
                "owner": s.owner.name if s.owner else None,
                "evidence": s.owner.evidence if s.owner else None,
            }
            for s in spec.sources
        ],
        "signoffs": signoffs,
        "checks": checks,
        "handover": handover,
    }
