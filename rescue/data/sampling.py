"""Seeded random samples of a table, drawn where the data lives: never the first rows.

Every Day 2 check that reads fewer rows than the table holds (the character-level text checks and the
quantiles above ``TEXT_CHECK_ROWS`` rows, the personal-data scan, the language mix, the cross-source
overlap, and the rows a database source sends for the deep checks) reads a random sample drawn here, and
the artifact records how (:meth:`Sampling.record`): the method, the fraction and the seed.

The methods, best first, by what the backend offers:

- ``bernoulli``: each row kept with probability ``fraction``, seeded (``TABLESAMPLE BERNOULLI ...
  REPEATABLE (seed)`` in DuckDB, Postgres and Snowflake; ``TABLESAMPLE (p PERCENT) REPEATABLE (seed)`` in
  Spark, repeatable on the same partitioning).
- ``hash of <column>``: a row is kept when a hash of its unique key, modulo HASH_BUCKETS, is below
  ``fraction`` x HASH_BUCKETS. Repeatable on any partitioning, and read in parallel; with a key that is not
  unique it keeps whole groups (a cluster sample), which the method name says. In SQLite the hash is
  rescue's own seeded SplitMix64 over the key (a read-only function registered on the connection).
- ``random (unseeded)``: ``random() < fraction`` where a backend has neither a seeded sample nor a hash
  (Trino and BigQuery without a key): random, but not repeatable; the method name says so.
- ``hash of value`` (the cross-source overlap): a *value* is kept when its hash falls below the cut, so
  two sources sampled with the same hash keep the same values, and a value shared by both is seen with
  probability min(fractions) instead of their product (:func:`overlap_estimate`).

``fraction == 1`` is ``all rows``: nothing is sampled and every figure is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import ibis

SEED = 7
HASH_BUCKETS = 1_000_000  # a row is in a keyed sample when hash(key) modulo this is below share x this
# a Bernoulli sample of n expected rows is within n + 5 sqrt(n) all but once in 3 million draws: pulled
# rows are capped there, so a source never sends more than it was asked for (the cap cuts nothing else)
_SLACK_SD = 5
ALL_ROWS = "all rows"
BERNOULLI = "bernoulli"
UNSEEDED = "random (unseeded)"
HASH_OF_VALUE = "hash of value"

# backends whose SQL draws a seeded Bernoulli sample (Ibis compiles Table.sample(seed=...) for these)
_SEEDED_TABLESAMPLE = {"duckdb", "postgres", "snowflake"}
# backends with a hash Ibis compiles (Value.hash()); SQLite gets rescue's own (see connect.py)
_HASHES = {"duckdb", "pyspark", "bigquery", "snowflake", "postgres", "clickhouse", "sqlite"}


@dataclass(frozen=True)
class Sampling:
    """How a check's rows were drawn: the method, the share of the table and the seed."""

    method: str
    fraction: float
    seed: int | None = SEED
    rows: int | None = None
    """Rows the sample held, once read."""

    @property
    def sampled(self) -> bool:
        return self.method != ALL_ROWS

    def record(self) -> dict[str, Any]:
        """The sampling as the artifact records it."""
        out: dict[str, Any] = {"method": self.method, "fraction": round(self.fraction, 6)}
        out["seed"] = self.seed if self.sampled and self.method != UNSEEDED else None
        if self.rows is not None:
            out["rows"] = self.rows
        return out

    def with_rows(self, rows: int) -> Sampling:
        """The same sampling, with the rows it held."""
        return Sampling(self.method, self.fraction, self.seed, rows)

    def then(self, inner: Sampling) -> Sampling:
        """``inner`` drawn from the rows this sampling drew: the fractions multiply."""
        if not inner.sampled:
            return self if inner.rows is None else self.with_rows(inner.rows)
        if not self.sampled:
            return inner
        seed = None if UNSEEDED in (self.method, inner.method) else SEED
        return Sampling(
            f"{self.method}, then {inner.method}", self.fraction * inner.fraction, seed, inner.rows
        )

    def describe(self) -> str:
        """A short phrase for a note: ``a seeded bernoulli sample of 2.5% of the rows``."""
        if not self.sampled:
            return "every row"
        kind = "a random sample" if self.method == UNSEEDED else f"a seeded random sample ({self.method})"
        return f"{kind} of {100 * self.fraction:.3g}% of the rows"


def fraction_for(rows: int, wanted: int) -> float:
    """The share of ``rows`` that gives about ``wanted`` rows (1.0 when the table has no more)."""
    return 1.0 if rows <= wanted or rows == 0 else wanted / rows


def row_cap(fraction: float, rows: int) -> int:
    """The most rows a sample of ``fraction`` of ``rows`` may send (see _SLACK_SD)."""
    expected = fraction * rows
    return math.ceil(expected + _SLACK_SD * math.sqrt(expected) + 10)


def hash_cut(fraction: float) -> int:
    """The bucket below which a hashed row or value is kept."""
    return max(1, round(fraction * HASH_BUCKETS))


