"""Record a person's attestation of a check in the project's attestations file."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import SpecError, SpecIssue
from ..spec import Attestation, Spec, issues_from_validation, load_attestations
from .catalogue import load_catalogue

HEADER = """\
# Attestations: a named person states that a production check is met, with a date and a link.
# Written by the Day 1 workbook's attestation form or `rescue attest`; safe to edit by hand.
# An attestation scores 0.5 (a computed, re-runnable check scores 1).
"""


def attest(
    spec: Spec,
    check: str,
    by: str,
    link: str,
    on: date | str | None = None,
    role: str | None = None,
    note: str | None = None,
) -> Attestation:
    """Validate an attestation and append it to the project's attestations file (atomically)."""
    catalogue = load_catalogue()
    ids = [c.id for c in catalogue.checks]
    raw: dict[str, Any] = {
        "check": check,
        "by": by,
        "role": role or None,
        "date": on or date.today(),
        "link": link,
        "note": note or None,
    }
    file = spec.path(spec.attestations)
    try:
        new = Attestation.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(file, issues_from_validation(exc, raw, Attestation)) from None
    if new.check not in ids:
        raise SpecError(file, [SpecIssue("check", check, "a check id from the catalogue")])
    if new.date > date.today():
        raise SpecError(file, [SpecIssue("date", str(new.date), "a date not in the future")])
    existing = load_attestations(spec)
    records = [a.model_dump(mode="json", exclude_none=True) for a in [*existing, new]]
    text = HEADER + yaml.safe_dump({"attestations": records}, sort_keys=False, allow_unicode=True, width=110)
    tmp = file.with_suffix(file.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, file)
    return new
