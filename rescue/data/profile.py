"""Profile a table in one pass: nulls, blanks, placeholders, distinct, ranges, quantiles, text mess.

Where the data lives in DuckDB (CSV, Parquet, DuckDB files) the single aggregate query runs on the
whole table in place: this module's SQL is DuckDB's fast path. Warehouses and engines (Spark, BigQuery,
Snowflake, Trino) run the same profile written as Ibis expressions (:mod:`.pushdown`) where the data
lives. For OLTP database sources (SQLite, Postgres, MySQL) by default the row count and the nulls run
on the server over the whole table, and the deep checks run here on a seeded random sample of at most
``sample_rows`` rows (DEFAULT_SAMPLE_ROWS) drawn on the server (:mod:`.sampling`) and pulled into an
embedded DuckDB, so a production database never carries the heavy work. Above TEXT_CHECK_ROWS rows the
character-level checks and the quantiles read a seeded random sample of about TEXT_SAMPLE_ROWS rows in a
second query, so they cost the same whatever the size of the table. No check ever reads the first rows
of a table as if they were a sample. Output is rounded and ordered so that it is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt

from .connect import OpenSource, time_limit
from .sampling import Sampling, duckdb_sample_sql, fraction_for, row_cap, sample_table

# Values that stand for "no value" in exports and legacy systems (compared lower-cased, trimmed).
PLACEHOLDER_RE = (
    r"(n/?a|none|null|nil|nan|-+|\?+|unknown|tbd|todo|\.|0000-00-00.*|1900-01-01.*|1970-01-01.*|9999-12-31.*)"
)
HTML_ENTITY_RE = r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,8});"
MARKUP_RE = r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?>"
# UTF-8 read as cp1252/latin-1: "Ã©", "â€™", "Â " and the replacement character
MOJIBAKE_RE = "Ã[\u0080-\u00bf]|â€|Â[\u00a0-\u00bf]|\ufffd"
NUMBER_RE = r"[-+]?[0-9]{1,3}(,?[0-9]{3})*([.][0-9]+)?|[-+]?[0-9]+([.,][0-9]+)?"
DATE_FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
]
INFER_SHARE = 0.8  # a text column is "meant to be" numbers/dates when this share of its values parse
EXACT_LIMIT = 200_000  # exact distinct counts up to this many rows, approximate (HyperLogLog) above
TEXT_CHECK_ROWS = 200_000  # up to this many rows the character checks and quantiles see every row
# above, they see a seeded sample of about this many rows: a share is then known to within half a
# percentage point (95%), and the checks cost the same on 300k rows as on 3 billion
TEXT_SAMPLE_ROWS = 50_000
# a value that could be a date starts with digits and a separator, or a month name and a day
DATE_SHAPE_RE = r"^\s*([0-9]{1,4}[-/.][0-9]|[A-Za-z]{3,9}\.? [0-9])"
DATE_SHAPE_DIGIT_RE = r"^\s*[0-9]"
# statistics computed on the sample above TEXT_CHECK_ROWS rows: the text checks that read every
# character, and the quantiles; the rest (nulls, distinct, length and value ranges, means, timestamp
# placeholders) always see every row
SAMPLED_STATS = {
    "text": {
        "blanks",
        "placeholders",
        "html_entities",
        "markup",
        "mojibake",
        "numeric_like",
        "date_like",
        "line_breaks",
        "sample_nulls",
        "len_q",
    },
    "number": {"q"},
}
DEFAULT_SAMPLE_ROWS = 200_000  # rows pulled from a database source for the deep checks


def quote_ident(name: str) -> str:
    """A SQL identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_kind(dtype: dt.DataType) -> str:
    """What a column holds: text, boolean, number, time or other."""
    if dtype.is_string():
        return "text"
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_temporal():
        return "time"
    return "other"


