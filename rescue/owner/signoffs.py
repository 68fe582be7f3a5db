"""Sign-offs: a named person signs one version of an artifact.

Sign-offs live in the project's ``signoffs.yaml``; each pins the SHA-256 of the artifact version it
signs, so a sign-off whose artifact changed afterwards is reported as stale. Each is also recorded in the
output folder's audit log (a ``signoff`` record): a sign-off the log does not hold (written into the file by
hand) is reported as unrecorded, and ``rescue check`` refuses it.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..auditlog import append_record, read_log
from ..errors import ArtifactError, SpecError
from ..hashing import file_sha256
from ..spec import SignOff, Spec, issues_from_validation, load_signoffs

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
    append_record(out, "signoff", project=spec.project, artifact=new.artifact, scope=new.scope, by=new.by,
                  role=new.role, date=new.date.isoformat(), sha256=new.sha256)  # fmt: skip
    return new


def _key(artifact: str, scope: str, by: str, on: str, sha256: str) -> tuple[str, str, str, str, str]:
    return (artifact, scope, by, on, sha256)


def recorded_signoffs(out: str | Path) -> set[tuple[str, str, str, str, str]]:
    """The sign-offs ``out``'s audit log holds, as (artifact, scope, by, date, sha256)."""
    try:
        records = read_log(out)
    except (OSError, ValueError):
        return set()
    return {_key(str(r.get("artifact")), str(r.get("scope")), str(r.get("by")), str(r.get("date")),
                 str(r.get("sha256"))) for r in records if isinstance(r, dict) and r.get("event") == "signoff"}  # fmt: skip


def is_recorded(signoff: SignOff, recorded: set[tuple[str, str, str, str, str]]) -> bool:
    """Whether the audit log holds ``signoff`` (made with ``rescue sign`` or the Day 5 form, not hand-written)."""
    return (
        _key(signoff.artifact, signoff.scope, signoff.by, signoff.date.isoformat(), signoff.sha256)
        in recorded
    )


def unrecorded_signoffs(spec: Spec, out: str | Path) -> list[SignOff]:
    """The project's sign-offs that ``out``'s audit log does not hold."""
    recorded = recorded_signoffs(out)
    return [s for s in load_signoffs(spec) if not is_recorded(s, recorded)]


def signoff_status(spec: Spec, out: str | Path) -> list[dict[str, Any]]:
    """Each required sign-off: current (signs the artifact as it is now), stale (the artifact changed since),
    unrecorded (the audit log does not hold it: not made with rescue sign or the form), missing, or
    artifact missing."""
    signoffs = load_signoffs(spec)
    recorded = recorded_signoffs(out)
    rows = []
    for artifact, scope in REQUIRED_SIGNOFFS:
        path = Path(out) / f"{artifact}.json"
        current = file_sha256(path) if path.exists() else None
        mine = [s for s in signoffs if s.artifact == artifact and s.scope == scope]
        latest = max(reversed(mine), key=lambda s: s.date) if mine else None  # the last of a day
        if latest is None:
            status = "missing"
        elif not is_recorded(latest, recorded):
            status = "unrecorded"
        elif current is None:
            status = "artifact missing"
        else:
            status = "current" if latest.sha256 == current else "stale"
        rows.append({"artifact": artifact, "scope": scope, "status": status,
                     "by": latest.by if latest else None, "date": latest.date.isoformat() if latest else None,
                     "link": latest.link if latest else None})  # fmt: skip
    return rows
