"""The ``data_picture`` artifact (Day 2): every production source profiled where it lives, read-only."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .common import (
    ABSENT,
    Count,
    Date,
    Envelope,
    Interval,
    Milliseconds,
    OpenRecord,
    Record,
    Share,
    SourceKind,
    Timestamp,
    artifact_config,
)
from .eval_position import PriceUsed


class PictureSummary(Record):
    """The picture in a few numbers and names."""

    sources: Count
    reachable: Count
    unreachable_sources: Count
    rows_total: Count
    """Rows over the reachable sources."""
    personal_data_found_in: list[str]
    """Sources in which personal data was found (counts only, never values)."""
    personal_data_undeclared_in: list[str]
    """Sources with personal data that the spec declares as holding none."""
    outside_allowed_regions: list[str]
    unowned_sources: list[str]
    owners_without_evidence: list[str]
    """Sources whose named owner comes with no evidence for the claim."""


class PictureLatency(OpenRecord):
    """Read latency across the sources against the target."""

    worst_p95_ms: Milliseconds | None
    """The slowest source's point-lookup p95."""
    target_p95_ms: Milliseconds | None
    probes_per_source: Count
    """The most point lookups made on each source."""


class Provider(OpenRecord):
    """A third party the PoC sends data to, with its region against the allowed regions."""

    name: str
    region: str
    region_allowed: bool | None
    """Null when the spec allows no region in particular."""
    receives_personal_data: bool | None = None


class Residency(OpenRecord):
    """Where the data may live, and where the providers are."""

    allowed_regions: list[str]
    providers: list[Provider]


class Person(OpenRecord):
    """Someone named in the spec, with the evidence for the claim made about them."""

    name: str
    team: str | None = None
    role: str | None = None
    evidence: str | None = None


class SourceError(OpenRecord):
    """Why a source could not be read."""

    kind: str
    """A short name for the failure (``missing_file``, ``no_table``, ``credentials``, ``timeout``…)."""
    message: str


class LanguageShare(OpenRecord):
    """One language among the texts whose language could be told."""

    code: str
    name: str
    texts: Count
    share: Share
    """Share of the told texts."""


class LanguageMix(OpenRecord):
    """Languages of a prose text column, told from a seeded sample of its non-empty texts."""

    texts: Count
    """Non-empty texts in the column."""
    sampled: Count
    too_short: Count
    """Sampled texts with too few letters to tell."""
    uncertain: Count
    """Sampled texts whose best guess was not probable enough."""
    told: Count
    languages: list[LanguageShare]
    """The most frequent languages among the told texts."""
    other_languages: Count
    """Told texts in any other language."""
    method: str
    """The library (and version) that told the languages."""


class ColumnProfile(OpenRecord):
    """One column's statistics from the one-pass profile (more keys depend on the column's type)."""

    type: Literal["text", "number", "time", "boolean", "other"]
    dtype: str = ABSENT
    """The column's data type as the source reports it."""
    nulls: Count
    distinct: Count
    """Distinct values (approximate above 200,000 rows)."""
    null_rate: Share
    issue_rate: Share
    """Share of rows with a problem: null, blank, placeholder, a value that does not cast, or text mess."""
    checked_rows: Count = ABSENT
    """Rows the character-level checks saw (a seeded sample of a big table)."""
    inferred: Literal["text", "number", "date"] = ABSENT
    """What a text column is meant to hold, from the share of its values that parse."""
    language_mix: LanguageMix = ABSENT


class SamplingRecord(OpenRecord):
    """How the rows (or values) one check read were drawn from the source."""

    method: str
    """``all rows``, ``bernoulli`` (seeded), ``hash of <column>``, ``hash of value``, ``random (unseeded)``, or
    two of them chained (``bernoulli, then hash of value``): never the first rows."""
    fraction: Annotated[float, Field(ge=0, le=1)]
    """The share of the table's rows (or values) the check read."""
    seed: int | None
    """Null when nothing was sampled, or the backend draws unseeded."""
    rows: Count = ABSENT
    """Rows (or distinct values) the sample held."""


class KeyProfile(OpenRecord):
    """Uniqueness of the declared id column."""

    column: str
    non_null: Count
    distinct: Count
    duplicates: Count
    nulls: Count
    unique: bool


