"""The one-pass profile written once as Ibis expressions, so any backend runs it where the data lives.

DuckDB sources keep the hand-tuned SQL of :mod:`.profile` (its fast path; a test proves the two agree).
Warehouses and engines (Spark, BigQuery, Snowflake, Trino, Databricks, ClickHouse), and OLTP databases
whose source says ``pushdown: full``, run this module's expressions on their own servers: the same
statistics under the same names, computed by :func:`profile_expressions` and read back by
:func:`.profile.derive_stats`, so an artifact reads the same whatever ran it.

What a backend lacks is handled in one place, :data:`DIALECTS`, and every deviation it causes is named in
the artifact (``deviations`` of the source):

- quantiles: exact discrete quantiles (DuckDB's ``quantile_disc``) where the backend has them; Spark's
  ``percentile_approx`` (a value of the column, exact in rank to 1/10,000 of the rows); the approximate
  quantiles of Trino (``approx_percentile``), BigQuery (``APPROX_QUANTILES``) and Snowflake
  (``APPROX_PERCENTILE``); none at all in SQLite.
- regular expressions: matched on the lower-cased value (no backend-specific case flag); anchored with
  ``\\A``/``\\z`` where ``^``/``$`` would match at a line break (Java's and Trino's regex); SQLite matches
  through the regex function Ibis registers on the connection.
- date-like text: parsed with each of :data:`.profile.DATE_FORMATS` where the backend has a parse that
  returns null on failure (DuckDB ``try_strptime``, Spark ``try_to_timestamp``); elsewhere told by a
  pattern of the same formats (a 31 February counts).
- distinct counts: exact up to EXACT_LIMIT rows, the backend's own HyperLogLog above (errors differ).
- samples: see :mod:`.sampling` (a seeded Bernoulli sample, or a hash of the key, or unseeded random).

Nothing here writes: every expression is a SELECT, run under the source's statement timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import numpy as np

from ..spec import Source
from .connect import OpenSource, time_limit
from .profile import (
    COUNT_STATS,
    DATE_FORMATS,
    DATE_SHAPE_RE,
    EXACT_LIMIT,
    HTML_ENTITY_RE,
    MARKUP_RE,
    MOJIBAKE_RE,
    NUMBER_RE,
    PLACEHOLDER_RE,
    SAMPLED_STATS,
    TEXT_CHECK_ROWS,
    TEXT_SAMPLE_ROWS,
    column_kind,
    derive_stats,
    freshness_record,
    round_stat,
)
from .sampling import ALL_ROWS, Sampling, fraction_for, row_cap, sample_table

QUANTILES = [0.05, 0.5, 0.95]


@dataclass(frozen=True)
class Dialect:
    """What one backend offers the profile, and the deviations that follow (named in the artifact)."""

    quantiles: str
    """``disc`` (exact, discrete), ``approx`` (one call for the three), ``each`` (one call each), ``none``."""
    anchors: tuple[str, str] = ("^", "$")
    date_parse: str = "pattern"
    """``duckdb`` (try_strptime), ``spark`` (try_to_timestamp) or ``pattern`` (a regex of the formats)."""
    deviations: tuple[str, ...] = ()


_PATTERN_DATES = "date-like text: told by a pattern of the date formats, not parsed (a 31 February counts)"
DIALECTS: dict[str, Dialect] = {
    "duckdb": Dialect("disc", date_parse="duckdb"),
    "pyspark": Dialect(
        "approx",
        anchors=(r"\A", r"\z"),
        date_parse="spark",
        deviations=(
            "quantiles: percentile_approx (a value of the column, exact in rank to 1/10,000 of the rows)",
            "distinct counts above 200,000 rows: Spark's HyperLogLog++ (about 5% relative error)",
        ),
    ),
    "trino": Dialect(
        "approx",
        anchors=(r"\A", r"\z"),
        deviations=("quantiles: approx_percentile (t-digest, approximate)", _PATTERN_DATES),
    ),
    "bigquery": Dialect("approx", deviations=("quantiles: APPROX_QUANTILES (approximate)", _PATTERN_DATES)),
    "snowflake": Dialect(
        "each", deviations=("quantiles: APPROX_PERCENTILE (t-digest, approximate)", _PATTERN_DATES)
    ),
    "postgres": Dialect("each", deviations=("quantiles: percentile_cont (interpolated)", _PATTERN_DATES)),
    "sqlite": Dialect("none", deviations=("quantiles: none (SQLite has no quantile)", _PATTERN_DATES)),
}
_DEFAULT = Dialect("each", deviations=("quantiles: the backend's approx_quantile", _PATTERN_DATES))


def dialect_of(engine: str) -> Dialect:
    """The profile's capabilities on ``engine`` (an Ibis backend name)."""
    return DIALECTS.get(engine, _DEFAULT)