# --- DuckDB SQL (the fast path) ---------------------------------------------------------------------


def duckdb_sample_sql(from_sql: str, fraction: float, key_sql: str | None = None) -> tuple[str, Sampling]:
    """A FROM clause over a seeded sample of ``from_sql`` in DuckDB, and how it was drawn.

    With ``key_sql`` (a unique key) the rows whose key hashes below the cut, read in parallel; without, a
    seeded Bernoulli sample (streamed, no reservoir; DuckDB reads it on one thread).
    """
    if fraction >= 1:
        return from_sql, Sampling(ALL_ROWS, 1.0, None)
    if key_sql is not None:
        where = f"hash({key_sql}) % {HASH_BUCKETS} < {hash_cut(fraction)}"
        return f"{from_sql} WHERE {where}", Sampling(f"hash of {key_sql.strip(chr(34))}", fraction)
    return (
        f"{from_sql} USING SAMPLE {100.0 * fraction:.6f} PERCENT (bernoulli, {SEED})",
        Sampling(BERNOULLI, fraction),
    )


# --- Ibis (every other backend) ---------------------------------------------------------------------


@ibis.udf.scalar.builtin(name="rescue_hash")
def _sqlite_hash(value: int, seed: int) -> int:  # registered on rescue's read-only SQLite connections
    ...


def splitmix64(value: Any, seed: int = SEED) -> int:
    """A seeded 63-bit hash of a key (SplitMix64 over the key's integer or its text's bytes)."""
    if isinstance(value, int):
        x = value & 0xFFFFFFFFFFFFFFFF
    else:
        data = str(value).encode("utf-8")
        x = int.from_bytes(data[:8].ljust(8, b"\0"), "little") ^ len(data)
        for i in range(8, len(data), 8):
            x = (x * 0x100000001B3) ^ int.from_bytes(data[i : i + 8].ljust(8, b"\0"), "little")
            x &= 0xFFFFFFFFFFFFFFFF
    x = (x + 0x9E3779B97F4A7C15 * (seed + 1)) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (x ^ (x >> 31)) >> 1


def _key_hash(table: Any, key: str, engine: str) -> Any:
    col = table[key]
    if engine == "sqlite":
        return _sqlite_hash(col, SEED) % HASH_BUCKETS
    # a hash may be negative (Spark, BigQuery, Snowflake): its absolute value modulo the buckets
    return (col.hash() % HASH_BUCKETS + HASH_BUCKETS) % HASH_BUCKETS


def sample_table(
    table: Any, engine: str, fraction: float, key: str | None = None, key_unique: bool = True
) -> tuple[Any, Sampling]:
    """A seeded random sample of an Ibis ``table`` on ``engine``, and how it was drawn (see the module).

    ``key`` (a column) is hashed where the backend has no seeded sample; a key that is not
    ``key_unique`` makes a cluster sample, and the method says so.
    """
    if fraction >= 1:
        return table, Sampling(ALL_ROWS, 1.0, None)
    if engine in _SEEDED_TABLESAMPLE:
        return table.sample(fraction, method="row", seed=SEED), Sampling(BERNOULLI, fraction)
    if engine == "pyspark":
        return _spark_tablesample(table, fraction), Sampling(BERNOULLI, fraction)
    if key is not None and engine in _HASHES:
        kept = table.filter(_key_hash(table, key, engine) < hash_cut(fraction))
        method = f"hash of {key}" + ("" if key_unique else " (whole groups of equal keys)")
        return kept, Sampling(method, fraction)
    return table.filter(ibis.random() < fraction), Sampling(UNSEEDED, fraction, None)


def _spark_tablesample(table: Any, fraction: float) -> Any:
    """Spark's seeded row sample (``DataFrame.sample``, Bernoulli, as ``TABLESAMPLE ... REPEATABLE``), as an
    Ibis table over a temporary view of this session (metadata only: nothing is written anywhere)."""
    backend = table._find_backend()
    frame = backend._session.sql(ibis.to_sql(table, dialect="pyspark"))
    name = f"rescue_sample_{abs(hash((ibis.to_sql(table, dialect='pyspark'), fraction))):x}"
    frame.sample(withReplacement=False, fraction=fraction, seed=SEED).createOrReplaceTempView(name)
    return backend.table(name)


def overlap_estimate(shared: int, a: Sampling | None, b: Sampling | None) -> tuple[int, bool]:
    """Shared values between two sources from what their samples share: (estimate, estimated?).

    Two samples drawn by the same hash of the value keep the same values below the smaller cut: a shared
    value is seen with probability min(fractions). Samples drawn any other way are independent: the
    product of the fractions.
    """
    fa = a.fraction if a else 1.0
    fb = b.fraction if b else 1.0
    if fa >= 1 and fb >= 1:
        return shared, False
    coordinated = a is not None and b is not None and a.method == b.method == HASH_OF_VALUE
    seen = min(fa, fb) if coordinated else fa * fb
    return round(shared / seen), True
