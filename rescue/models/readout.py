"""The ``readout`` artifact (Day 5): go / no-go / conditional, the stall diagnosis, the top gaps, the plan."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .common import (
    ABSENT,
    Agreement,
    Count,
    Date,
    Envelope,
    Interval,
    Milliseconds,
    OpenRecord,
    Severity,
    Share,
    Status,
    artifact_config,
)
from .eval_position import PerQuestionRate
from .gap import Counts
from .owner import OwnerCheck

StallReason = Literal[
    "sales_artifact",
    "no_eval_harness",
    "no_latency_cost_target",
    "data_only_in_demo",
    "integration_hand_waved",
    "compliance_deferred",
    "no_owner",
]
"""The seven reasons a PoC stalls."""


class Diagnosis(OpenRecord):
    """One stall reason: whether it applies, with the evidence cited and the artifacts it comes from."""

    id: StallReason
    title: str
    verdict: Literal["applies", "does not apply", "unknown"]
    evidence: Annotated[list[str], Field(min_length=1)]
    from_: list[str] = Field(alias="from")
    """The artifacts the evidence comes from."""


class TopGap(OpenRecord):
    """An open check of the gap (fail or unknown), most severe first, with the next step."""

    check: str
    title: str
    severity: Severity
    status: Status
    evidence: str
    next: str


class GapSummary(OpenRecord):
    """The gap in a few numbers."""

    verdict: Literal["blocked", "gaps", "ready"]
    headline_score: Share
    counts: Counts
    weakest_areas: list[str]


class PictureDigest(OpenRecord):
    """The data picture in a few numbers."""

    sources: Count
    reachable: Count
    rows: Count
    unowned: list[str]
    personal_data_in: list[str]
    worst_read_p95_ms: Milliseconds | None


class EvalSetSummary(OpenRecord):
    """The eval set in a few numbers."""

    sampled: Count
    labeled: Count
    label_origin: dict[str, Count]
    agreement: Agreement | None


class PositionDigest(OpenRecord):
    """What both kinds of eval position summary share."""

    n: Count
    baseline: str | None
    """The sentence comparing the PoC with the baseline (null without one)."""
    latency_p95_ms: float | None
    cost_per_month_eur: float | None
    contract_valid_rate: Share | None


class ClassificationDigest(PositionDigest):
    """A classifier's eval position in a few numbers."""

    accuracy: Interval
    macro_f1: Interval
    demo_accuracy: Interval | None


class CriterionDigest(OpenRecord):
    """One rubric criterion in a few numbers."""

    name: str
    pass_rate: PerQuestionRate | None
    judge_believed: bool
    withheld_because: str | None
    grades: Count
    grades_by_people: Count


class GenerationDigest(PositionDigest):
    """A free-text PoC's eval position in a few numbers."""

    task: Literal["generation"]
    token_f1: Interval
    rubric: list[CriterionDigest]
    retrieval_hit_rate: Interval | None
    demo_token_f1: Interval | None


class Summaries(OpenRecord):
    """The artifacts the readout read, each in a few numbers (a key for each one that was there)."""

    production_gap: GapSummary = ABSENT
    data_picture: PictureDigest = ABSENT
    eval_set: EvalSetSummary = ABSENT
    eval_position: GenerationDigest | ClassificationDigest = ABSENT


class PlanItem(OpenRecord):
    """The work that closes one open check, and the role that owns it."""

    check: str
    work: str
    severity: Severity
    status: Status
    role: str


class PlanWeek(OpenRecord):
    """One dated week of the rebuild plan."""

    week: Annotated[int, Field(ge=1)]
    starts: Date
    ends: Date
    items: Annotated[list[PlanItem], Field(min_length=1)]


class ReadoutArtifact(Envelope):
    """The readout: the decision and why, the stall diagnosis, the top gaps and a dated rebuild plan."""

    model_config = artifact_config("readout", "rescue readout (Day 5)")

    artifact: Literal["readout"]
    as_of: Date
    decision: Literal["go", "no-go", "conditional"]
    """``no-go`` when a blocker applies, ``go`` when the gap is ready, else ``conditional``."""
    because: list[str]
    diagnosis: Annotated[list[Diagnosis], Field(min_length=7, max_length=7)]
    """A verdict for each of the seven stall reasons."""
    stall_reasons_applying: list[StallReason]
    top_gaps: list[TopGap]
    headline_score: Share
    summaries: Summaries
    evidence_missing: list[Literal["data_picture", "eval_set", "eval_position"]]
    """The later days' artifacts the readout was built without: their stall reasons stay unknown."""
    owner_checks: list[OwnerCheck]
    plan: list[PlanWeek]
    plan_weeks: Count