@ibis.udf.agg.builtin(name="quantile_disc")
def _quantile_disc(x: dt.float64, q: dt.Array(dt.float64)) -> dt.Array(dt.float64): ...  # DuckDB


@ibis.udf.scalar.builtin(name="try_strptime")
def _try_strptime(x: str, formats: dt.Array(dt.string)) -> dt.timestamp: ...  # DuckDB


@ibis.udf.scalar.builtin(name="try_to_timestamp")
def _try_to_timestamp(x: str, fmt: str) -> dt.timestamp: ...  # Spark >= 3.5


# strftime (DuckDB's, the profile's reference) to Java's DateTimeFormatter patterns (Spark)
_JAVA = {"%Y": "yyyy", "%m": "M", "%d": "d", "%H": "H", "%M": "mm", "%S": "ss", "%f": "SSSSSS"}
_JAVA |= {"%B": "MMMM", "%b": "MMM", "T": "''T''"}
# the same formats as one pattern, for backends without a null-on-failure parse
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTHS += "|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec"
_DATE_PATTERN = (
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ t][0-9]{1,2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?)?"
    r"|[0-9]{1,2}[/.][0-9]{1,2}[/.][0-9]{4}|[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}"
    rf"|({_MONTHS}) [0-9]{{1,2}}, [0-9]{{4}}"
)


def _java_format(fmt: str) -> str:
    out = fmt
    for a, b in _JAVA.items():
        out = out.replace(a, b)
    return out.replace("''T''", "'T'")


class _Regex:
    """Regex matches on one dialect: search, or a full match on the value with its spaces trimmed."""

    def __init__(self, dialect: Dialect) -> None:
        self.start, self.end = dialect.anchors

    def search(self, col: Any, pattern: str) -> Any:
        return col.re_search(pattern)

    def full(self, col: Any, pattern: str) -> Any:
        return col.re_search(f"{self.start} *(?:{pattern}) *{self.end}")


def _count(cond: Any) -> Any:
    return cond.ifelse(1, 0).sum()


def _quantiles(col: Any, dialect: Dialect) -> Any | None:
    if dialect.quantiles == "disc":
        return _quantile_disc(col.cast("float64"), ibis.literal(QUANTILES))
    if dialect.quantiles == "approx":
        return col.approx_quantile(QUANTILES)
    if dialect.quantiles == "each":
        return ibis.array([col.approx_quantile(q) for q in QUANTILES])
    return None


def parsed_timestamp(col: Any, dialect: Dialect) -> Any | None:
    """``col`` (text) parsed with the first of DATE_FORMATS that fits, or null; None where the backend
    cannot parse without failing the query."""
    if dialect.date_parse == "duckdb":
        return _try_strptime(col.strip(), ibis.literal(DATE_FORMATS))
    if dialect.date_parse == "spark":
        trimmed = col.strip()
        return ibis.coalesce(*[_try_to_timestamp(trimmed, _java_format(f)) for f in DATE_FORMATS])
    return None


def _date_like(col: Any, n: Any, placeholder: Any, dialect: Dialect, rx: _Regex) -> Any:
    shape = (n >= 6) & (n <= 40) & col.re_search(DATE_SHAPE_RE)
    parsed = parsed_timestamp(col, dialect)
    fits = parsed.notnull() if parsed is not None else rx.full(col.lower(), _DATE_PATTERN)
    return shape & fits & ~placeholder