class Freshness(OpenRecord):
    """Newest and oldest timestamps, the lag to the picture's date, arrivals and the longest gap."""

    column: str
    oldest: str | None
    newest: str | None
    parsed: Count
    unparsed_or_placeholder: Count
    days_with_arrivals: Count
    longest_gap_days: int | None
    lag_days: int = ABSENT
    """Days from the newest timestamp to the picture's date (absent when no timestamp parsed)."""
    span_days: int = ABSENT
    arrivals_per_day: float | None = None


class SourceLatency(OpenRecord):
    """How fast the source reads where it lives (milliseconds, rounded to 0.1)."""

    connect_ms: Milliseconds | None
    first_row_ms: Milliseconds | None
    point_lookup_p50_ms: Milliseconds | None
    """Null without an id column to look up."""
    point_lookup_p95_ms: Milliseconds | None
    aggregate_p50_ms: Milliseconds | None
    aggregate_p95_ms: Milliseconds | None
    probes: Count = ABSENT
    """Point lookups made (they stop early once stable)."""
    probe_limit: Count = ABSENT
    aggregate_probes: Count = ABSENT


class SkippedLine(Record):
    """A line (or a record in it) of the trace file that was not read."""

    line: Count
    reason: str


class TraceRead(OpenRecord):
    """What reading the trace file found, and what it could not read."""

    format: str
    """``otlp_json``, ``langfuse`` or ``phoenix``."""
    lines_read: Count
    lines_skipped: Count
    skipped: list[SkippedLine]
    """The first skipped lines, with why (a truncated last line among them)."""
    spans_read: Count
    """Every span seen, LLM call or not."""
    spans_skipped: Count
    not_llm_calls: dict[str, Count]
    """Spans that are not LLM calls, by what they are (``invoke_agent``, ``retrieval``…)."""
    without_parent: Count
    """LLM calls with no parent span."""
    orphans: Count
    """LLM calls whose parent span is not in the file."""
    unknown_attribute_names: Count
    unknown_attributes: dict[str, Count]
    """The most frequent attribute names the vocabulary does not know, with the calls carrying each."""


class DayVolume(Record):
    """Calls on one UTC day."""

    day: Date
    calls: Count


class HourVolume(Record):
    """Calls in one hour of the day (UTC), over the whole range."""

    hour: Annotated[int, Field(ge=0, le=23)]
    calls: Count
    share: Share


class CallGap(Record):
    """The longest time between two consecutive calls."""

    seconds: Annotated[float, Field(ge=0)]
    start: Timestamp
    """When the call before the gap started."""
    end: Timestamp
    """When the call after the gap started."""


class TraceVolume(OpenRecord):
    """How many calls production made, when."""

    first: Timestamp | None
    last: Timestamp | None
    days: Count
    """Days from the first call's to the last call's, both included."""
    per_day: list[DayVolume]
    """Every day of the range, days without a call included."""
    busiest_hours: list[HourVolume]
    """The three hours of the day (UTC) with the most calls."""
    longest_gap: CallGap | None
    calls_without_time: Count


class LatencyGroup(OpenRecord):
    """Latency of the successful calls of one group (all calls, one model, one operation)."""

    name: str
    calls: Count
    """Calls in the group, failed ones included."""
    measured: Count
    """Successful calls with a start and an end: what the percentiles are of."""
    p50: Interval
    p95: Interval
    p99: Interval
    """Milliseconds, with a bootstrap 95% interval."""
    interval_sample: Count = ABSENT
    """Calls the intervals were bootstrapped on, when fewer than ``measured`` (a seeded random sample)."""
    first: Timestamp | None
    """When the group's first call started (a model switch shows here)."""
    last: Timestamp | None


class TraceLatency(OpenRecord):
    """Latency observed in production, overall, per model and per operation."""

    overall: LatencyGroup
    by_model: list[LatencyGroup]
    by_operation: list[LatencyGroup]


class TokenStats(Record):
    """Tokens per call: mean and 95th percentile."""

    mean: float | None
    p95: float | None