def round_stat(value: Any, digits: int = 4) -> Any:
    """A statistic as the artifact keeps it: floats to ``digits`` places (NaN and infinity as None), dates as
    ISO text, lists element by element."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, digits)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list):
        return [round_stat(v, digits) for v in value]
    return value


@dataclass
class Relation:
    """Where the deep pass runs: a DuckDB connection and a FROM clause over the rows to profile.

    ``sampling`` says how these rows were drawn from the source (``all rows`` in place in DuckDB).
    """

    con: duckdb.DuckDBPyConnection
    from_sql: str
    rows: int
    sampled: bool
    sampling: Sampling = field(default_factory=lambda: Sampling("all rows", 1.0, None))


def deep_relation(
    opened: OpenSource, sample_rows: int | None, server_rows: int | None = None, key: str | None = None
) -> Relation:
    """The rows the deep pass reads: the table itself in DuckDB, or a seeded random sample of a server
    table of ``server_rows`` rows (at most ``sample_rows``, drawn on the server; ``key``, a unique column,
    is hashed where the server has no seeded sample), pulled into an embedded DuckDB."""
    if opened.engine == "duckdb":
        con = opened.backend.con
        from_sql = f"({ibis.to_sql(opened.table, dialect='duckdb')}) AS src"
        with time_limit(opened):
            rows = con.execute(f"SELECT count(*) FROM {from_sql}").fetchone()[0]
        return Relation(con, from_sql, rows, False)
    wanted = sample_rows or DEFAULT_SAMPLE_ROWS
    total = server_rows if server_rows is not None else wanted + 1
    fraction = fraction_for(total, wanted)
    table, sampling = sample_table(opened.table, opened.engine, fraction, key)
    if sampling.sampled:
        table = table.limit(row_cap(fraction, total))  # a bound on what is pulled, far above the sample
    with time_limit(opened):
        arrow = table.to_pyarrow()
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("sample_rows", arrow)
    return Relation(
        con, "sample_rows AS src", arrow.num_rows, sampling.sampled, sampling.with_rows(arrow.num_rows)
    )


COUNT_STATS = {
    "nulls",
    "distinct",
    "blanks",
    "placeholders",
    "html_entities",
    "markup",
    "mojibake",
    "line_breaks",
    "numeric_like",
    "date_like",
    "zeros",
    "true",
}


def _column_aggregates(name: str, kind: str, exact: bool) -> list[tuple[str, str]]:
    c = quote_ident(name)
    distinct = f"count(DISTINCT {c})" if exact else f"approx_count_distinct({c})"
    aggs = [("nulls", f"count(*) - count({c})"), ("distinct", distinct)]
    # exact quantiles: above TEXT_CHECK_ROWS rows they run on the sample (SAMPLED_STATS), where they are
    # cheap and, unlike DuckDB's reservoir quantiles on several threads, the same from run to run
    if kind == "text":
        n = f"length({c})"
        # Cheap guards first (CASE evaluates the costly branch only on the rows it selects): blanks,
        # placeholders, numbers and dates are short; entities, markup and mojibake need a marker character.
        # The patterns absorb the spaces trim() would drop and match case-insensitively instead of
        # lower-casing, so no value is copied: the same counts for a fraction of the work.
        placeholder = f"CASE WHEN {n} <= 32 THEN {_placeholder_match(c)} ELSE false END"
        markers = " OR ".join(f"contains({c}, {_lit(m)})" for m in ("Ã", "â€", "Â", "\ufffd"))
        aggs += [
            ("sample_nulls", f"count(*) - count({c})"),
            ("blanks", f"count_if(CASE WHEN {n} <= 256 THEN regexp_full_match({c}, ' *') ELSE false END)"),
            ("placeholders", f"count_if({placeholder})"),
            ("len_min", f"min({n})"),
            ("len_max", f"max({n})"),
            ("len_mean", f"avg({n})"),
            ("len_q", f"quantile_disc({n}, [0.05, 0.5, 0.95])"),
            (
                "html_entities",
                f"count_if(CASE WHEN contains({c}, ';') THEN regexp_matches({c}, {_lit(HTML_ENTITY_RE)}) ELSE false END)",
            ),
            (
                "markup",
                f"count_if(CASE WHEN contains({c}, '>') THEN regexp_matches({c}, {_lit(MARKUP_RE)}) ELSE false END)",
            ),
            (
                "mojibake",
                f"count_if(CASE WHEN {markers} THEN regexp_matches({c}, {_lit(MOJIBAKE_RE)}) ELSE false END)",
            ),
            ("line_breaks", f"count_if(contains({c}, chr(13)) OR contains({c}, chr(10)))"),
            # no placeholder is a number (each has letters, or a dash between digits): none to exclude
            (
                "numeric_like",
                f"count_if(CASE WHEN {n} <= 32 THEN regexp_full_match({c}, {_lit(_spaced(NUMBER_RE))}) ELSE false END)",
            ),
            ("date_like", f"count_if({_date_like(c, n, placeholder)})"),
        ]
    elif kind == "number":
        aggs += [
            ("min", f"min({c})"),
            ("max", f"max({c})"),
            ("mean", f"avg({c})"),
            ("q", f"quantile_disc({c}, [0.05, 0.5, 0.95])"),
            ("zeros", f"count_if({c} = 0)"),
        ]
    elif kind == "time":
        aggs += [
            ("min", f"min({c})"),
            ("max", f"max({c})"),
            ("placeholders", f"count_if(year({c}) <= 1900 OR year({c}) >= 9999 OR year({c}) = 1970)"),
        ]
    elif kind == "boolean":
        aggs += [("true", f"count_if({c})")]
    return aggs


def _spaced(pattern: str) -> str:
    """``pattern`` matched on the value with its surrounding spaces removed (as trim() does)."""
    return f" *(?:{pattern}) *"


def _placeholder_match(c: str) -> str:
    return f"regexp_full_match({c}, {_lit(_spaced(PLACEHOLDER_RE))}, 'i')"


def _date_like(c: str, n: str, placeholder: str) -> str:
    """Values that parse with one of DATE_FORMATS and are not placeholders (1900-01-01 parses).

    A value that starts with a digit can only parse with the formats that start with a number, one that
    starts with a letter only with the month-name ones: each value tries only its own half of the list.
    """
    numeric = ", ".join(_lit(f) for f in DATE_FORMATS if not f.startswith(("%B", "%b")))
    named = ", ".join(_lit(f) for f in DATE_FORMATS if f.startswith(("%B", "%b")))
    parsed = (
        f"CASE WHEN regexp_matches({c}, {_lit(DATE_SHAPE_DIGIT_RE)}) THEN try_strptime(trim({c}), [{numeric}]) "
        f"ELSE try_strptime(trim({c}), [{named}]) END IS NOT NULL"
    )
    return (
        f"CASE WHEN {n} BETWEEN 6 AND 40 AND regexp_matches({c}, {_lit(DATE_SHAPE_RE)}) "
        f"THEN CASE WHEN {parsed} THEN NOT ({placeholder}) ELSE false END ELSE false END"
    )


def profile_columns(
    rel: Relation, schema: ibis.Schema, sample_key: str | None = None
) -> dict[str, dict[str, Any]]:
    """Every column's statistics in one aggregate query over ``rel`` (see :func:`profile_table`)."""
    return profile_table(rel, schema, sample_key)[0]