def profile_expressions(table: Any, engine: str, exact: bool) -> list[tuple[str, str, Any]]:
    """Every column's aggregates as Ibis expressions over ``table``: (column, statistic, expression).

    The statistics and their names are :func:`.profile._column_aggregates`' (the DuckDB fast path).
    """
    dialect = dialect_of(engine)
    rx = _Regex(dialect)
    out: list[tuple[str, str, Any]] = []
    for name, dtype in table.schema().items():
        kind = column_kind(dtype)
        c = table[name]
        nulls = table.count() - c.count()
        aggs: list[tuple[str, Any]] = [
            ("nulls", nulls),
            ("distinct", c.nunique() if exact else c.approx_nunique()),
        ]
        if kind == "text":
            n = c.length()
            low = c.lower()
            placeholder = (n <= 32) & rx.full(low, PLACEHOLDER_RE)
            aggs += [
                ("sample_nulls", nulls),
                ("blanks", _count((n <= 256) & rx.full(c, ""))),
                ("placeholders", _count(placeholder)),
                ("len_min", n.min()),
                ("len_max", n.max()),
                ("len_mean", n.mean()),
                ("len_q", _quantiles(n, dialect)),
                ("html_entities", _count(c.contains(";") & rx.search(c, HTML_ENTITY_RE))),
                ("markup", _count(c.contains(">") & rx.search(c, MARKUP_RE))),
                ("mojibake", _count(rx.search(c, MOJIBAKE_RE))),
                ("line_breaks", _count(c.contains("\r") | c.contains("\n"))),
                ("numeric_like", _count((n <= 32) & rx.full(c, NUMBER_RE))),
                ("date_like", _count(_date_like(c, n, placeholder, dialect, rx))),
            ]
        elif kind == "number":
            aggs += [
                ("min", c.min()),
                ("max", c.max()),
                ("mean", c.mean()),
                ("q", _quantiles(c, dialect)),
                ("zeros", _count(c == 0)),
            ]
        elif kind == "time":
            year = c.year()
            aggs += [
                ("min", c.min()),
                ("max", c.max()),
                ("placeholders", _count((year <= 1900) | (year >= 9999) | (year == 1970))),
            ]
        elif kind == "boolean":
            aggs += [("true", _count(c))]
        out += [(name, stat, expr) for stat, expr in aggs if expr is not None]
    return out


def profile_query(table: Any, engine: str, rows: int, key: str | None = None) -> list[tuple[Any, list]]:
    """The profile's aggregate queries over ``table`` of ``rows`` rows: one over the whole table and, above
    TEXT_CHECK_ROWS rows, one over a seeded sample for the character checks and the quantiles. Each is
    (Ibis expression, [(column, statistic)]); the expression's first column is the rows it read."""
    kinds = {name: column_kind(dtype) for name, dtype in table.schema().items()}
    sample = rows > TEXT_CHECK_ROWS
    full: list[tuple[str, str, Any]] = []
    sampled: list[tuple[str, str, Any]] = []
    for name, stat, expr in profile_expressions(table, engine, rows <= EXACT_LIMIT):
        (sampled if sample and stat in SAMPLED_STATS.get(kinds[name], ()) else full).append(
            (name, stat, expr)
        )
    queries = [(table, full)]
    if sampled:
        drawn, _ = sample_table(table, engine, fraction_for(rows, TEXT_SAMPLE_ROWS), key)
        # the sampled statistics are rebuilt over the sample (an expression belongs to its table)
        wanted = {(n, s) for n, s, _ in sampled}
        sampled = [(n, s, e) for n, s, e in profile_expressions(drawn, engine, True) if (n, s) in wanted]
        queries.append((drawn, sampled))
    out = []
    for t, items in queries:
        aggs = {"n_rows": t.count()} | {f"a{i}": expr for i, (_, _, expr) in enumerate(items)}
        out.append((t.aggregate(**aggs), [(n, s) for n, s, _ in items]))
    return out


def compile_profile(table: Any, dialect: str, rows: int = 1_000_000, key: str | None = None) -> list[str]:
    """The profile's SQL for ``dialect`` (``trino``, ``bigquery``, ``snowflake``...), without running it."""
    engine = {"spark": "pyspark"}.get(dialect, dialect)
    return [ibis.to_sql(expr, dialect=dialect) for expr, _ in profile_query(table, engine, rows, key)]


