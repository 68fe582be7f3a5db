"""The ``data_picture`` artifact (Day 2): every production source profiled where it lives, read-only."""

from __future__ import annotations

from typing import Literal

from .common import (
    ABSENT,
    Count,
    Date,
    Envelope,
    Milliseconds,
    OpenRecord,
    Record,
    Share,
    SourceKind,
    artifact_config,
)


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


class KeyOverlap(OpenRecord):
    """Ids found in two sources."""

    sources: list[str]
    shared_ids: Count


class TextOverlap(OpenRecord):
    """Texts (trimmed, lower-cased) found in two sources."""

    sources: list[str]
    shared_texts: Count


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
