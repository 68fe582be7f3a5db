"""The ``owner`` artifact (Day 5): who runs the system, who is responsible for what, what is left to hand
over."""

from __future__ import annotations

from typing import Literal

from ..spec.models import Owner
from .common import Date, Envelope, OpenRecord, Status, artifact_config


class RaciRow(OpenRecord):
    """Who is Responsible, Accountable, Consulted or Informed for one role; gaps stay visible."""

    role: str
    who: str | None
    """Null when nobody is named."""
    raci: Literal["R", "A", "C", "I"]
    assigned: bool


class SourceOwner(OpenRecord):
    """The owner of one production source, with the evidence for the claim."""

    source: str
    owner: str | None
    evidence: str | None


class SignoffStatus(OpenRecord):
    """A required sign-off: current (it signs the artifact as it is now), stale (the artifact changed since),
    missing, or signed for an artifact that is not there."""

    artifact: str
    scope: str
    status: Literal["current", "stale", "missing", "artifact missing", "unrecorded"]
    by: str | None
    date: Date | None
    link: str | None


class OwnerCheck(OpenRecord):
    """One check of the ownership: a named owner on the customer team, a backup, owned sources, sign-offs."""

    check: str
    ok: bool
    detail: str


class HandoverItem(OpenRecord):
    """An open ownership, rollback or observability check of the gap, and when its work is due."""

    item: str
    check: str
    """Id of the gap check."""
    status: Status
    due: Date | None
    """The end of its week in the rebuild plan (null when not planned)."""


class OwnerArtifact(Envelope):
    """The owner: the named owner, RACI, source owners, sign-offs and the handover checklist."""

    model_config = artifact_config("owner", "rescue owner (Day 5)")

    artifact: Literal["owner"]
    owner: Owner | None
    """The owner as ``rescue.yaml`` names them (its ``owner`` section, as validated); null when it names none."""
    raci: list[RaciRow]
    runbook: str | None
    source_owners: list[SourceOwner]
    signoffs: list[SignoffStatus]
    checks: list[OwnerCheck]
    handover: list[HandoverItem]
