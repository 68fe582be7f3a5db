"""A real Postgres source: profiled where it lives, read-only even with an owner's credentials."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from rescue.data.connect import open_source
from rescue.data.picture import build_picture
from rescue.errors import SourceUnavailable
from rescue.spec import load_spec

ROWS = 2000


@pytest.fixture(scope="module")
def feedback_table(postgres):
    postgres.execute(
        f"""
        DROP TABLE IF EXISTS feedback;
        CREATE TABLE feedback (id integer PRIMARY KEY, received_at timestamptz, body text, email text);
        INSERT INTO feedback
        SELECT g, timestamptz '2026-10-01' + g * interval '1 hour',
               CASE WHEN g % 4 = 0 THEN 'I&#039;ve had a rash ' || g ELSE 'fine ' || g END,
               CASE WHEN g % 10 = 0 THEN 'patient' || g || '@example.org' END
        FROM generate_series(1, {ROWS}) g;
        """
    )
    return postgres


@pytest.fixture
def pg_project(write_spec, sample_spec_data, feedback_table, monkeypatch):
    monkeypatch.setenv("RESCUE_PG_ADMIN", feedback_table.admin_dsn)
    monkeypatch.setenv("RESCUE_PG_READER", feedback_table.reader_dsn)
    data = copy.deepcopy(sample_spec_data)
    data["sources"] = [
        {"name": "pg", "kind": "postgres", "dsn": "${RESCUE_PG_READER}", "table": "feedback", "id_column": "id",
         "text_column": "body", "timestamp_column": "received_at", "region": "eu-west-1", "contains_personal_data": True,
         "sample_rows": 500, "owner": {"name": "Dana Okafor", "evidence": "catalogue"}},
    ]  # fmt: skip
    return load_spec(write_spec(data))


def test_postgres_source_is_profiled(pg_project) -> None:
    picture = build_picture(pg_project, as_of=date(2026, 12, 1), probes=5)
    (pg,) = picture["sources"]
    assert pg["status"] == "ok", pg["error"]
    assert pg["engine"] == "postgres"
    # deep checks on a seeded random sample of about 500 rows, drawn on the server (never the first rows)
    sampled = pg["sampled_rows"]
    assert pg["rows"] == ROWS and 400 < sampled < 600
    assert pg["sampling"]["deep_checks"] == {
        "method": "bernoulli",
        "fraction": 0.25,
        "seed": 7,
        "rows": sampled,
    }
    assert pg["pushdown"] == "light"
    assert (
        pg["profile"]["email"]["nulls_full_table"] == ROWS - ROWS // 10
    )  # light aggregates on the full table
    # every 4th row has an entity and every 10th an e-mail: shares of the sample, within its error
    assert abs(pg["profile"]["body"]["html_entities"] / sampled - 0.25) < 0.06
    assert abs(pg["pii"]["email"]["email"] / sampled - 0.1) < 0.04
    assert any("seeded random sample" in note for note in pg["notes"])
    assert pg["key"]["unique"] is True
    assert pg["freshness"]["newest"].startswith("2026-12-")  # the sample spans the table, not its first rows
    assert pg["latency"]["point_lookup_p95_ms"] > 0
    assert (
        "Pl" not in pg["location"] and "${RESCUE_PG_READER}" in pg["location"]
    )  # a reference, never the DSN


@pytest.mark.parametrize(
    "sql",
    ["INSERT INTO feedback (id) VALUES (999999)", "UPDATE feedback SET body = ''", "DELETE FROM feedback",
     "CREATE TABLE hacked (a int)", "DROP TABLE feedback"],
)  # fmt: skip
def test_writes_fail_even_with_owner_credentials(pg_project, feedback_table, sql) -> None:
    # the admin role may write; the connection rescue opens must not
    source = pg_project.sources[0].model_copy(
        update={"dsn": type(pg_project.sources[0].dsn)("RESCUE_PG_ADMIN")}
    )
    opened = open_source(pg_project, source)
    try:
        with pytest.raises(Exception, match="read-only transaction"):
            opened.backend.raw_sql(sql)
    finally:
        opened.close()
    assert feedback_table.execute("SELECT count(*) FROM feedback").strip() == str(ROWS)


def test_statement_timeout_is_enforced(pg_project) -> None:
    opened = open_source(pg_project, pg_project.sources[0], timeout_s=0.5)
    try:
        with pytest.raises(Exception, match="statement timeout"):
            opened.backend.raw_sql("SELECT pg_sleep(3)").fetchall()
    finally:
        opened.close()


def test_missing_table_and_wrong_password(pg_project, feedback_table, monkeypatch) -> None:
    missing = pg_project.sources[0].model_copy(update={"table": "no_such_table"})
    with pytest.raises(SourceUnavailable) as info:
        open_source(pg_project, missing)
    assert info.value.kind == "no_table"
    monkeypatch.setenv("RESCUE_PG_READER", feedback_table.dsn("rescue_reader", "wrong-password-123"))
    with pytest.raises(SourceUnavailable) as info:
        open_source(pg_project, pg_project.sources[0])
    assert info.value.kind == "credentials"
    assert "wrong-password-123" not in str(info.value)
