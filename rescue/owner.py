"""Day 5 — the owner: who runs the system, who signed what, and what is left to hand over.

Sign-offs live in the project's ``signoffs.yaml``; each pins the SHA-256 of the artifact version it
signs, so a sign-off whose artifact changed afterwards is reported as stale.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import ArtifactError, SpecError
from .spec import SignOff, Spec, file_sha256, issues_from_validation, load_signoffs

# What must be signed before production, and on which artifact.
REQUIRED_SIGNOFFS = [
    ("eval_position", "eval plan and acceptance thresholds"),
    ("data_picture", "data access"),
    ("gap", "compliance"),
]

SIGNOFF_HEADER = """\
# Sign-offs: a named person signs one version of an artifact (its SHA-256 pins the version).
# Written by the Day 5 workbook's sign-off form or `rescue sign`; a sign-off goes stale when the artifact changes.
"""


def sign_off(spec: Spec, out: str | Path, artifact: str, scope: str, by: str, link: str,
             on: date | str | None = None, role: str | None = None) -> SignOff:  # fmt: skip
    """Record that ``by`` signs the current version of ``out/<artifact>.json`` for ``scope``."""
    path = Path(out) / f"{artifact}.json"
    if not path.exists():
        raise ArtifactError(f"{path} does not exist: there is nothing to sign yet")
    raw = {"artifact": artifact, "scope": scope, "by": by, "role": role or None, "date": on or date.today(),
           "link": link, "sha256": file_sha256(path)}  # fmt: skip
    file = spec.path(spec.signoffs)
    try:
        new = SignOff.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(file, issues_from_validation(exc, raw, SignOff)) from None
    records = [s.model_dump(mode="json", exclude_none=True) for s in [*load_signoffs(spec), new]]
    tmp = file.with_suffix(file.suffix + ".tmp")
    tmp.write_text(
        SIGNOFF_HEADER + yaml.safe_dump({"signoffs": records}, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    os.replace(tmp, file)
    return new


def signoff_status(spec: Spec, out: str | Path) -> list[dict[str, Any]]:
    """Each required sign-off: current (signs the artifact as it is now), stale (the artifact changed since) or missing."""
    signoffs = load_signoffs(spec)
    rows = []
    for artifact, scope in REQUIRED_SIGNOFFS:
        path = Path(out) / f"{artifact}.json"
        current = file_sha256(path) if path.exists() else None
        mine = [s for s in signoffs if s.artifact == artifact and s.scope == scope]
        latest = max(mine, key=lambda s: s.date) if mine else None
        if latest is None:
            status = "missing"
        elif current is None:
            status = "artifact missing"
        else:
            status = "current" if latest.sha256 == current else "stale"
        rows.append({"artifact": artifact, "scope": scope, "status": status,
                     "by": latest.by if latest else None, "date": latest.date.isoformat() if latest else None,
                     "link": latest.link if latest else None})  # fmt: skip
    return rows


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