def profile_table(
    rel: Relation, schema: ibis.Schema, sample_key: str | None = None
) -> tuple[dict[str, dict[str, Any]], Sampling]:
    """Every column's statistics in one aggregate query over ``rel`` (two above TEXT_CHECK_ROWS rows),
    and how the rows of the character-level checks were drawn.

    Up to TEXT_CHECK_ROWS rows every statistic is exact and sees every row. Above, the character-level
    text checks and the quantiles run in a second query over a seeded sample of about TEXT_SAMPLE_ROWS
    rows (``checked_rows`` says how many; exact quantiles of a sample are also deterministic, which
    DuckDB's parallel reservoir quantiles are not), distinct counts are approximate, and the counts of
    nulls, the lengths, ranges and means still see every row. With a ``sample_key`` (a column known to
    be unique) the sample is the rows whose key hashes into the sample's share, read in parallel;
    without one it is a seeded Bernoulli sample (which DuckDB reads on one thread).
    """
    exact = rel.rows <= EXACT_LIMIT
    sample = rel.rows > TEXT_CHECK_ROWS
    kinds = {name: column_kind(dtype) for name, dtype in schema.items()}
    full: list[tuple[str, str, str]] = []
    sampled: list[tuple[str, str, str]] = []
    for name, kind in kinds.items():
        for stat, sql in _column_aggregates(name, kind, exact):
            (sampled if sample and stat in SAMPLED_STATS.get(kind, ()) else full).append((name, stat, sql))
    columns: dict[str, dict[str, Any]] = {
        name: {"type": kinds[name], "dtype": str(schema[name])} for name in kinds
    }
    share = fraction_for(rel.rows, TEXT_SAMPLE_ROWS) if sample else 1.0
    key_sql = quote_ident(sample_key) if sample_key is not None else None
    sample_from, sampling = duckdb_sample_sql(rel.from_sql, share, key_sql)
    checked = rel.rows
    for items, from_sql in ((full, rel.from_sql), (sampled, sample_from)):
        if not items:
            continue
        selects = ", ".join(f"{sql} AS a{i}" for i, (_, _, sql) in enumerate(items))
        row = rel.con.execute(f"SELECT count(*), {selects} FROM {from_sql}").fetchone()
        if from_sql is sample_from:
            checked = row[0]
        for (name, stat, _), value in zip(items, row[1:], strict=True):
            # aggregates over zero rows are NULL; a count of nothing is 0
            columns[name][stat] = 0 if value is None and stat in COUNT_STATS else round_stat(value)
    for stats in columns.values():
        if stats["type"] == "text" or (sample and stats["type"] == "number"):
            stats["checked_rows"] = checked
        derive_stats(stats, rel.rows)
    return columns, rel.sampling.then(sampling.with_rows(checked))


