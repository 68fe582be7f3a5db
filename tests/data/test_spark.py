"""A real distributed engine: the sample project's Parquet source profiled on Spark (local mode) gives
DuckDB's figures — exactly for counts, within the sample's stated error for sampled figures."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rescue.data import picture as picture_module
from rescue.data import profile as profile_module
from rescue.data.connect import OpenSource
from rescue.data.picture import profile_opened, profile_source
from rescue.spec import load_spec

AS_OF = date(2026, 11, 1)
EXACT = ("nulls", "distinct", "blanks", "placeholders", "html_entities", "markup", "mojibake", "line_breaks",
         "numeric_like", "date_like", "zeros", "true", "len_min", "len_max", "min", "max", "inferred",
         "cast_failures", "checked_rows", "null_rate", "issue_rate", "len_p05", "len_p50", "len_p95",
         "p05", "p50", "p95")  # fmt: skip


def _on_spark(spark: Any, source: Any, path: Path) -> OpenSource:
    con = ibis.pyspark.connect(spark)
    table = con.read_parquet(str(path), table_name=f"src_{source.name.replace('-', '_')}")
    return OpenSource(source, con, table, 0.0, "pyspark", [])


def _instant(value: Any) -> Any:
    """Timestamps as UTC instants: DuckDB says +00:00, a UTC Spark session says nothing."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def _both(spark: Any, project: Path, name: str) -> tuple[dict, dict, dict, dict]:
    spec = load_spec(project)
    source = next(s for s in spec.sources if s.name == name)
    duck, duck_work = profile_source(spec, source, AS_OF, probes=3)
    opened = _on_spark(spark, source, spec.path(source.location or ""))
    try:
        on_spark, spark_work = profile_opened(spec, source, opened, AS_OF, probes=3)
    finally:
        opened.close()
    assert duck["status"] == on_spark["status"] == "ok", (duck["error"], on_spark["error"])
    return duck, on_spark, duck_work, spark_work


@pytest.fixture(scope="module")
def app_feedback(spark, tmp_path_factory):
    from tests.conftest import copy_sample

    project = copy_sample(tmp_path_factory.mktemp("spark"))
    return _both(spark, project, "app-feedback")


def test_spark_runs_the_full_profile_where_the_data_lives(app_feedback) -> None:
    _, on_spark, _, _ = app_feedback
    assert on_spark["engine"] == "pyspark" and on_spark["pushdown"] == "full"
    assert any("percentile_approx" in d for d in on_spark["deviations"])
    assert on_spark["sampling"]["text_checks"]["method"] == "all rows"  # 224 rows: every row, exact


def test_spark_agrees_with_duckdb_on_the_sample_parquet(app_feedback) -> None:
    duck, on_spark, duck_work, spark_work = app_feedback
    assert on_spark["rows"] == duck["rows"] == 224
    assert on_spark["key"] == duck["key"]
    assert on_spark["duplicate_rows"] == duck["duplicate_rows"]
    assert set(on_spark["profile"]) == set(duck["profile"])
    for column, stats in duck["profile"].items():
        theirs = on_spark["profile"][column]
        for stat in EXACT:
            if stat in stats:
                assert _instant(theirs.get(stat)) == _instant(stats[stat]), (column, stat)
        for stat in ("mean", "len_mean"):
            if stat in stats:
                assert math.isclose(theirs[stat], stats[stat], rel_tol=1e-9), (column, stat)
        assert theirs.get("language_mix") == stats.get("language_mix"), column
    fresh_duck, fresh_spark = duck["freshness"], on_spark["freshness"]
    assert {k: _instant(v) for k, v in fresh_spark.items()} == {k: _instant(v) for k, v in fresh_duck.items()}
    assert on_spark["pii"] == duck["pii"] and on_spark["pii_scanned_rows"] == duck["pii_scanned_rows"]
    # the overlap's hashes: Spark's values hashed here are the same set as DuckDB's in place
    for name in ("ids", "text_hashes"):
        assert np.array_equal(spark_work[name].values, duck_work[name].values), name


def _big_parquet(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(11)
    texts = np.array(["I&#039;m fine today", "caf\u00c3\u00a9 was open", "plain text here", "N/A", ""])
    pick = rng.choice(len(texts), size=rows, p=[0.2, 0.1, 0.55, 0.1, 0.05])
    amount = rng.normal(50, 10, rows)
    table = pa.table(
        {
            "id": pa.array(rng.permutation(rows) + 1, pa.int64()),
            "text": pa.array(texts[pick]),
            "amount": pa.array(np.where(rng.random(rows) < 0.03, np.nan, amount)).cast(pa.float64()),
        }
    )
    table = table.set_column(
        2, "amount", pa.array(table["amount"].to_pylist(), pa.float64(), from_pandas=True)
    )
    pq.write_table(table, path, row_group_size=rows // 4)
    return path


def test_sampled_figures_agree_within_the_samples_error(
    spark, tmp_path, write_spec, sample_spec_data, monkeypatch
):
    rows = 40_000
    _big_parquet(tmp_path / "big.parquet", rows)
    for module, name, value in ((profile_module, "TEXT_CHECK_ROWS", 5_000), (profile_module, "TEXT_SAMPLE_ROWS", 4_000),
                                (picture_module, "PII_ROWS", 4_000), (picture_module, "OVERLAP_ROWS", 10_000)):  # fmt: skip
        monkeypatch.setattr(module, name, value)
    from rescue.data import pushdown

    monkeypatch.setattr(pushdown, "TEXT_CHECK_ROWS", 5_000)
    monkeypatch.setattr(pushdown, "TEXT_SAMPLE_ROWS", 4_000)
    data = dict(sample_spec_data)
    data["sources"] = [{"name": "big", "kind": "parquet", "location": str(tmp_path / "big.parquet"),
                        "id_column": "id", "text_column": "text"}]  # fmt: skip
    project = write_spec(data)
    duck, on_spark, duck_work, spark_work = _both(spark, project, "big")
    assert duck["rows"] == on_spark["rows"] == rows
    for column in ("text", "amount"):
        assert duck["profile"][column]["nulls"] == on_spark["profile"][column]["nulls"]  # every row: exact
    for entry in (duck, on_spark):
        drawn = entry["sampling"]["text_checks"]
        assert drawn["method"] != "all rows" and drawn["seed"] == 7 and 0 < drawn["fraction"] < 1
    assert on_spark["sampling"]["text_checks"]["method"] == "bernoulli"  # Spark's TABLESAMPLE ... REPEATABLE
    assert duck["sampling"]["text_checks"]["method"] == "hash of id"
    # a share from a sample of n rows is within 4 standard errors of the other's, sqrt(p(1-p)(1/n1+1/n2))
    for stat in ("html_entities", "mojibake", "placeholders", "blanks"):
        a, b = duck["profile"]["text"], on_spark["profile"]["text"]
        pa_, pb = a[stat] / a["checked_rows"], b[stat] / b["checked_rows"]
        p = (pa_ + pb) / 2
        error = 4 * math.sqrt(p * (1 - p) * (1 / a["checked_rows"] + 1 / b["checked_rows"]))
        assert abs(pa_ - pb) <= error, (stat, pa_, pb, error)
    # personal data and languages read a random sample of about 4,000 rows on both
    for entry in (duck, on_spark):
        assert entry["sampling"]["pii"]["method"] != "all rows"
        assert 3_000 < entry["pii_scanned_rows"] < 5_000
    # the ids' overlap sample: a quarter of the values on each engine
    for work in (duck_work, spark_work):
        assert 0.2 < work["ids"].values.size / rows < 0.3
