"""The profile written as Ibis expressions: it agrees with DuckDB's fast path, compiles for the warehouses,
and (when a server is named) runs on one. Sampling is random, seeded, and says how it was drawn."""

from __future__ import annotations

import os
from datetime import date

import duckdb
import ibis
import pandas as pd
import pytest

from rescue.data import sampling
from rescue.data.connect import OpenSource, open_source
from rescue.data.picture import profile_opened
from rescue.data.profile import Relation, profile_table
from rescue.data.pushdown import compile_profile, profile_columns_in_engine
from rescue.spec import load_spec
from tests.data.test_profile import FRAME

SCHEMA = {"id": "int64", "amount": "string", "when": "string", "text": "string", "score": "float64",
          "ok": "boolean", "at": "timestamp"}  # fmt: skip


def _frame() -> pd.DataFrame:
    frame = FRAME.copy()
    frame["score"] = [0.0, 1.5, None, 3.0, 4.0, 0.0, 7.25, 9.0]
    frame["ok"] = [True, False, True, None, True, True, False, True]
    frame["at"] = pd.to_datetime(["2024-01-01", "1900-01-01", None, "2024-03-05", "1970-01-01", "2024-02-02",
                                  "2024-02-03", "2025-01-01"])  # fmt: skip
    return frame


def test_ibis_form_agrees_with_duckdbs_fast_path() -> None:
    frame = _frame()
    con = ibis.duckdb.connect()
    table = con.create_table("t", ibis.memtable(frame, schema=ibis.schema(SCHEMA)))
    opened = OpenSource(None, con, table, 0.0, "duckdb", [])  # type: ignore[arg-type]
    in_engine, _ = profile_columns_in_engine(opened, len(frame))
    raw = duckdb.connect()
    raw.register("t", con.to_pyarrow(table))
    fast, _ = profile_table(Relation(raw, "t AS src", len(frame), False), table.schema())
    assert in_engine == fast


def test_ibis_form_agrees_on_the_sample_parquet(tmp_path) -> None:
    from tests.conftest import copy_sample

    spec = load_spec(copy_sample(tmp_path))
    for source in spec.sources:
        opened = open_source(spec, source)
        try:
            if opened.engine != "duckdb":
                continue
            rows = opened.table.count().execute()
            in_engine, _ = profile_columns_in_engine(opened, rows)
            rel = Relation(
                opened.backend.con, f"({ibis.to_sql(opened.table, dialect='duckdb')}) AS src", rows, False
            )
            fast, _ = profile_table(rel, opened.table.schema())
        finally:
            opened.close()
        assert in_engine == fast, source.name


@pytest.mark.parametrize("dialect", ["trino", "bigquery", "snowflake"])
def test_the_profile_compiles_for_warehouses(dialect: str) -> None:
    table = ibis.table(ibis.schema(SCHEMA), name="feedback")
    small, big = (
        compile_profile(table, dialect, rows=1_000),
        compile_profile(table, dialect, rows=5_000_000, key="id"),
    )
    assert len(small) == 1 and len(big) == 2  # above TEXT_CHECK_ROWS the character checks read a sample
    sql = "\n".join(big)
    assert "feedback" in sql and "LIMIT" not in sql.upper()  # never the first rows
    quantile = {
        "trino": "APPROX_PERCENTILE",
        "bigquery": "APPROX_QUANTILES",
        "snowflake": "APPROX_PERCENTILE",
    }
    assert quantile[dialect] in sql.upper()
    sample = {"trino": "RAND", "bigquery": "FARM_FINGERPRINT", "snowflake": "TABLESAMPLE"}
    assert sample[dialect] in big[1].upper()


def test_samples_say_how_they_were_drawn() -> None:
    table = ibis.table({"id": "int64", "s": "string"}, name="t")
    for engine, method, seeded in (("duckdb", "bernoulli", True), ("postgres", "bernoulli", True),
                                   ("bigquery", "hash of id", True), ("trino", "random (unseeded)", False),
                                   ("sqlite", "hash of id", True)):  # fmt: skip
        _, drawn = sampling.sample_table(table, engine, 0.1, key="id")
        assert drawn.method == method and (drawn.record()["seed"] is not None) == seeded, engine
    _, whole = sampling.sample_table(table, "trino", 1.0)
    assert whole.record() == {"method": "all rows", "fraction": 1.0, "seed": None}


def test_sqlite_keyed_sample_is_seeded_and_spread(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(1, 20_001)])
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    raw.create_function("rescue_hash", 2, sampling.splitmix64, deterministic=True)
    con = ibis.sqlite.from_connection(raw)
    t = con.table("t")
    drawn, how = sampling.sample_table(t, "sqlite", 0.1, key="id")
    ids = drawn.select("id").to_pyarrow().column(0).to_pylist()
    assert 1_700 < len(ids) < 2_300 and how.method == "hash of id"
    assert min(ids) < 500 and max(ids) > 19_500  # spread over the table, not its first rows
    assert ids == drawn.select("id").to_pyarrow().column(0).to_pylist()  # seeded: the same rows again
    raw.close()


def test_overlap_estimates_scale_by_how_the_samples_were_drawn() -> None:
    same = sampling.Sampling(sampling.HASH_OF_VALUE, 0.5)
    rows = sampling.Sampling(sampling.BERNOULLI, 0.5)
    assert sampling.overlap_estimate(100, same, same) == (200, True)  # the same values kept in both
    assert sampling.overlap_estimate(100, same, rows) == (400, True)  # independent: the product
    assert sampling.overlap_estimate(100, None, None) == (100, False)


LIVE = os.environ.get("RESCUE_LIVE_IBIS_URL")  # e.g. trino://reader@host:8080/hive/default, sc://host:15002


@pytest.mark.skipif(not LIVE, reason="set RESCUE_LIVE_IBIS_URL (and RESCUE_LIVE_TABLE) to a read-only server")
def test_live_server_runs_the_full_profile(write_spec, sample_spec_data) -> None:
    data = dict(sample_spec_data)
    data["sources"] = [{"name": "live", "kind": "ibis", "dsn": "${RESCUE_LIVE_IBIS_URL}",
                        "table": os.environ.get("RESCUE_LIVE_TABLE", "feedback")}]  # fmt: skip
    spec = load_spec(write_spec(data))
    opened = open_source(spec, spec.sources[0])
    try:
        entry, _ = profile_opened(spec, spec.sources[0], opened, date.today(), probes=3)
    finally:
        opened.close()
    assert entry["status"] == "ok", entry["error"]
    assert entry["pushdown"] == "full" and entry["rows"] >= 0
    assert all(record["method"] for record in entry["sampling"].values())
