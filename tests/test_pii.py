"""Personal-data counts: real formats found, look-alikes (dates, doses, bad checksums) not; values never out."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from stdnum import luhn

from rescue.pii import PII_KINDS, count_pii, scan_columns

SOURCES = Path(__file__).resolve().parents[1] / "sample_data" / "pharma-feedback" / "sources"


def kinds_found(text: str | None, region: str = "GB") -> set[str]:
    """The kinds counted for one value."""
    return {kind for kind, n in count_pii([text], region=region).items() if n}


def test_kinds_are_the_documented_ones() -> None:
    assert {"email", "phone", "iban", "card"} <= set(PII_KINDS)
    assert set(PII_KINDS) <= {"email", "phone", "iban", "card", "ip_address"}
    assert count_pii([]) == dict.fromkeys(PII_KINDS, 0)


# --- IBAN -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "DE89 3704 0044 0532 0130 00",
        "refund to DE89370400440532013000 please",
        "my IBAN is GB82 WEST 1234 5698 7654 32 and the sort code is on the letter",
        "gb82 west 1234 5698 7654 32",
        "NL91ABNA0417164300",
    ],
)
def test_valid_ibans_count(text: str) -> None:
    assert kinds_found(text) == {"iban"}


@pytest.mark.parametrize(
    "text",
    [
        "GB82 WEST 1234 5698 7654 33",  # last digit corrupted: mod-97 fails
        "GB28 WEST 1234 5698 7654 32",  # check digits swapped
        "DE89 3704 0044 0532 0130 01",
        "DE89 3704 0044 0532 0130",  # too short for Germany
        "XX82 WEST 1234 5698 7654 32",  # no such country
    ],
)
def test_invalid_ibans_do_not_count(text: str) -> None:
    assert "iban" not in kinds_found(text)


# --- payment cards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111",
        "4111111111111111",
        "5500-0000-0000-0004",
        "card: 5500 0000 0000 0004, exp 12/27",
        "3782 822463 10005",  # Amex test number, 4-6-5 grouping
        "378282246310005",
    ],
)
def test_luhn_valid_card_numbers_count(text: str) -> None:
    assert kinds_found(text) == {"card"}


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # Luhn fails
        "5500-0000-0000-0005",
        "4111111111111121",
        "6666666666666",  # passes Luhn, but all digits the same
        "4444 4444 4444 4444 4",  # passes Luhn (17 fours), all the same
        "0000 0000 0000 0000",  # passes Luhn, not a card industry
        "4111-1111 1111-1111",  # mixed separators
        "41 11 11 11 11 11 11 11",  # not grouped like a card
        "order 12345678901234567890123 shipped",  # too long: part of a longer number
    ],
)
def test_non_cards_do_not_count(text: str) -> None:
    assert "card" not in kinds_found(text)


def test_luhn_cases_really_are_what_they_claim() -> None:
    # guards the two tables above against a typo in a number
    assert luhn.is_valid("4111111111111111") and luhn.is_valid("5500000000000004")
    assert not luhn.is_valid("4111111111111112") and not luhn.is_valid("5500000000000005")
    assert luhn.is_valid("6666666666666") and luhn.is_valid("4" * 17)


# --- phones ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "+44 20 7946 0123",  # Ofcom drama range, London
        "020 7946 0958",
        "call me on 020 7946 0958 after 6pm",
        "+44 (0)20 7946 0123",
        "+1 650-253-0000",  # international format is found whatever the default region
        "tel:+1 (650) 253-0000",
        "+49 30 901820",
    ],
)
def test_phone_numbers_count_for_gb(text: str) -> None:
    assert kinds_found(text, region="GB") == {"phone"}


def test_national_format_depends_on_region() -> None:
    assert kinds_found("(650) 253-0000", region="US") == {"phone"}
    assert kinds_found("(650) 253-0000", region="GB") == set()
    assert kinds_found("020 7946 0958", region="gb") == {"phone"}  # region case does not matter


@pytest.mark.parametrize(
    "text",
    [
        "2012-12-24",
        "since 2012-12-24 no side effects",
        "15 mg twice daily, 3 times",
        "took 20 mg on 12/03/2015 at 10:30",
        "from 100-150 mg to 280-400 mg over 2 years",
        "March 13 2015, 7/18/2014 and 02.25.2016",
        "I lost 100000 brain cells, 3 stars",
        "Rated 10/10, 9 out of 10 people 2013",
    ],
)
def test_dates_doses_and_counts_are_not_personal_data(text: str) -> None:
    assert kinds_found(text) == set()


# --- e-mail and IP --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "patient0042@example.org",
        "write to Patient.Name+tag@mail.example.co.uk.",
        "contact: patient5893@example.org (mornings)",
    ],
)
def test_emails_count(text: str) -> None:
    assert kinds_found(text) == {"email"}


@pytest.mark.parametrize("text", ["foo@bar", "not an email @ all", "@pharmacist thanks", "a@b.c"])
def test_non_emails_do_not_count(text: str) -> None:
    assert "email" not in kinds_found(text)


def test_ip_addresses() -> None:
    if "ip_address" not in PII_KINDS:
        pytest.skip("ip_address is optional")
    assert kinds_found("login from 192.168.1.10 failed") == {"ip_address"}
    assert kinds_found("2001:db8::1") == {"ip_address"}
    assert kinds_found("app v1.2.3.4") == set()  # a version string
    assert kinds_found("app 1.0.0") == set()
    assert kinds_found("999.1.1.1") == set()
    assert kinds_found("at 10:30:45") == set()


# --- counting ---------------------------------------------------------------------------------------


def test_counts_values_not_hits_and_skips_missing() -> None:
    values = [
        "patient0042@example.org, also patient0043@example.org",  # two hits, one value
        "patient0042@example.org or +44 20 7946 0123",  # two kinds in one value
        None,
        float("nan"),
        pd.NA,
        "",
        "nothing personal here",
        "4111 1111 1111 1111 / GB82 WEST 1234 5698 7654 32",
    ]
    assert count_pii(values) == {
        **dict.fromkeys(PII_KINDS, 0),
        "email": 2,
        "phone": 1,
        "card": 1,
        "iban": 1,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111 1111 1111 / 020 7946 0958", {"card", "phone"}),
        ("IBAN GB82 WEST 1234 5698 7654 32 or call 020 7946 0958", {"iban", "phone"}),
        ("4111 1111 1111 1111 and 5500-0000-0000-0004", {"card"}),
        ("patient0042@example.org, 192.168.1.10, +44 20 7946 0123", {"email", "ip_address", "phone"}),
    ],
)
def test_several_kinds_in_one_value(text: str, expected: set[str]) -> None:
    assert kinds_found(text) == expected & set(PII_KINDS)


def test_non_text_values_are_read_as_text() -> None:
    assert count_pii([4111111111111111, b"patient0042@example.org"])["card"] == 1
    assert count_pii([b"patient0042@example.org"])["email"] == 1


def test_result_holds_only_counts_never_values() -> None:
    secrets = [
        "patient0042@example.org",
        "+44 20 7946 0123",
        "GB82 WEST 1234 5698 7654 32",
        "4111 1111 1111 1111",
        "192.168.1.10",
    ]
    values = [f"row {i}: {secret}" for i, secret in enumerate(secrets)]
    result = count_pii(values)
    assert list(result) == list(PII_KINDS)
    assert all(type(n) is int for n in result.values())
    shown = repr(result) + repr(scan_columns(pd.DataFrame({"notes": values})))
    for secret in secrets:
        for piece in [secret, *secret.split()]:
            if len(piece) >= 4:
                assert piece not in shown


# --- data frames ------------------------------------------------------------------------------------


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "zeta_notes": pd.Series(["call 020 7946 0958", None, "fine"], dtype="string"),
            "email": ["patient0042@example.org", "no address", None],
            "amount": [1, 2, 3],
            "alpha": pd.Series(["2012-12-24", "15 mg twice daily, 3 times", "ok"], dtype=object),
        }
    )


def test_scan_columns_covers_every_text_column_sorted_with_zeros() -> None:
    result = scan_columns(_frame())
    assert list(result) == ["alpha", "email", "zeta_notes"]  # the integer column is not text
    assert result["alpha"] == dict.fromkeys(PII_KINDS, 0)
    assert result["email"] == {**dict.fromkeys(PII_KINDS, 0), "email": 1}
    assert result["zeta_notes"] == {**dict.fromkeys(PII_KINDS, 0), "phone": 1}


def test_scan_columns_is_deterministic() -> None:
    frame = _frame()
    first = scan_columns(frame)
    shuffled = frame.sample(frac=1.0, random_state=7)[["email", "alpha", "zeta_notes", "amount"]]
    again = scan_columns(shuffled)
    assert first == again and list(first) == list(again)
    assert scan_columns(pd.DataFrame({"n": [1.5]})) == {}


def test_sample_sources_counts() -> None:
    with sqlite3.connect(SOURCES / "crm.sqlite") as con:
        crm = pd.read_sql("SELECT body, customer_email, customer_phone FROM feedback", con)
    web = pd.read_csv(SOURCES / "web_form_export.csv", sep=";", encoding="cp1252")
    app = pd.read_parquet(SOURCES / "app_feedback.parquet")
    result = scan_columns(crm)
    assert result["customer_email"]["email"] == crm["customer_email"].notna().sum() == 270
    assert result["customer_phone"]["phone"] == crm["customer_phone"].notna().sum() == 135
    assert sum(result["body"].values()) == 0
    assert sum(count_pii(web["comment"]).values()) == 0
    assert sum(count_pii(app["text"]).values()) == 0


def test_twenty_thousand_rows_run() -> None:
    rng = random.Random(42)
    pool = [
        "Great drug, no side effects at all",
        "15 mg twice daily, 3 times since 2012-12-24",
        "patient0042@example.org",
        "+44 20 7946 0123",
        "card 4111 1111 1111 1111",
        "IBAN GB82 WEST 1234 5698 7654 32",
        None,
    ]
    values = [rng.choice(pool) for _ in range(20_000)]
    result = count_pii(values)
    assert result["email"] == values.count("patient0042@example.org")
    assert result["phone"] == values.count("+44 20 7946 0123")
    assert result["card"] == values.count("card 4111 1111 1111 1111")
    assert result["iban"] == values.count("IBAN GB82 WEST 1234 5698 7654 32")


def _every_text_in_this_module() -> list[str]:
    """Every string the parametrized tests above feed in: hits, look-alikes and near misses alike."""
    found: list[str] = []
    for fn in list(globals().values()):
        for mark in getattr(fn, "pytestmark", []):
            if mark.name != "parametrize":
                continue
            for case in mark.args[1]:
                values = case.values if hasattr(case, "values") else case
                for v in values if isinstance(values, tuple | list) else [values]:
                    if isinstance(v, str):
                        found.append(v)
    return found


def test_scan_table_counts_what_count_pii_counts() -> None:
    import pyarrow as pa

    from rescue.pii import scan_table

    texts = [
        *_every_text_in_this_module(),
        "server fe80::1ff:fe23:4567:890a logged in",  # IPv6 with "::"
        "2001:db8:85a3:0:0:8a2e:370:7334",  # IPv6 written out: seven colons
        "call \u0660\u0662\u0660 \u0667\u0669\u0664\u0666 \u0660\u0669\u0665\u0668",  # Arabic-Indic digits
        "ref 12\u00a034\u00a056\u00a078",  # no-break spaces between digit groups
        "mail me: someone@example.org",
    ]
    assert len(texts) > 50
    for text in texts:  # one by one: the Arrow pre-filter must never drop a value that has a hit
        assert scan_table(pa.table({"v": [text]}))["v"] == count_pii([text]), text
    column = texts * 3 + [None, "", "plain words only"]  # repeats are counted from their value counts
    table = pa.table({"b": column, "a": list(reversed(column)), "n": list(range(len(column)))})
    result = scan_table(table)
    assert list(result) == ["a", "b"]  # text columns only, sorted
    assert result["a"] == result["b"] == count_pii(column)
    assert sum(result["a"].values()) > 0
