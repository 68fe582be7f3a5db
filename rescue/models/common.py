"""What every artifact model shares: the base records, the envelope, intervals and the enums of the catalogue.

Plumbing: this package imports only pydantic, the standard library and itself, never the days that produce
the artifacts. The JSON Schemas in ``rescue/schemas/`` are generated from these models
(``scripts/generate_schemas.py``); the models are the source of truth.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, Strict

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

ABSENT: Any = None
"""Default of a key that a document may leave out but never sets to null: it reads as ``None`` on the model.

The key's type has no ``None``, so an explicit null is refused (by the model and by the generated schema).
"""


class Record(BaseModel):
    """An object whose keys are all known: an unknown key is an error (``additionalProperties: false``).

    Strict, as the JSON Schema is: ``true`` is no number and ``1`` no boolean. Only dates and times are read
    from their ISO 8601 text (see :data:`Date`).
    """

    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)


class OpenRecord(Record):
    """An object with known keys that may carry more besides (the schema allows additional properties)."""

    model_config = ConfigDict(extra="allow")


def artifact_config(name: str, title: str) -> ConfigDict:
    """The model config of an artifact's top-level model: the schema's title, ``$id`` and dialect."""
    return ConfigDict(
        title=title,
        json_schema_extra={"$schema": SCHEMA_DIALECT, "$id": f"rescue/{name}.schema.json"},
    )


def _iso_text(value: Any) -> Any:
    """Dates and times come as ISO 8601 text (or as date/datetime objects), never as numbers."""
    if isinstance(value, int | float):
        raise ValueError("an ISO 8601 date or date-time string is expected, not a number")
    return value


Date = Annotated[dt.date, Strict(False), BeforeValidator(_iso_text)]
"""A calendar date, ISO 8601 (``format: date``)."""

Timestamp = Annotated[AwareDatetime, Strict(False), BeforeValidator(_iso_text)]
"""A date and time with its UTC offset, ISO 8601 (``format: date-time``)."""

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 as 64 lower-case hex digits."""

Count = Annotated[int, Field(ge=0)]
"""A number of things: an integer, at least 0."""

Share = Annotated[float, Field(ge=0, le=1)]
"""A share, rate or score between 0 and 1."""

Milliseconds = Annotated[float, Field(ge=0)]
"""A duration in milliseconds, at least 0."""

Status = Literal["pass", "attested", "fail", "unknown"]
"""A check's status: computed and met (pass), stated by a person (attested), computed and not met (fail),
or no evidence yet (unknown)."""

Severity = Literal["blocker", "high", "medium", "low"]
"""How much an open check matters for production."""

SourceKind = Literal["csv", "parquet", "sqlite", "duckdb", "postgres", "http", "ibis", "traces"]
"""The kinds of production data source rescue reads."""


class Envelope(Record):
    """The keys ``rescue.artifacts.write_artifact`` wraps every artifact's payload in."""

    schema_version: Literal["1.0"]
    """The artifact's schema version; a reader refuses another major version."""
    rescue_version: str
    """The version of rescue that wrote the artifact."""
    generated_at: Timestamp
    """When the artifact was written (ISO 8601 with its UTC offset, to the second)."""
    project: str
    """The project named in the spec (``rescue.yaml``)."""
    spec_sha256: Sha256
    """SHA-256 of the spec file the artifact was computed from."""


class Interval(Record):
    """A number with its 95% interval and the items it was computed on; all null when there was nothing to
    compute it on."""

    value: float | None
    low: float | None
    """Lower bound of the 95% interval."""
    high: float | None
    """Upper bound of the 95% interval."""
    n: Count
    """Items the number was computed on."""


class RateOrMean(Interval):
    """An interval on 0/1 data (Wilson) or on a mean (normal approximation); ``method`` says which."""

    method: Literal["wilson", "normal"]


class PairedScore(Interval):
    """The mean difference of two systems' scores on the same items, with a paired bootstrap interval and the
    Wilcoxon signed-rank p-value (null when there are no pairs)."""

    p_value: Annotated[float, Field(ge=0, le=1)] | None


class Agreement(OpenRecord):
    """Agreement between people who labeled the same items: Cohen's kappa for two labelers,
    Krippendorff's alpha (nominal) for more, with a 95% bootstrap interval."""

    measure: str
    """``Cohen's kappa`` or ``Krippendorff's alpha (nominal)``."""
    labelers: list[str]
    items: Count
    """Items labeled by at least two of the labelers."""
    value: float | None
    low: float | None
    high: float | None