def derive_stats(stats: dict[str, Any], rows: int) -> None:
    """Quantile unpacking, rates, inferred meaning of text columns, and their cast failures."""
    if "len_q" in stats:
        q = stats.pop("len_q") or [None, None, None]
        stats["len_p05"], stats["len_p50"], stats["len_p95"] = q
    if "q" in stats:
        q = stats.pop("q") or [None, None, None]
        stats["p05"], stats["p50"], stats["p95"] = q
    nulls = stats.get("nulls") or 0
    stats["null_rate"] = round(nulls / rows, 4) if rows else 0.0
    if stats["type"] != "text":
        stats["issue_rate"] = round((nulls + (stats.get("placeholders") or 0)) / rows, 4) if rows else 0.0
        return
    checked = stats["checked_rows"]
    present = checked - stats.pop("sample_nulls") - stats["blanks"] - stats["placeholders"]
    stats["inferred"] = "text"
    stats["cast_failures"] = 0
    for meaning, hits in (("number", stats["numeric_like"]), ("date", stats["date_like"])):
        if present > 0 and hits / present >= INFER_SHARE:
            stats["inferred"] = meaning
            stats["cast_failures"] = max(present - hits, 0)
            break
    text_mess = (
        max(stats["html_entities"], stats["markup"], stats["mojibake"]) if stats["inferred"] == "text" else 0
    )
    found = stats["blanks"] + stats["placeholders"] + stats["cast_failures"] + text_mess
    # nulls are counted in every row, the rest in the checked rows: scale those to the table
    problems = nulls + (found * rows / checked if checked else 0)
    stats["issue_rate"] = round(min(problems, rows) / rows, 4) if rows else 0.0