def _execute(opened: OpenSource, expr: Any) -> list[Any]:
    with time_limit(opened):
        return list(expr.to_pyarrow().to_pylist()[0].values())


def _int_if_whole(values: Any) -> Any:
    if isinstance(values, list):
        return [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
    return values


def profile_columns_in_engine(
    opened: OpenSource, rows: int, key: str | None = None
) -> tuple[dict[str, dict[str, Any]], Sampling]:
    """Every column's statistics computed on the source's own engine (the shape of
    :func:`.profile.profile_table`'s), and how the character checks' rows were drawn."""
    table = opened.table
    schema = table.schema()
    columns: dict[str, dict[str, Any]] = {
        name: {"type": column_kind(dtype), "dtype": str(dtype)} for name, dtype in schema.items()
    }
    checked = rows
    sampling = Sampling(ALL_ROWS, 1.0, None)
    queries = profile_query(table, opened.engine, rows, key)
    for i, (expr, items) in enumerate(queries):
        values = _execute(opened, expr)
        if i == 1:
            checked = int(values[0])
            sampling = sample_table(table, opened.engine, fraction_for(rows, TEXT_SAMPLE_ROWS), key)[1]
        for (name, stat), value in zip(items, values[1:], strict=True):
            if stat in ("len_q", "q"):
                whole = stat == "len_q" or schema[name].is_integer()
                value = _int_if_whole(value) if whole else value
            columns[name][stat] = 0 if value is None and stat in COUNT_STATS else round_stat(value)
    sample = len(queries) > 1
    for stats in columns.values():
        if stats["type"] == "text" or (sample and stats["type"] == "number"):
            stats["checked_rows"] = checked
        derive_stats(stats, rows)
    return columns, sampling.with_rows(checked)


def freshness_in_engine(opened: OpenSource, column: str, as_of: date) -> dict[str, Any] | None:
    """:func:`.profile.freshness` on the source's engine; None where its text cannot be parsed there."""
    t = opened.table
    c = t[column]
    if column_kind(c.type()) == "text":
        ts = parsed_timestamp(c, dialect_of(opened.engine))
        if ts is None:
            return None
    else:
        ts = c.cast("timestamp")
    parsed = t.select(ts=ts)
    year = parsed.ts.year()
    valid = parsed.filter(parsed.ts.notnull() & (year > 1900) & (year < 9999))
    days = valid.select(d=valid.ts.date()).distinct()
    gaps = days.select(gap=days.d.delta(days.d.lag().over(ibis.window(order_by=days.d)), unit="day"))
    summary = valid.aggregate(
        oldest=valid.ts.min(), newest=valid.ts.max(), parsed=valid.count(), days=valid.ts.date().nunique()
    )
    with time_limit(opened):
        row = summary.to_pyarrow().to_pylist()[0]
        total = int(t.count().to_pyarrow().as_py())
        gap = gaps.gap.max().to_pyarrow().as_py()
    parsed_n = int(row["parsed"] or 0)
    return freshness_record(
        column, row["oldest"], row["newest"], parsed_n, total - parsed_n, int(row["days"] or 0), gap, as_of
    )


@dataclass
class EngineProfile:
    """What the full pushdown found: the entry's fields, the text sample, and the cross-source work."""

    entry: dict[str, Any]
    deviations: list[str]
    sampling: dict[str, Any]
    text_sample: Any
    work: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    probe_ids: list[Any] = field(default_factory=list)


def _normalised(col: Any) -> Any:
    return ibis.ifelse(col.startswith(" ") | col.endswith(" "), col.strip(), col).lower()


def _value_hashes(opened: OpenSource, values: Any, sampling: Sampling) -> Any:
    """Distinct values pulled from the engine, hashed here with DuckDB's hash: comparable with the hashes of
    every other source (an engine's own hash is not DuckDB's)."""
    import duckdb

    from .picture import Hashes

    with time_limit(opened):
        arrow = values.distinct().to_pyarrow()
    con = duckdb.connect()
    con.register("v", arrow)
    hashes = con.execute("SELECT DISTINCT hash(v) AS h FROM v WHERE v IS NOT NULL").fetchnumpy()["h"]
    con.close()
    found = np.sort(np.asarray(hashes, dtype=np.uint64))
    return Hashes(found, sampling.with_rows(int(found.size)))


def profile_in_engine(
    opened: OpenSource, source: Source, schema: Any, as_of: date, probes: int, demo: dict[str, Any] | None
) -> EngineProfile:
    """The whole Day 2 profile of a source on its own engine: rows, columns, key, duplicates, freshness,
    and the random samples the Python checks (personal data, languages) and the overlap read."""
    from .picture import OVERLAP_ROWS, PII_ROWS

    t = opened.table
    with time_limit(opened):
        rows = int(t.count().to_pyarrow().as_py())
    dialect = dialect_of(opened.engine)
    deviations = list(dialect.deviations)
    entry: dict[str, Any] = {"rows": rows}
    key = source.id_column
    unique = None
    if key:
        c = t[key]
        with time_limit(opened):
            agg = t.aggregate(non_null=c.count(), distinct=c.nunique()).to_pyarrow().to_pylist()[0]
        non_null, distinct = int(agg["non_null"]), int(agg["distinct"])
        nulls = rows - non_null
        entry["key"] = {
            "column": key,
            "non_null": non_null,
            "distinct": distinct,
            "duplicates": non_null - distinct,
            "nulls": nulls,
            "unique": non_null == distinct and nulls == 0,
        }
        unique = key if entry["key"]["unique"] else None
    columns, checked = profile_columns_in_engine(opened, rows, unique)
    entry["profile"] = columns
    sampling: dict[str, Any] = {
        "deep_checks": Sampling(ALL_ROWS, 1.0, None, rows).record(),
        "text_checks": checked.record(),
    }
    if unique:
        entry["duplicate_rows"] = 0
    else:
        with time_limit(opened):
            entry["duplicate_rows"] = rows - int(t.distinct().count().to_pyarrow().as_py())
    if source.timestamp_column:
        entry["freshness"] = freshness_in_engine(opened, source.timestamp_column, as_of)
        if entry["freshness"] is None:
            deviations.append("freshness of a text timestamp column: not computed (no safe parse here)")
    found = EngineProfile(entry, deviations, sampling, None)
    text_columns = [n for n, s in columns.items() if s["type"] == "text"]
    if text_columns:
        fraction = fraction_for(rows, PII_ROWS)
        drawn, how = sample_table(t, opened.engine, fraction, unique)
        drawn = drawn.select(*text_columns)
        if how.sampled:
            drawn = drawn.limit(row_cap(fraction, rows))
        with time_limit(opened):
            found.text_sample = drawn.to_pyarrow()
        how = how.with_rows(found.text_sample.num_rows)
        sampling["pii"] = sampling["languages"] = how.record()
        entry["pii_scanned_rows"] = found.text_sample.num_rows
    fraction = fraction_for(rows, OVERLAP_ROWS)
    drawn, how = sample_table(t, opened.engine, fraction, unique)
    if key:
        ids = drawn.filter(drawn[key].notnull()).select(v=drawn[key].cast("string"))
        found.work["ids"] = _value_hashes(opened, ids, how)
    if source.text_column:
        col = drawn[source.text_column]
        texts = drawn.filter(col.notnull() & (col != "")).select(v=_normalised(col))
        found.work["text_hashes"] = hashes = _value_hashes(opened, texts, how)
        if demo and demo.get("texts"):
            whole = t[source.text_column]
            hits = t.filter(whole.notnull() & _normalised(whole).isin(demo["texts"])).select(
                v=_normalised(whole)
            )
            with time_limit(opened):
                hashes.demo_found = int(hits.distinct().count().to_pyarrow().as_py())
    if key:
        with time_limit(opened):
            first = t.filter(t[key].notnull()).select(key).limit(probes * 4).to_pyarrow()
        found.probe_ids = list(dict.fromkeys(first.column(0).to_pylist()))[:probes]
    if rows > TEXT_CHECK_ROWS:
        found.notes.append(
            f"character checks and quantiles on {checked.describe()}; personal data and languages on a "
            f"random sample of about {min(rows, PII_ROWS):,} rows"
        )
    return found
