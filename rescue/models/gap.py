"""The ``gap`` artifact (Day 1): every catalogue check with its status and evidence, area scores, blockers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..spec.records import Attestation
from .common import Count, Envelope, Record, Severity, Share, Status, artifact_config


class Counts(Record):
    """How many checks have each status."""

    pass_: Count = Field(alias="pass")
    attested: Count
    fail: Count
    unknown: Count


class Area(Counts):
    """One area of the catalogue (latency, cost, ownership…): the mean score of its checks."""

    id: str
    title: str
    score: Share
    """Mean score of the area's checks."""
    points: Annotated[float, Field(ge=0)]
    """Sum of the area's check scores."""
    checks: Count
    """Checks in the area."""


class Check(Record):
    """One catalogue check as assessed: status, score, the evidence and who or what produced it."""

    id: Annotated[str, Field(pattern=r"^[a-z_]+\.[a-z_]+$")]
    """``<area>.<check>``."""
    area: str
    title: str
    severity: Severity
    evidence_kind: Literal["computed", "attested"]
    """Whether the check is meant to be computed by rescue or stated by a person."""
    status: Status
    score: Share
    """The catalogue's score for the status."""
    evidence: str
    produced_by: str
    """The rescue version and inputs that computed the status, or the person who attested it."""
    inputs: list[str]
    """What the computation read (spec keys, artifacts)."""
    pending: str | None
    """What the check waits for (e.g. a later day's artifact), if anything."""
    note: str | None
    """An attestation that the computation confirms or contradicts."""
    attestation: Attestation | None
    rubric: Annotated[list[str], Field(min_length=1)]
    """What it takes to pass."""
    remedy: str
    """The work that closes the check."""


class Blocker(Record):
    """A catalogue blocker: it applies when its check has one of the statuses that block production."""

    id: str
    title: str
    check: str
    """Id of the check it rests on."""
    status: Status
    applies: bool
    evidence: str


class GapArtifact(Envelope):
    """The production gap: every check of the catalogue assessed against the spec, the attestations and
    the later days' artifacts; area scores (mean of their checks), the headline (the weakest area), the
    blockers and the verdict."""

    model_config = artifact_config("gap", "rescue production gap (Day 1)")

    artifact: Literal["gap"]
    verdict: Literal["blocked", "gaps", "ready"]
    """``blocked`` when a blocker applies, ``ready`` when every area scores 1, else ``gaps``."""
    headline_score: Share
    """The lowest area score."""
    weakest_areas: Annotated[list[str], Field(min_length=1)]
    """The areas that score the headline."""
    points: Annotated[float, Field(ge=0)]
    max_points: Annotated[float, Field(ge=1)]
    catalogue_version: int
    counts: Counts
    artifacts_read: dict[str, str | None]
    """The later days' artifacts the gap read: their ``generated_at``, null for one not there."""
    areas: Annotated[list[Area], Field(min_length=1)]
    blockers: list[Blocker]
    checks: Annotated[list[Check], Field(min_length=1)]
