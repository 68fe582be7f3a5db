"""The one-pass profile: counts checked against pandas on the same rows."""

from __future__ import annotations

import duckdb
import ibis
import pandas as pd
import pytest

from rescue.data.profile import Relation, duplicate_rows, freshness, key_profile, profile_columns


def _relation(frame: pd.DataFrame) -> Relation:
    con = duckdb.connect()
    con.register("t", frame)
    return Relation(con, "t AS src", len(frame), False)


FRAME = pd.DataFrame(
    {
        "id": [1, 2, 3, 3, 5, 6, 7, 8],
        "amount": ["10", "12.5", "N/A", "-", "7", "seven", " 3 ", ""],
        "when": [
            "2024-01-01",
            "2024-01-02",
            "2024-01-02",
            "1900-01-01",
            "January 05, 2024",
            "n/a",
            "2024-01-09",
            None,
        ],
        "text": [
            "I&#039;ve been fine",
            "caf\u00c3\u00a9 was open",
            "3</span> users found this comment helpful.",
            "plain",
            "line\r\nbreak",
            "It\u00e2\u20ac\u2122s bad",
            "&amp; more",
            None,
        ],
    }
)


def test_text_column_counts_match_pandas() -> None:
    rel = _relation(FRAME)
    schema = ibis.schema({"id": "int64", "amount": "string", "when": "string", "text": "string"})
    cols = profile_columns(rel, schema)
    text = cols["text"]
    assert text["nulls"] == int(FRAME["text"].isna().sum()) == 1
    assert text["html_entities"] == 2  # &#039; and &amp;
    assert text["markup"] == 1  # the scraped </span>
    assert text["mojibake"] == 2  # Ã© and â€™
    assert text["line_breaks"] == 1
    assert text["distinct"] == FRAME["text"].nunique()
    lengths = FRAME["text"].dropna().str.len()
    assert text["len_max"] == lengths.max() and text["len_min"] == lengths.min()

    amount = cols["amount"]
    assert amount["blanks"] == 1 and amount["placeholders"] == 2  # "" ; "N/A", "-"
    assert amount["inferred"] == "number"
    assert amount["cast_failures"] == 1  # "seven"

    when = cols["when"]
    assert when["inferred"] == "date"
    assert when["placeholders"] == 2  # 1900-01-01 and n/a
    assert when["nulls"] == 1

    ident = cols["id"]
    assert ident["type"] == "number" and ident["min"] == 1 and ident["max"] == 8
    assert ident["p50"] == FRAME["id"].quantile(0.5, interpolation="lower")


def test_rates_are_between_zero_and_one() -> None:
    cols = profile_columns(_relation(FRAME), ibis.schema({c: "string" for c in ["amount", "when", "text"]}))
    for stats in cols.values():
        assert 0 <= stats["issue_rate"] <= 1 and 0 <= stats["null_rate"] <= 1


def test_duplicates_and_keys() -> None:
    frame = pd.DataFrame({"id": [1, 2, 2, 3, None], "v": ["a", "b", "b", "c", "d"]})
    rel = _relation(frame)
    assert duplicate_rows(rel, ["id", "v"]) == 1
    key = key_profile(rel, "id")
    assert key == {"column": "id", "non_null": 4, "distinct": 3, "duplicates": 1, "nulls": 1, "unique": False}


def test_freshness_from_text_dates() -> None:
    from datetime import date

    rel = _relation(FRAME)
    f = freshness(rel, "when", "text", date(2024, 2, 1))
    assert f["newest"].startswith("2024-01-09") and f["oldest"].startswith("2024-01-01")
    assert f["parsed"] == 5 and f["unparsed_or_placeholder"] == 3
    assert f["lag_days"] == 23
    assert f["days_with_arrivals"] == 4  # 01, 02, 05, 09
    assert f["longest_gap_days"] == 4  # 05 -> 09
    assert f["span_days"] == 9


@pytest.mark.parametrize("rows", [0, 1])
def test_tiny_tables(rows: int) -> None:
    frame = pd.DataFrame({"text": ["x"] * rows}, dtype="string")
    cols = profile_columns(_relation(frame), ibis.schema({"text": "string"}))
    assert cols["text"]["nulls"] == 0


def test_large_tables_run_text_checks_on_a_sample(monkeypatch) -> None:
    import rescue.data.profile as profile

    frame = pd.DataFrame({"text": ["I&#039;m ok", "plain", "N/A", "caf\u00c3\u00a9"] * 2500})
    monkeypatch.setattr(profile, "TEXT_CHECK_ROWS", 2000)
    cols = profile_columns(_relation(frame), ibis.schema({"text": "string"}))["text"]
    assert 1500 < cols["checked_rows"] < 2500  # a seeded Bernoulli sample of about 2000 rows
    assert cols["nulls"] == 0 and cols["distinct"] == 4  # full-table statistics still see every row
    share = cols["html_entities"] / cols["checked_rows"]
    assert 0.2 < share < 0.3  # a quarter of the rows, estimated from the sample
    assert 0 <= cols["issue_rate"] <= 1
