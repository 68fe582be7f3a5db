"""The ``eval_set`` artifact (Day 3): the labeled sample of production, its provenance and agreement.

Two shapes, one model: a classifier's eval set (a stratified, deduplicated sample labeled by people) and a
free-text PoC's (the PoC's answers graded on each rubric criterion, in ``rubric``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .common import ABSENT, Agreement, Count, Envelope, OpenRecord, Record, Share, artifact_config


class Stratum(OpenRecord):
    """One stratum of the sample."""

    stratum: str
    items: Count
    """Items drawn from it."""
    weight: Annotated[float, Field(ge=0)]
    """The production items each sampled item stands for."""


class SourceLeftOut(Record):
    """A source the sample could not be drawn from, with how and why it failed."""

    source: str
    kind: str
    reason: str


class Sample(OpenRecord):
    """How the sample was drawn (or that a kept one was reused)."""

    size: Count
    strata: list[Stratum]
    stratified_by: list[str]
    reused: bool
    """Whether the sample kept from an earlier run was reused (labels stay attached to the same items)."""
    population: Count | None = None
    """Production items sampled from (null when a kept sample was reused)."""
    exact_duplicates: Count | None = None
    """Classifiers: texts dropped as exact duplicates before sampling."""
    near_duplicates: Count | None = None
    """Classifiers: texts dropped as near-duplicates (same after normalising case, entities, punctuation)."""
    demo_examples_excluded: Count | None = None
    """Classifiers: production texts dropped because they are the PoC's demo examples."""
    answered: Count = ABSENT
    """Free-text PoCs: questions the PoC answered."""
    sources_left_out: list[SourceLeftOut] = ABSENT
    """Classifiers: sources with id and text columns that could not be read, so the sample does not stand for
    their items."""
    generalises_to: str = ABSENT
    """Classifiers: the production population the sample stands for (narrowed by eval.where, or every item)."""
    inclusion_probability: InclusionRange | None = ABSENT
    """Classifiers: the smallest and the largest chance an item had to be drawn (n_h / N_h)."""
    from_traces: Count = ABSENT
    """Classifiers: sampled items that are calls from a production traces source."""


class InclusionRange(Record):
    """The range of the sampled items' inclusion probabilities."""

    min: Annotated[float, Field(ge=0, le=1)]
    max: Annotated[float, Field(ge=0, le=1)]


class Labels(OpenRecord):
    """The labels (or grades) on the sample: who gave them, how many, where they come from."""

    imported_this_run: Count
    labelers: list[str]
    labeled_items: Count
    coverage: Share
    """Share of the sample labeled (free-text PoCs: of the answers, graded on every criterion)."""
    flagged: Count
    """Items a labeler flagged."""
    by_label: dict[str, Count]
    """Label (free-text PoCs: ``criterion: grade``) to its count."""
    origin: dict[str, Count]
    """Where the labels come from (a person, an import, a rule) to their count: labels no person gave are
    never counted as human."""
    scored_in_day4: Count | None = None
    """Labeled production items Day 4 scores: the labels file's (``eval.labels``), and the items labeled only
    here (null when they cannot be counted yet)."""
    from_labels_file: Count | None = None
    """Of them, the items the labels file labels."""


class Export(OpenRecord):
    """The labeled set's files, next to the artifact."""

    csv: str
    parquet: str


class CriterionGrades(OpenRecord):
    """Free-text PoCs: the grades of one rubric criterion."""

    criterion: str
    graded: Count
    by_grade: dict[str, Count]
    origin: dict[str, Count]
    labelers: list[str]
    agreement: Agreement | None
    open_disagreements: Count


class EvalSetArtifact(Envelope):
    """The eval set: a random, stratified sample of production, labeled by people, with its provenance."""

    model_config = artifact_config("eval_set", "rescue eval set (Day 3)")

    artifact: Literal["eval_set"]
    sample: Sample
    labels: Labels
    agreement: Agreement | None
    """Agreement between people on the items labeled twice (free-text PoCs: the first criterion that has
    one); null until two people label an overlap."""
    open_disagreements: Count
    """Items where people disagree and no adjudicator has decided."""
    export: Export
    rubric: list[CriterionGrades] = ABSENT
    """Free-text PoCs only: the grades per rubric criterion."""
    traces: TracesSample | None = ABSENT
    """Free-text PoCs with a traces source: the random sample of production's own calls Day 4 replays and judges."""


class TracesStratum(Record):
    """One stratum of the traces sample."""

    stratum: str
    items: Count
    weight: Annotated[float, Field(ge=0)]
    inclusion_probability: Annotated[float, Field(ge=0, le=1)]


class TracesSample(OpenRecord):
    """The calls drawn from production traces: how many, from what population, with which chances."""

    size: Count
    population: Count
    stratified_by: list[str]
    strata: list[TracesStratum]
    generalises_to: str
    sessions: Count | None
    sources_left_out: list[SourceLeftOut]
    file: str
    reused: bool
