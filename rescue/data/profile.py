"""Profile a table in one pass: nulls, blanks, placeholders, distinct, ranges, quantiles, text mess.

Where the data lives in DuckDB (CSV, Parquet, DuckDB files) the single aggregate query runs on the
whole table in place. For database sources (SQLite, Postgres, other Ibis backends) the row count,
nulls, ranges and key uniqueness run on the server over the whole table, and the deep text checks
run on a bounded sample pulled into an embedded DuckDB, so a production database never carries
the heavy work. Output is rounded and ordered so that it is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt

from .connect import OpenSource, time_limit

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
EXACT_LIMIT = 200_000  # exact distinct counts and quantiles up to this many rows, approximate above
TEXT_CHECK_ROWS = 200_000  # above this, the regex/parse checks run on a seeded sample of about this size
# a value that could be a date starts with digits and a separator, or a month name and a day
DATE_SHAPE_RE = r"^\s*([0-9]{1,4}[-/.][0-9]|[A-Za-z]{3,9}\.? [0-9])"
# the text checks that read every character; the rest (nulls, distinct, lengths, ranges) always see every row
SAMPLED_STATS = {
    "blanks",
    "placeholders",
    "html_entities",
    "markup",
    "mojibake",
    "numeric_like",
    "date_like",
    "sample_nulls",
}
DEFAULT_SAMPLE_ROWS = 200_000  # rows pulled from a database source for the deep checks


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _kind(dtype: dt.DataType) -> str:
    if dtype.is_string():
        return "text"
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_temporal():
        return "time"
    return "other"


def _round(value: Any, digits: int = 4) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, digits)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list):
        return [_round(v, digits) for v in value]
    return value


@dataclass
class Relation:
    """Where the deep pass runs: a DuckDB connection and a FROM clause over the rows to profile."""

    con: duckdb.DuckDBPyConnection
    from_sql: str
    rows: int
    sampled: bool


def deep_relation(opened: OpenSource, sample_rows: int | None) -> Relation:
    """The rows the deep pass reads: the table itself in DuckDB, or a bounded sample of a server table."""
    if opened.engine == "duckdb":
        con = opened.backend.con
        from_sql = f"({ibis.to_sql(opened.table, dialect='duckdb')}) AS src"
        with time_limit(opened):
            rows = con.execute(f"SELECT count(*) FROM {from_sql}").fetchone()[0]
        return Relation(con, from_sql, rows, False)
    limit = sample_rows or DEFAULT_SAMPLE_ROWS
    with time_limit(opened):
        arrow = opened.table.limit(limit).to_pyarrow()
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("sample_rows", arrow)
    return Relation(con, "sample_rows AS src", arrow.num_rows, True)


_COUNTS = {
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
    c = _q(name)
    distinct = f"count(DISTINCT {c})" if exact else f"approx_count_distinct({c})"
    aggs = [("nulls", f"count(*) - count({c})"), ("distinct", distinct)]
    # reservoir_quantile is several times cheaper than approx_quantile (t-digest) on large tables
    quant = "quantile_disc" if exact else "reservoir_quantile"
    if kind == "text":
        t = f"trim({c})"
        n = f"length({c})"
        # Cheap guards first (CASE evaluates the costly branch only on the rows it selects): placeholders,
        # numbers and dates are short; mojibake needs one of its marker characters.
        short_placeholder = f"{n} <= 32 AND regexp_full_match(lower({t}), {_lit(PLACEHOLDER_RE)})"
        real = f"NOT ({short_placeholder})"
        formats = ", ".join(_lit(f) for f in DATE_FORMATS)
        markers = " OR ".join(f"contains({c}, {_lit(m)})" for m in ("Ã", "â€", "Â", "\ufffd"))
        aggs += [
            ("sample_nulls", f"count(*) - count({c})"),
            ("blanks", f"count_if(CASE WHEN {n} <= 256 THEN {t} = '' ELSE false END)"),
            (
                "placeholders",
                f"count_if(CASE WHEN {n} <= 32 THEN regexp_full_match(lower({t}), {_lit(PLACEHOLDER_RE)}) ELSE false END)",
            ),
            ("len_min", f"min({n})"),
            ("len_max", f"max({n})"),
            ("len_mean", f"avg({n})"),
            ("len_q", f"{quant}({n}, [0.05, 0.5, 0.95])"),
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
            (
                "numeric_like",
                f"count_if(CASE WHEN {n} <= 32 THEN ({real}) AND regexp_full_match({t}, {_lit(NUMBER_RE)}) ELSE false END)",
            ),
            (
                "date_like",
                f"count_if(CASE WHEN {n} BETWEEN 6 AND 40 AND regexp_matches({c}, {_lit(DATE_SHAPE_RE)}) "
                f"THEN ({real}) AND try_strptime({t}, [{formats}]) IS NOT NULL ELSE false END)",
            ),
        ]
    elif kind == "number":
        aggs += [
            ("min", f"min({c})"),
            ("max", f"max({c})"),
            ("mean", f"avg({c})"),
            ("q", f"{quant}({c}, [0.05, 0.5, 0.95])"),
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


def profile_columns(rel: Relation, schema: ibis.Schema) -> dict[str, dict[str, Any]]:
    """Every column's statistics in one aggregate query over ``rel``.

    Above TEXT_CHECK_ROWS rows the character-level text checks run in a second query over a seeded
    Bernoulli sample (``checked_rows`` says how many rows they saw); everything else sees every row.
    """
    exact = rel.rows <= EXACT_LIMIT
    sample = rel.rows > TEXT_CHECK_ROWS
    kinds = {name: _kind(dtype) for name, dtype in schema.items()}
    full: list[tuple[str, str, str]] = []
    sampled: list[tuple[str, str, str]] = []
    for name, kind in kinds.items():
        for stat, sql in _column_aggregates(name, kind, exact):
            (sampled if sample and stat in SAMPLED_STATS else full).append((name, stat, sql))
    columns: dict[str, dict[str, Any]] = {
        name: {"type": kinds[name], "dtype": str(schema[name])} for name in kinds
    }
    # Bernoulli sampling streams (no materialised reservoir); the seed keeps it repeatable
    percent = 100.0 * TEXT_CHECK_ROWS / rel.rows if rel.rows else 100.0
    sample_from = f"{rel.from_sql} USING SAMPLE {percent:.6f} PERCENT (bernoulli, 7)"
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
            columns[name][stat] = 0 if value is None and stat in _COUNTS else _round(value)
    for stats in columns.values():
        if stats["type"] == "text":
            stats["checked_rows"] = checked
        _derive(stats, rel.rows)
    return columns


def _derive(stats: dict[str, Any], rows: int) -> None:
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
    problems = nulls + stats["blanks"] + stats["placeholders"] + stats["cast_failures"]
    text_mess = (
        max(stats["html_entities"], stats["markup"], stats["mojibake"]) if stats["inferred"] == "text" else 0
    )
    stats["issue_rate"] = round(min(problems + text_mess, rows) / rows, 4) if rows else 0.0


def duplicate_rows(rel: Relation, columns: list[str]) -> int:
    """Rows that repeat another row exactly (all columns equal).

    Counted on a 64-bit hash of each row: memory stays at 8 bytes a row whatever the width, and a
    collision (which would hide one duplicate) has odds of about n²/2⁶⁵ — 3 in a million at 10M rows.
    """
    row_hash = "hash(" + ", ".join(_q(c) for c in columns) + ")"
    distinct = rel.con.execute(f"SELECT count(DISTINCT {row_hash}) FROM {rel.from_sql}").fetchone()[0]
    return rel.rows - distinct


def key_profile(rel: Relation, column: str) -> dict[str, Any]:
    """Uniqueness of the declared id column."""
    c = _q(column)
    n, distinct, nulls = rel.con.execute(
        f"SELECT count({c}), count(DISTINCT {c}), count(*) - count({c}) FROM {rel.from_sql}"
    ).fetchone()
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
    c = _q(column)
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
    out: dict[str, Any] = {
        "column": column,
        "oldest": _round(oldest),
        "newest": _round(newest),
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
