"""The ``eval_position`` artifact (Day 4): the PoC and a baseline scored on labeled production data.

Two kinds of PoC, two shapes: a classifier's (``task: classification``, or no ``task`` in documents written
before it was recorded) and a free-text PoC's (``task: generation``). What they share — the envelope, the
systems, errors, latency, cost, contracts and the ledger — is in :class:`PositionBase`; the scores, the
comparison with the baseline, the slices and the failure modes differ. :class:`EvalPositionArtifact` is
either, chosen by ``task``, and its generated schema says so with ``if``/``then``/``else``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, RootModel, Tag
from pydantic.json_schema import GetJsonSchemaHandler, JsonSchemaValue
from pydantic_core import CoreSchema

from .common import (
    ABSENT,
    Count,
    Envelope,
    Interval,
    Milliseconds,
    OpenRecord,
    PairedScore,
    RateOrMean,
    Share,
    artifact_config,
)

# --- shared by both kinds -----------------------------------------------------------------------------------


class SystemRef(OpenRecord):
    """A system that was run: its name and the hash of its configuration (the ledger's key)."""

    name: str
    config: str
    kind: str = ABSENT
    """The PoC's adapter kind (``notebook``, ``function``, ``http``, ``openai``, ``predictions``…)."""
    model: str | None = None
    """Free-text PoCs: the baseline system's model."""


class JudgeRef(OpenRecord):
    """Free-text PoCs: the judge model that grades the answers on the rubric."""

    model: str | None
    url: str | None


class Systems(OpenRecord):
    """The systems compared: the PoC, the baseline (null without one) and, for free-text PoCs, the judge."""

    poc: SystemRef
    baseline: SystemRef | None
    judge: JudgeRef | None = None


class ErrorMessage(OpenRecord):
    """One failure message and how many calls failed with it."""

    message: str
    count: Count


class ErrorSummary(OpenRecord):
    """The PoC's failed calls: how many, their rate, by kind, and how many calls needed a retry."""

    total: Count
    rate: Interval
    by_kind: dict[str, Count]
    retried_calls: Count
    top_messages: list[ErrorMessage] = Field(default_factory=list)
    """The most frequent failure messages (at most three), redacted, with their counts."""
    likely_cause: str | None = None
    """What the failures most likely mean, read from their kinds and messages (None: no failure)."""


class LatencySummary(OpenRecord):
    """Latency of the PoC's live calls (cached answers are never timed), against the p95 target."""

    n: Count
    """Live calls timed."""
    target_p95_ms: Milliseconds | None
    p50: Interval
    p95: Interval
    p99: Interval
    p95_ms: float | None
    meets_target: bool | None
    """Null without a target or a measurement."""
    histogram_ms: list[float]
    """Every live call's latency."""


class DesignFigure(OpenRecord):
    """A mean over production from the eval sample as it was drawn (:mod:`rescue.evals.design`): the weighted
    (Hájek) estimate with its design-based 95% interval, and the same items read as a simple random sample."""

    estimate: float
    low: float | None
    high: float | None
    se: float | None
    n: Count
    clusters: Count | None
    """Clusters (null: none declared; each item is its own)."""
    effective_n: float | None
    """Items a simple random sample would need for the same precision (n / design effect)."""
    design_effect: float | None
    """The design's variance over a simple random sample's at the same n (1: none; above 1: clusters cost)."""
    method: str
    unweighted: float
    unweighted_low: float | None
    unweighted_high: float | None
    confidence: float
    note: str | None = None
    """Why a figure is missing (e.g. one cluster gives no interval)."""


class DesignSummary(OpenRecord):
    """The PoC's headline per-item metric weighted back to production, and its difference from the baseline."""

    metric: str
    """``accuracy`` (classification) or ``token F1`` (free text)."""
    weighted: bool
    """Whether the items carry weights other than 1 (Day 3's strata: each stands for more production items)."""
    weights: str
    strata: Count | None
    cluster: str | None
    """The item field eval.cluster names (null: no clusters)."""
    estimate: DesignFigure
    difference: DesignFigure | None
    """The PoC minus the baseline on the same items, with a cluster bootstrap interval (null: no baseline)."""
    differs: bool
    """Whether the weighted and the unweighted figures differ enough to show both."""


class SidePercentiles(OpenRecord):
    """Production's (from its traces) and the replay's (measured) median and 95th percentile."""

    production: SpanDurations
    replay: SpanDurations


class ProductionVsReplay(OpenRecord):
    """The PoC replayed on the inputs production traced, against the outputs production recorded for them."""

    items: Count
    both_answered: Count
    recorded_missing: Count
    """Items whose traced call recorded no output (it failed, or logged none)."""
    agreement: Interval
    """Share of the items both answered where the two answers agree (the label, or the answer's text)."""
    latency_ms: SidePercentiles
    tokens_per_call: dict[str, dict[str, float | None]]
    """``production``/``replay`` → ``input``/``output`` tokens a call (null: not reported)."""


class TracedCriterion(OpenRecord):
    """One rubric criterion on the traces sample: production's recorded answers and the PoC's replay, judged and
    weighted as sampled (null figures when the judge is not trusted on this criterion)."""

    criterion: str
    judge_trusted: bool
    withheld_because: str | None
    production: DesignFigure | None
    replay: DesignFigure | None
    difference: DesignFigure | None
    """The replay minus production, with a cluster bootstrap over sessions."""


class TracedSample(OpenRecord):
    """How the traces sample was drawn (Day 3's ``traces``)."""

    size: Count
    population: Count
    generalises_to: str
    sessions: Count | None
    stratified_by: list[str]


class TracesReplay(OpenRecord):
    """Production's own traffic: Day 3's random sample of traced calls, answered by production (recorded) and by
    the PoC (replayed), judged per criterion."""

    sample: TracedSample
    cluster: str
    criteria: list[TracedCriterion]
    replay_failed: Count
    production_vs_replay: ProductionVsReplay


class PriceUsed(OpenRecord):
    """A model's price as the cost used it: EUR per million tokens, where it comes from and as of when."""

    model: str
    source: str
    as_of: str
    input_per_mtok_eur: float
    output_per_mtok_eur: float


class Destination(OpenRecord):
    """One place the PoC's calls reached on the network, matched to a declared provider."""

    host: str
    port: int | str | None
    loopback: bool
    items: Count
    """Items whose call reached it."""
    connections: Count
    provider: str | None
    """The compliance provider whose hosts match it (null: undeclared)."""
    region: str | None
    allowed: bool | None
    """Whether the provider's region is in compliance.allowed_regions (null: no provider or no allowed regions)."""
    requests: Count = 0
    """HTTP requests the PoC's calls sent it (0: seen only as a connection, or requests not captured)."""
    personal_data_sent: dict[str, Count] = Field(default_factory=dict)
    """What was sent to it that holds personal data, per kind (counts only, never values): requests when their
    bodies were seen (``personal_data_from: requests``), else the inputs of the calls that reached it."""
    personal_data_from: Literal["requests", "inputs"] = "inputs"


class SpanDurations(OpenRecord):
    """The median and the 95th percentile of a time per call, each with its bootstrap interval."""

    p50: Interval
    p95: Interval


class RequestTokens(OpenRecord):
    """The tokens the provider's HTTP responses reported (``gen_ai.usage.*``)."""

    requests_reporting: Count
    input: Count
    output: Count


class RequestsSummary(OpenRecord):
    """The HTTP requests the PoC's calls sent, captured as OpenTelemetry spans inside the PoC's process."""

    calls: Count
    """Calls whose requests were captured."""
    total: Count
    per_call: float
    """Requests a call (the provider calls per item)."""
    per_call_counts: dict[str, Count]
    """How many calls sent 0, 1, 2, … requests."""
    provider_ms: SpanDurations
    """Time a call spent waiting on its requests (the union of their spans), answered calls."""
    own_ms: SpanDurations
    """The rest of the call: the PoC's own time (its code, rescue's worker)."""
    provider_share: Share | None
    """Of the answered calls' time, the share spent waiting on requests."""
    tokens: RequestTokens
    models: dict[str, Count]
    """Models the responses named (``gen_ai.response.model``), by requests."""
    statuses: dict[str, Count]
    """HTTP status codes (or the error type of a request that got none), by requests."""


class NetworkSummary(OpenRecord):
    """Where the PoC's calls went, seen from inside the PoC's process (Python's audit hooks and the HTTP spans)."""

    calls_watched: Count
    items_reaching_network: Count
    """Items whose call left this machine."""
    connections_per_call: float
    requests: RequestsSummary | None = None
    """Null when no call's HTTP requests were captured (no OpenTelemetry in the PoC's interpreter, a client
    other than httpx, an HTTP PoC rescue calls itself)."""
    destinations: list[Destination]
    undeclared: list[str]
    """Destinations off this machine no compliance provider's hosts cover."""
    outside_allowed: list[str]
    """Destinations whose provider's region is outside the allowed regions."""


class CostSummary(OpenRecord):
    """The PoC's cost per call and per month, against the cost target."""

    per_call_eur: float | None
    per_month_eur: float | None
    monthly_volume: int | None
    target_per_call_eur: float | None
    basis: str
    """How the cost was worked out (reported or estimated tokens × prices, or a fixed price per call)."""
    meets_target: bool | None
    price: PriceUsed | None = None
    """The model's price used, with its source and date (null: a fixed price, or unknown)."""


class Violation(OpenRecord):
    """One way outputs break a contract, and how many outputs break it so."""

    violation: str
    count: Count


class ContractResult(OpenRecord):
    """The PoC's outputs checked against one integration contract (a JSON Schema)."""

    name: str
    valid: Interval
    """Share of outputs that validate."""
    top_violations: list[Violation]
    unusable: str = ABSENT
    """Why the contract could not be checked (its file named); its outputs are then not counted as valid."""


class ContractSummary(OpenRecord):
    """The PoC's outputs against the integration contracts."""

    contracts: list[ContractResult]
    valid_rate: Share | None
    """Share of outputs valid against every contract (null without outputs)."""


class LedgerSummary(OpenRecord):
    """The calls in the ledger."""

    calls: Count
    cached_this_run: Count
    """Calls answered from the ledger instead of made again."""


class DemoVsProduction(OpenRecord):
    """The PoC on its own demo examples against production: a large gap means the demo was hand-picked."""

    n: Count
    """Demo examples."""
    metric: str = ABSENT
    """Free-text PoCs: the score compared (``token F1``); classifiers compare accuracy."""
    accuracy: Interval
    """The score on the demo examples."""
    production_accuracy: Interval
    gap: float | None
    """Demo score minus production score."""
    labels: list[str] = ABSENT
    """Classifiers: the labels of the demo examples."""


class SliceRow(OpenRecord):
    """One value of a slice field against the rest, Holm-corrected."""

    field: str
    value: str
    p_value_vs_rest: Annotated[float, Field(ge=0, le=1)]
    p_holm: Annotated[float, Field(ge=0, le=1)]
    significantly_worse: bool


class PositionBase(Envelope):
    """What both kinds of eval position share."""

    artifact: Literal["eval_position"]
    n_items: Annotated[int, Field(ge=1)]
    """Labeled production items scored."""
    classes: list[str]
    """Classifiers: the classes (empty for free-text PoCs)."""
    label_field: str
    label_origin: dict[str, int]
    """Where the labels (references) come from, to their count."""
    systems: Systems
    errors: ErrorSummary
    latency: LatencySummary
    cost: CostSummary
    contract: ContractSummary | None
    """Null when the spec declares no integration contract."""
    ledger: LedgerSummary
    network: NetworkSummary | None = None
    """Where the PoC's calls went (null: no call was watched, e.g. an HTTP PoC rescue reaches itself)."""
    design: DesignSummary | None = None
    """The headline weighted back to production as the sample was drawn (null in artifacts before it)."""
    production_vs_replay: ProductionVsReplay | None = None
    """With ``eval.baseline: recorded``: the PoC replayed on production's inputs against what production recorded."""


# --- classifiers --------------------------------------------------------------------------------------------


class ClassScore(OpenRecord):
    """Precision, recall and F1 of one class (or extracted field), and its support."""

    precision: Share
    recall: Share
    f1: Share
    support: Count


class ConfusionMatrix(OpenRecord):
    """Rows are true labels, columns predictions."""

    classes: list[str]
    matrix: list[list[Count]]


class ClassificationScores(OpenRecord):
    """Accuracy and macro-F1 with 95% intervals, and the Matthews correlation coefficient."""

    accuracy: Interval
    macro_f1: Interval
    mcc: float


class ClassificationReport(ClassificationScores):
    """A classifier's full scores: per class, the confusion matrix, MCC with its interval."""

    n: Count
    mcc_interval: Interval = ABSENT
    per_class: dict[str, ClassScore]
    confusion: ConfusionMatrix


class Scored(OpenRecord):
    """The PoC scored twice: errors and timeouts counted as failures, and left out."""

    as_failures: ClassificationReport
    errors_excluded: ClassificationReport


class Target(OpenRecord):
    """The quality target and whether the PoC meets it (null without a target)."""

    min_macro_f1: float | None
    meets: bool | None


class McNemar(OpenRecord):
    """McNemar's test on the paired outcomes: items only the PoC (a) or only the baseline (b) got right."""

    a_only: Count
    b_only: Count
    p_value: Annotated[float, Field(ge=0, le=1)]
    method: str


class ClassificationComparison(OpenRecord):
    """The PoC against the baseline on the same items."""

    baseline: str
    n_paired: Count
    baseline_scores: ClassificationReport
    mcnemar: McNemar
    accuracy_difference: Interval
    """PoC accuracy minus baseline accuracy, with a paired bootstrap interval."""
    sentence: str


class Power(OpenRecord):
    """What the labeled set can show."""

    detectable_difference: float | None
    """The smallest accuracy difference this many items can detect (80% power, 5% two-sided)."""
    labels_for_5_points: Count
    """Items needed to detect a 5-point difference."""


class Extraction(OpenRecord):
    """Structured extraction (labels that are JSON records): per field, micro-F1 and exact records."""

    fields: dict[str, ClassScore]
    micro_f1: Interval
    exact_record: Interval


class AccuracySlice(SliceRow):
    """A classifier's slice: accuracy of the items with this value."""

    accuracy: Interval


class ClassificationSlices(OpenRecord):
    """Accuracy per slice against the rest (Fisher's exact test)."""

    count: Count
    rows: list[AccuracySlice]


class Confusion(OpenRecord):
    """A frequent confusion: true label, prediction, count."""

    label: str
    predicted: str
    count: Count


class ClassificationExample(OpenRecord):
    """An item the PoC got wrong (personal data masked in the text)."""

    item: str
    label: str
    predicted: str | None
    """Null when the call failed."""
    error: str | None
    text: str


class ClassificationFailures(OpenRecord):
    """The most frequent confusions and a few wrong items."""

    confusions: list[Confusion]
    examples: list[ClassificationExample]


class ClassificationPosition(PositionBase):
    """A classifier (or extractor) scored on labeled production data."""

    task: Literal["classification"] = ABSENT
    """``classification`` (older documents leave it out)."""
    scores: ClassificationScores
    """The headline: the PoC's scores with errors counted as failures."""
    scored: Scored
    target: Target
    comparison: ClassificationComparison | None
    """Null without a baseline."""
    power: Power
    demo_vs_production: DemoVsProduction | None
    """Null without demo examples."""
    extraction: Extraction | None
    """Null unless the labels are JSON records."""
    slices: ClassificationSlices
    failure_modes: ClassificationFailures


# --- free-text PoCs -----------------------------------------------------------------------------------------


class ReferenceScores(OpenRecord):
    """Free-text answers against reference answers: exact match, token F1, ROUGE-L and chrF (0..1)."""

    exact_match: Interval
    token_f1: Interval
    rouge_l: Interval
    chrf: Interval


class ReferenceComparison(OpenRecord):
    """The PoC minus the baseline on each reference score, paired over the same questions."""

    exact_match: PairedScore
    token_f1: PairedScore
    rouge_l: PairedScore
    chrf: PairedScore


class Reference(OpenRecord):
    """The reference scores of the PoC and of the baseline system, and their difference."""

    poc: ReferenceScores
    baseline: ReferenceScores | None
    comparison: ReferenceComparison | None
    missing: Count
    """Questions the PoC gave no answer to (scored 0)."""


class RetrievalBudget(OpenRecord):
    """What fetching k documents from the corpus source costs, from the data picture's probes."""

    source: str
    point_lookup_p95_ms: Milliseconds
    k: int
    sequential_fetch_ms: Milliseconds
    target_p95_ms: Milliseconds | None
    share_of_target: float | None


class Retrieval(OpenRecord):
    """The documents the PoC cites against the gold relevant ones, at cut-off k."""

    k: Annotated[int, Field(ge=1)]
    n: Count
    """Questions scored (those with at least one relevant document)."""
    n_without_relevant: Count
    empty_retrievals: Count
    hit_rate: Interval
    mrr: Interval
    ndcg: Interval
    recall: Interval
    precision: Interval
    budget: RetrievalBudget | None


class LabelConfusion(OpenRecord):
    """Rows are people's grades, columns the judge's."""

    labels: list[str]
    matrix: list[list[Count]]


class JudgeCalibration(OpenRecord):
    """The judge against people's grades on the same answers."""

    n: Count
    positive: str
    kappa: Interval
    """Cohen's kappa with a bootstrap interval."""
    confusion: LabelConfusion
    sensitivity: Interval
    specificity: Interval
    agreement: Interval


class PpiEstimate(OpenRecord):
    """A prediction-powered estimate of the pass rate: the judge's rate corrected by its measured error."""

    value: float | None
    low: float | None
    high: float | None
    n_labeled: Count
    n_unlabeled: Count
    lambda_: float | None = Field(alias="lambda")
    """The power-tuning weight of the judge (0: people alone)."""


class PerQuestionRate(OpenRecord):
    """The pass rate over every question asked (a failed call is a fail)."""

    value: float
    low: float
    high: float
    answered: Count
    questions: Count


class PassRate(OpenRecord):
    """A criterion's pass rate: prediction-powered, people alone, the judge alone, and per question asked."""

    ppi: PpiEstimate | None
    human_only: RateOrMean
    judge_only: RateOrMean | None
    """Withheld (null) when the judge is not calibrated."""
    per_question: PerQuestionRate | None = None


class CriterionResult(OpenRecord):
    """One rubric criterion: the judge against Day 3's grades, and the pass rate with its intervals."""

    name: str
    description: str = ABSENT
    scale: str = ABSENT
    answers: Count = ABSENT
    judged: Count = ABSENT
    judge_unreadable: Count = ABSENT
    judge_failed: Count = ABSENT
    graded: Count = ABSENT
    graded_by_people: Count = ABSENT
    grade_origin: dict[str, Count] = ABSENT
    stale_grades: Count = ABSENT
    """Grades given for another answer than the one graded now: never used."""
    calibration_items: Count
    """Answers with both a grade and a judge verdict."""
    calibration: JudgeCalibration | None
    min_kappa: float = ABSENT
    calibrated: bool
    """Whether the judge is believed (it agrees with people well enough)."""
    calibrated_against_people: bool = ABSENT
    withheld_because: str | None
    """Why the judge's own pass rate is withheld, if it is."""
    pass_rate: PassRate


class JudgeCost(OpenRecord):
    """What the judge's calls cost, apart from the PoC's."""

    calls: Count
    tokens_in: Count
    tokens_out: Count
    total_eur: float | None
    basis: str | None


class Generation(OpenRecord):
    """Free-text PoCs: reference scores, retrieval and the rubric graded by a calibrated judge."""

    reference: Reference
    retrieval: Retrieval | None
    """Null when the spec names no column of relevant documents."""
    rubric: list[CriterionResult]
    judge_cost: JudgeCost


class GenerationTarget(Target):
    """The weakest rubric criterion's pass-rate lower bound against ``targets.min_pass_rate``."""

    min_pass_rate: float | None = None
    lowest_pass_rate_low: float | None = None
    weakest_criterion: str | None = None


class GenerationComparison(OpenRecord):
    """The PoC against the baseline system on the same questions (details in ``generation.reference``)."""

    baseline: str
    n_paired: Count
    sentence: str | None


class TokenF1Slice(SliceRow):
    """A free-text PoC's slice: mean token F1 of the questions with this value."""

    token_f1: Interval


class GenerationSlices(OpenRecord):
    """Token F1 per slice against the rest (Mann-Whitney U)."""

    count: Count
    metric: str = ABSENT
    rows: list[TokenF1Slice]


class GenerationExample(OpenRecord):
    """A question with one of the lowest token F1 scores (personal data masked)."""

    item: str
    question: str
    reference: str
    answer: str | None
    """Null when the call failed."""
    token_f1: Share
    error: str | None


class GenerationFailures(OpenRecord):
    """A few of the worst answers (free-text PoCs have no confusions)."""

    confusions: list[Confusion]
    examples: list[GenerationExample]


class GenerationPosition(PositionBase):
    """A free-text (or RAG) PoC scored on production questions with reference answers."""

    task: Literal["generation"]
    scores: ReferenceScores
    """The PoC's reference scores."""
    target: GenerationTarget
    comparison: GenerationComparison | None
    """Null without a baseline system."""
    generation: Generation
    demo_vs_production: DemoVsProduction | None
    slices: GenerationSlices
    failure_modes: GenerationFailures
    traces: TracesReplay | None = None
    """With a traces source: production's own calls, recorded against replayed (null without one)."""


# --- either -------------------------------------------------------------------------------------------------


def position_kind(document: Any) -> str:
    """Which shape a document (or model) has: ``generation`` when its ``task`` says so, else
    ``classification``."""
    task = document.get("task") if isinstance(document, dict) else getattr(document, "task", None)
    return "generation" if task == "generation" else "classification"


class EvalPositionArtifact(
    RootModel[
        Annotated[
            Annotated[ClassificationPosition, Tag("classification")]
            | Annotated[GenerationPosition, Tag("generation")],
            Discriminator(position_kind),
        ]
    ]
):
    """The eval position: the PoC and a baseline run on the same labeled production items (the PoC also on its
    demo), every score with a 95% interval, errors, latency, cost, contracts, slices and failure modes.
    A classifier's document or a free-text PoC's, as ``task`` says."""

    model_config = artifact_config("eval_position", "rescue eval position (Day 4)")

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The union as ``if task is generation then <generation> else <classification>``.

        A validator then reports a broken document's errors inside the shape it has (``oneOf`` would only say
        that neither shape matches), and ``properties.schema_version`` names the version at the top, as
        ``rescue.artifacts.schema_version`` reads it.
        """
        schema = handler.resolve_ref_schema(handler(core_schema))
        classification, generation = schema.pop("oneOf")
        envelope = handler.resolve_ref_schema(classification)["properties"]
        schema.update(
            {
                "type": "object",
                "required": ["artifact", "schema_version"],
                "properties": {key: envelope[key] for key in ("artifact", "schema_version")},
                "if": {"properties": {"task": {"const": "generation"}}, "required": ["task"]},
                "then": generation,
                "else": classification,
            }
        )
        return schema