def duplicate_rows(rel: Relation, columns: list[str]) -> int:
    """Rows that repeat another row exactly (all columns equal).

    Counted on a 64-bit hash of each row: memory stays at 8 bytes a row whatever the width, and a
    collision (which would hide one duplicate) has odds of about n²/2⁶⁵ — 3 in a million at 10M rows.
    """
    row_hash = "hash(" + ", ".join(quote_ident(c) for c in columns) + ")"
    # a DISTINCT subquery is a parallel hash aggregate; count(DISTINCT ...) is slower on big tables
    distinct = rel.con.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT {row_hash} FROM {rel.from_sql})"
    ).fetchall()
    return rel.rows - distinct[0][0]


def key_profile(rel: Relation, column: str) -> dict[str, Any]:
    """Uniqueness of the declared id column."""
    c = quote_ident(column)
    distinct_sql = f"SELECT count(*) FROM (SELECT DISTINCT {c} FROM {rel.from_sql} WHERE {c} IS NOT NULL)"
    [(n, distinct, nulls)] = rel.con.execute(
        f"SELECT count({c}), ({distinct_sql}), count(*) - count({c}) FROM {rel.from_sql}"
    ).fetchall()
    return {
        "column": column,
        "non_null": n,
        "distinct": distinct,
        "duplicates": n - distinct,
        "nulls": nulls,
        "unique": n == distinct and nulls == 0,
    }


def freshness(rel: Relation, column: str, kind: str, as_of: Any) -> dict[str, Any]:
    """Newest/oldest timestamp, lag to ``as_of``, days with arrivals and the longest gap."""
    c = quote_ident(column)
    if kind == "text":
        formats = ", ".join(_lit(f) for f in DATE_FORMATS)
        ts = f"try_strptime(trim({c}), [{formats}])"
    else:
        ts = f"CAST({c} AS TIMESTAMP)"
    sql = f"""
        WITH t AS (SELECT {ts} AS ts FROM {rel.from_sql}),
             valid AS (SELECT ts FROM t WHERE ts IS NOT NULL AND year(ts) > 1900 AND year(ts) < 9999),
             days AS (SELECT DISTINCT CAST(ts AS DATE) AS d FROM valid),
             gaps AS (SELECT d - lag(d) OVER (ORDER BY d) AS gap FROM days)
        SELECT (SELECT min(ts) FROM valid), (SELECT max(ts) FROM valid), (SELECT count(*) FROM valid),
               (SELECT count(*) FROM t) - (SELECT count(*) FROM valid),
               (SELECT count(*) FROM days), (SELECT max(gap) FROM gaps)
    """
    oldest, newest, parsed, unparsed, days, gap = rel.con.execute(sql).fetchone()
    return freshness_record(column, oldest, newest, parsed, unparsed, days, gap, as_of)


def freshness_record(
    column: str, oldest: Any, newest: Any, parsed: int, unparsed: int, days: int, gap: Any, as_of: Any
) -> dict[str, Any]:
    """The freshness entry from its measured parts (``gap`` in days), with the lag and span to ``as_of``."""
    out: dict[str, Any] = {
        "column": column,
        "oldest": round_stat(oldest),
        "newest": round_stat(newest),
        "parsed": parsed,
        "unparsed_or_placeholder": unparsed,
        "days_with_arrivals": days,
        "longest_gap_days": int(gap) if gap is not None else None,
    }
    if newest is not None and as_of is not None:
        newest_date = newest.date() if hasattr(newest, "date") else newest
        out["lag_days"] = (as_of - newest_date).days
        span = (newest_date - (oldest.date() if hasattr(oldest, "date") else oldest)).days + 1
        out["span_days"] = span
        out["arrivals_per_day"] = round(parsed / span, 3) if span else None
    return out