class TraceTokens(OpenRecord):
    """Tokens per request, of the calls that report their usage."""

    calls_with_usage: Count
    calls_without_usage: Count
    tokens_in: TokenStats
    tokens_out: TokenStats


class ModelCost(OpenRecord):
    """One model's tokens and cost per request."""

    model: str
    calls_with_usage: Count
    tokens_in_mean: float
    tokens_out_mean: float
    per_call_eur: float | None
    """Null when the model has no price."""
    price: PriceUsed | None
    basis: str
    """The price and its source, or why the cost is unknown and how to make it known."""


class TraceCost(OpenRecord):
    """Cost per request observed in production, priced as Day 4 prices its calls."""

    per_call_eur: float | None
    """Mean over the priced calls; null when a model has no price (``basis`` says which)."""
    total_eur: float | None
    calls_priced: Count
    calls_unpriced: Count
    basis: str
    by_model: list[ModelCost]


class ErrorKind(Record):
    """Failed calls of one kind (``error.type``)."""

    kind: str
    calls: Count
    rate: Interval
    """Share of all calls, with its Wilson 95% interval."""


class TraceErrors(OpenRecord):
    """Failed calls, overall and by kind."""

    calls: Count
    errors: Count
    rate: Interval
    by_kind: list[ErrorKind]


class TraceDestination(OpenRecord):
    """Where calls went (``server.address:port``), who that is and whether its region is allowed."""

    destination: str
    address: str | None
    port: int | None
    """As the calls record it (not checked: a trace file is data)."""
    calls: Count
    share: Share
    providers: list[str]
    """The provider names the calls give (``gen_ai.provider.name``)."""
    models: list[str]
    declared_as: str | None
    """The ``compliance.providers`` entry that covers it; null when none does."""
    region: str | None
    region_allowed: bool | None
    receives_personal_data_declared: bool | None
    status: Literal["allowed", "outside", "declared", "undeclared", "loopback", "not recorded"]
    """``outside`` the allowed regions, ``undeclared`` (no declared provider covers it), ``declared`` when the
    spec allows no region in particular, ``loopback`` (this machine) or ``not recorded``."""
    pii_in_prompts: dict[str, Count]
    """Prompts holding each kind of personal data (counts only)."""
    pii_in_completions: dict[str, Count]
    personal_data: bool
    """Whether any personal data was found in its calls."""


class TraceProvider(OpenRecord):
    """A provider the calls name, with where its calls went."""

    name: str
    calls: Count
    destinations: list[str]
    regions: list[str]
    """The regions of the declared providers covering its destinations."""
    outside_allowed_calls: Count


class TraceSessions(OpenRecord):
    """Conversations: how many, and their turns (LLM calls) per session."""

    sessions: Count
    calls_in_sessions: Count
    calls_without_session: Count
    turns_mean: float | None
    turns_p95: float | None
    turns_max: Count | None


class TracesProfile(OpenRecord):
    """What an LLM app's production traces say: volume, latency, tokens and cost, errors, destinations,
    providers and sessions, and what reading the file skipped."""

    format: str
    calls: Count
    """LLM calls read."""
    read: TraceRead
    volume: TraceVolume
    latency: TraceLatency
    tokens: TraceTokens
    cost: TraceCost
    errors: TraceErrors
    destinations: list[TraceDestination]
    providers: list[TraceProvider]
    sessions: TraceSessions


