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
    monkeypatch.setattr(profile, "TEXT_SAMPLE_ROWS", 2000)
    cols = profile_columns(_relation(frame), ibis.schema({"text": "string"}))["text"]
    assert 1500 < cols["checked_rows"] < 2500  # a seeded Bernoulli sample of about 2000 rows
    assert cols["nulls"] == 0 and cols["distinct"] == 4  # full-table statistics still see every row
    share = cols["html_entities"] / cols["checked_rows"]
    assert 0.2 < share < 0.3  # a quarter of the rows, estimated from the sample
    # a quarter placeholders plus a quarter entities or mojibake: sample counts scaled to the table
    assert 0.45 < cols["issue_rate"] < 0.55


TRICKY = [
    *[
        "",
        " ",
        "   ",
        "\t",
        " N/A ",
        "n/a",
        "NA",
        "Null",
        " none",
        "nil",
        "NaN",
        "-",
        " -- ",
        "?",
        "???",
        ".",
    ],
    *["unknown", "UNKNOWN ", "TBD", "todo", "0000-00-00", "1900-01-01", " 1900-01-01 00:00:00", "9999-12-31"],
    *["1970-01-01T00:00:00", "1900-01-01 and more", "N/A\n", "n / a", "- -", "x" * 40, " " * 300],
    *["12", " 12.5 ", "-3", "+4,000", "1,234.56", "1.234,5", "12-15", "approx 12", "007", "1e5", "12 "],
    *["2024-01-05", " 2024-01-05 ", "\t2024-01-05", "January 05, 2024", "Jan 05, 2024", "jan 05, 2024"],
    *["05/01/2024", "05.01.2024", "2024/01/05", "2024-01-05 10:11:12", "2024-01-05T10:11:12", "May 5"],
    *[
        "2024-01-05 10:11:12.123",
        "Dec. 24, 2012",
        "Monday 5",
        "31/02/2024",
        "2024-13-01",
        "December 24, 2012 ",
    ],
    None,
]


def test_rewritten_checks_count_what_the_plain_formulation_counts() -> None:
    """The checks avoid trim()/lower() copies and split the date formats: the counts must not move."""
    from rescue.data.profile import DATE_FORMATS, DATE_SHAPE_RE, NUMBER_RE, PLACEHOLDER_RE, _lit

    frame = pd.DataFrame({"v": TRICKY * 3})
    cols = profile_columns(_relation(frame), ibis.schema({"v": "string"}))["v"]
    c, n, t = '"v"', 'length("v")', 'trim("v")'
    placeholder = f"{n} <= 32 AND regexp_full_match(lower({t}), {_lit(PLACEHOLDER_RE)})"
    formats = ", ".join(_lit(f) for f in DATE_FORMATS)
    plain = {
        "blanks": f"count_if({n} <= 256 AND {t} = '')",
        "placeholders": f"count_if({placeholder})",
        "numeric_like": f"count_if({n} <= 32 AND NOT ({placeholder}) AND regexp_full_match({t}, {_lit(NUMBER_RE)}))",
        "date_like": f"count_if({n} BETWEEN 6 AND 40 AND regexp_matches({c}, {_lit(DATE_SHAPE_RE)}) "
        f"AND NOT ({placeholder}) AND try_strptime({t}, [{formats}]) IS NOT NULL)",
    }
    con = duckdb.connect()
    con.register("t", frame)
    expected = dict(
        zip(plain, con.execute(f"SELECT {', '.join(plain.values())} FROM t").fetchall()[0], strict=True)
    )
    assert {k: cols[k] for k in plain} == expected
    assert expected["placeholders"] > 30 and expected["date_like"] > 20 and expected["numeric_like"] > 15


def test_a_unique_key_draws_the_sample_in_one_parallel_pass(monkeypatch) -> None:
    import rescue.data.profile as profile

    monkeypatch.setattr(profile, "TEXT_CHECK_ROWS", 2000)
    monkeypatch.setattr(profile, "TEXT_SAMPLE_ROWS", 2000)
    frame = pd.DataFrame(
        {
            "id": range(10_000),
            "text": ["I&#039;m ok", "plain", "N/A", "caf\u00c3\u00a9"] * 2500,
            "n": range(10_000),
        }
    )
    schema = ibis.schema({"id": "int64", "text": "string", "n": "int64"})
    cols = profile_columns(_relation(frame), schema, sample_key="id")
    again = profile_columns(_relation(frame), schema, sample_key="id")
    assert cols == again  # the same rows every time: the hash of the key picks them
    text = cols["text"]
    assert 1700 < text["checked_rows"] < 2300 and cols["n"]["checked_rows"] == text["checked_rows"]
    assert text["nulls"] == 0 and text["distinct"] == 4  # full-table statistics still see every row
    assert 0.2 < text["html_entities"] / text["checked_rows"] < 0.3
    assert 0.2 < text["placeholders"] / text["checked_rows"] < 0.3
    assert cols["n"]["min"] == 0 and cols["n"]["max"] == 9999  # ranges: every row
    assert 4000 < cols["n"]["p50"] < 6000  # quantiles: exact on the sample


def test_quantiles_of_large_tables_are_deterministic(monkeypatch) -> None:
    import rescue.data.profile as profile

    monkeypatch.setattr(profile, "TEXT_CHECK_ROWS", 2000)
    monkeypatch.setattr(profile, "TEXT_SAMPLE_ROWS", 2000)
    frame = pd.DataFrame({"x": [float(i % 997) for i in range(50_000)]})
    runs = [profile_columns(_relation(frame), ibis.schema({"x": "float64"}))["x"] for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
    assert 450 < runs[0]["p50"] < 550
