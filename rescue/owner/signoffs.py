"""Sign-offs: a named person signs one version of an artifact.

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