class Source(OpenRecord):
    """One declared production source: reachability, owner, region, profile, freshness, latency and
    personal data.

    A source that could not be read has ``status: unavailable``, an ``error``, and null where it was not
    profiled."""

    name: str
    kind: SourceKind
    location: str
    """Where the source is (a path or URL, or the reference to a DSN, never the DSN itself)."""
    owner: Person | None
    owner_evidence: bool
    region: str | None
    region_allowed: bool | None
    """Null when the spec allows no region in particular or the source's region is not stated."""
    personal_data_declared: bool | None
    status: Literal["ok", "unavailable"]
    error: SourceError | None
    notes: list[str] = ABSENT
    engine: str | None = None
    """What ran the profile (``duckdb`` in place, or the server's backend)."""
    pushdown: Literal["in place", "full", "light"] = ABSENT
    """``in place`` (DuckDB), ``full`` (the whole profile on the source's engine) or ``light`` (counts and
    nulls on the server, the deep checks on a random sample pulled from it)."""
    deviations: list[str] = ABSENT
    """Where the source's backend computes a figure differently (approximate quantiles, no date parse...)."""
    sampling: dict[str, SamplingRecord] = ABSENT
    """Check (``deep_checks``, ``text_checks``, ``pii``, ``languages``, ``overlap_ids``, ``overlap_texts``)
    to how its rows were drawn."""
    rows: Count | None
    sampled_rows: Count | None = None
    """Rows the deep checks read (fewer than ``rows`` for a big server table)."""
    profile: dict[str, ColumnProfile] | None
    """Column name to its statistics."""
    duplicate_rows: Count | None = None
    key: KeyProfile | None = None
    freshness: Freshness | None = None
    latency: SourceLatency | None
    pii: dict[str, dict[str, Count]]
    """Text column to the count of values holding each kind of personal data."""
    pii_found: bool | None
    pii_scanned_rows: Count = ABSENT
    traces: TracesProfile = ABSENT
    """A ``kind: traces`` source: what production's LLM calls did (absent for other kinds, or when unread)."""


class KeyOverlap(OpenRecord):
    """Ids found in two sources."""

    sources: list[str]
    shared_ids: Count
    """Exact when both sources were read whole; else estimated from their samples."""
    estimated: bool = ABSENT
    shared_in_samples: Count = ABSENT
    """What the two samples share, before scaling to the sources."""
    sampling: str = ABSENT


class TextOverlap(OpenRecord):
    """Texts (trimmed, lower-cased) found in two sources."""

    sources: list[str]
    shared_texts: Count
    """Exact when both sources were read whole; else estimated from their samples."""
    estimated: bool = ABSENT
    shared_in_samples: Count = ABSENT
    """What the two samples share, before scaling to the sources."""
    sampling: str = ABSENT


class CrossSource(OpenRecord):
    """Ids and texts that appear in more than one source."""

    key_overlap: list[KeyOverlap]
    text_overlap: list[TextOverlap]


class TextSummary(OpenRecord):
    """What the texts of one source (or of the demo) look like: lengths and shares with mess."""

    source: str
    rows: Count
    len_p50: Count | None
    len_p95: Count | None
    html_entities: Share
    markup: Share
    mojibake: Share
    line_breaks: Share
    empty: Share


class DemoVsProduction(OpenRecord):
    """The PoC's demo examples set against the production texts: does the demo look like production?"""

    demo: TextSummary
    production: list[TextSummary]
    demo_texts_found_in_production: Count


class ObservedDestination(OpenRecord):
    """A destination of production calls that the residency check reads."""

    source: str
    destination: str
    calls: Count
    declared_as: str | None
    region: str | None
    personal_data: bool
    """Whether personal data was found in the calls to it."""
    personal_data_declared: bool | None
    """What the spec says of the traces source's personal data."""


class ProductionObserved(OpenRecord):
    """What the traces sources observed in production: the gap's evidence beside Day 4's replay."""

    sources: list[str]
    calls: Count
    latency_p95_ms: Milliseconds | None
    """The highest p95 latency of successful calls over the traces sources."""
    latency_calls: Count
    latency_source: str | None
    cost_per_call_eur: float | None
    """The highest cost per request over the traces sources; null when one has a model without a price."""
    cost_calls: Count
    cost_unknown_because: str | None
    outside_allowed_regions: list[ObservedDestination]
    undeclared_destinations: list[ObservedDestination]


class DataPictureArtifact(Envelope):
    """The data picture: every declared production source profiled where it lives, read-only, and the demo set
    against production."""

    model_config = artifact_config("data_picture", "rescue data picture (Day 2)")

    artifact: Literal["data_picture"]
    as_of: Date
    """The date freshness is measured to."""
    summary: PictureSummary
    latency: PictureLatency
    residency: Residency
    sources: list[Source]
    cross_source: CrossSource
    demo_vs_production: DemoVsProduction | None
    """Null when the spec declares no demo examples."""
    production: ProductionObserved = ABSENT
    """What the traces sources observed in production (absent without one that was read)."""
