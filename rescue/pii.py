"""Count personal data (PII) per column without ever keeping the values.

Day 2's data picture has to say how much personal data sits in each production source: how
many cells hold an e-mail address, a phone number, an IBAN, a payment card number or an IP
address. This module answers with **counts only**. A value is read, checked and dropped: it
is never returned, stored, cached, logged or put into an exception message, so the output of
:func:`count_pii` and :func:`scan_columns` is nothing but column names, kind names and ints.

How a value is checked:

1. A pre-filter: a text with neither a digit nor an ``@`` cannot hold any kind detected here,
   and costs one regex search. Past the e-mail check, only the neighbourhood of runs of four
   or more digits (with at most three separators between neighbours) is looked at further:
   every phone number, card number, IPv4 address and real-world IBAN holds such a run, while
   most free text holds few or none.
2. Candidates are cut out by regular expressions, then validated:

   - ``email``: a conservative address regex (no library): a local part, an ``@``, a domain
     with at least one dot and a top-level label of two or more letters.
   - ``phone``: :class:`phonenumbers.PhoneNumberMatcher` with leniency ``VALID``, for the
     given default region plus any number written in international ``+`` format, run on a
     short window around each digit run long enough to be a phone number. A run that is only
     a calendar date (``2012-12-24``) is skipped; the matcher rejects the rest of what is not
     a valid number (doses, counts, times, ranges outside the numbering plan).
   - ``iban``: :func:`stdnum.iban.is_valid` (country, length, format and the mod-97 check),
     contiguous or in space-separated groups, upper or lower case.
   - ``card``: 13-19 digits, written without separators or in groups (a first group of four,
     the rest of three to six digits, one kind of separator), passing
     :func:`stdnum.luhn.is_valid`; numbers that are obviously not cards are dropped: a first
     digit outside the payment-card industries (2-6, ISO/IEC 7812) or all digits the same.
   - ``ip_address``: dotted-quad IPv4 addresses, and IPv6 addresses accepted by
     :mod:`ipaddress` (not the unspecified ``::``); a version string like ``v1.2.3.4`` (a
     letter right before it) does not count, ``version 1.2.3.4`` does.

A value counts once per kind however many hits of that kind it holds; one value can count
for several kinds.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pandas as pd
from phonenumbers import Leniency, PhoneMetadata, PhoneNumberMatcher
from stdnum import iban as _iban
from stdnum import luhn as _luhn

PII_KINDS: tuple[str, ...] = ("email", "phone", "iban", "card", "ip_address")
"""The kinds of personal data counted, in the order they appear in every result."""

_NOTHING: tuple[bool, ...] = (False,) * len(PII_KINDS)

# --- pre-filter --------------------------------------------------------------------------------

_TRIGGER = re.compile(r"[\d@]")
# a run of at least four digits with at most three separators between neighbours: every phone
# number, card number, IPv4 address and (real-world) IBAN holds one, and everything but the
# e-mail check looks only near such runs
_RUN = re.compile(r"\d(?:[\s().\-/:+]{0,3}\d){3,}")
_MIN_RUN_DIGITS = 4

# --- email ---------------------------------------------------------------------------------------

_LOCAL_CHAR = r"[\w!#$%&'*+/=?^`{|}~-]"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_EMAIL = re.compile(
    rf"(?<![\w.+-]){_LOCAL_CHAR}+(?:\.{_LOCAL_CHAR}+)*@(?:{_LABEL}\.)+[^\W\d_]{{2,63}}(?![\w-])"
)

# --- phone ---------------------------------------------------------------------------------------

# the shortest number written in international format, country code included (+49 and four digits)
_MIN_INTERNATIONAL_DIGITS = 6
# characters of context handed to the matcher on each side of a run: enough for a leading "+" or
# "(", and for the matcher's own look-around that rejects dates and times
_PHONE_PAD = 12
# a run that is nothing but a calendar date (2012-12-24, 24/12/2012, 12.24.12) never reaches the matcher
_DATE = re.compile(
    r"(?:19|20)\d\d([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|[12]\d|3[01])\2(?:19|20)?\d\d"
)

# --- IBAN ----------------------------------------------------------------------------------------

# country code, check digits, then up to 30 alphanumerics, contiguous or in space-separated groups
_IBAN_CANDIDATE = re.compile(r"(?<![\w])[A-Za-z]{2}[0-9]{2}(?:[ ]?[A-Za-z0-9]){11,30}")
_IBAN_MIN_LEN = 15
_IBAN_MAX_SPAN = 42  # 34 characters in groups of four: an IBAN around a digit run starts within this

# --- card ----------------------------------------------------------------------------------------

_CARD_CANDIDATE = re.compile(r"(?<![\w+.,/-])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")
_CARD_SEPARATORS = re.compile(r"[ -]")
_CARD_INDUSTRIES = frozenset("23456")  # ISO/IEC 7812 major industry identifiers of payment cards
_MIN_CARD_DIGITS = 13

# --- IP address ----------------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.[0-9])")
_IPV6_CANDIDATE = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9.]+)?(?![\w:])")


@functools.lru_cache(maxsize=64)
def _min_phone_digits(region: str) -> int:
    """Fewest digits a phone number can have, for the region or in international format."""
    metadata = PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None:
        return _MIN_INTERNATIONAL_DIGITS
    lengths = [n for n in metadata.general_desc.possible_length if n > 0]
    return max(_MIN_RUN_DIGITS, min([_MIN_INTERNATIONAL_DIGITS, *lengths]))


def _has_phone(text: str, start: int, end: int, region: str) -> bool:
    window = text[max(0, start - _PHONE_PAD) : end + _PHONE_PAD]
    return next(iter(PhoneNumberMatcher(window, region, leniency=Leniency.VALID)), None) is not None


def _iban_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the first valid IBAN near the digit run at text[start:end] is, if any."""
    for candidate in _IBAN_CANDIDATE.finditer(text, max(0, start - _IBAN_MAX_SPAN), end + _IBAN_MAX_SPAN):
        # the greedy match may run into a following word: try the longest group-aligned prefix first
        groups = candidate.group().upper().split(" ")
        for cut in range(len(groups), 0, -1):
            compact = "".join(groups[:cut])
            if len(compact) < _IBAN_MIN_LEN:
                break
            if _iban.is_valid(compact):
                return candidate.start(), candidate.start() + len(" ".join(groups[:cut]))
    return None


def _is_card_number(candidate: str) -> bool:
    groups = _CARD_SEPARATORS.split(candidate)
    if len(groups) > 1:
        if len(set(_CARD_SEPARATORS.findall(candidate))) > 1:
            return False  # mixed spaces and dashes
        if len(groups[0]) != 4 or any(not 3 <= len(g) <= 6 for g in groups[1:]):
            return False  # not the way card numbers are grouped
    digits = "".join(groups)
    if digits[0] not in _CARD_INDUSTRIES or len(set(digits)) == 1:
        return False
    return _luhn.is_valid(digits)


def _card_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the first valid card number in the digit run at text[start:end] is, if any."""
    for candidate in _CARD_CANDIDATE.finditer(text, start, end):
        if _is_card_number(candidate.group()):
            return candidate.span()
    return None


def _covers(span: tuple[int, int] | None, start: int, end: int) -> bool:
    return span is not None and span[0] <= start and end <= span[1]


def _has_ipv6(text: str) -> bool:
    for candidate in _IPV6_CANDIDATE.finditer(text):
        try:
            address = ipaddress.IPv6Address(candidate.group())
        except ValueError:
            continue
        if not address.is_unspecified:
            return True
    return False


def _kinds_in(text: str, region: str) -> tuple[bool, ...]:
    """Which kinds occur in one text, in PII_KINDS order (the text itself is not kept)."""
    if _TRIGGER.search(text) is None:
        return _NOTHING
    email = "@" in text and _EMAIL.search(text) is not None
    phone = iban = card = ip = False
    min_phone = _min_phone_digits(region)
    for run in _RUN.finditer(text):
        start, end = run.span()
        chars = run.group()
        digits = sum(c.isdigit() for c in chars)
        check_phone = not phone and digits >= min_phone and _DATE.fullmatch(chars) is None
        # an IBAN or card number is looked for here also when it is already counted but the phone
        # check is pending: a run that is all IBAN or card is then spared the (costly) phone matcher
        iban_span = _iban_span(text, start, end) if check_phone or not iban else None
        card_span = (
            _card_span(text, start, end) if digits >= _MIN_CARD_DIGITS and (check_phone or not card) else None
        )
        iban = iban or iban_span is not None
        card = card or card_span is not None
        if check_phone and not _covers(iban_span, start, end) and not _covers(card_span, start, end):
            phone = _has_phone(text, start, end, region)
        if not ip and "." in chars:
            ip = _IPV4.search(text, start, end + 2) is not None
        if phone and iban and card and ip:
            break
    if not ip and ("::" in text or text.count(":") >= 7):
        ip = _has_ipv6(text)
    return (email, phone, iban, card, ip)


def _as_text(value: Any) -> str | None:
    """The value as text, or None for a missing value (None, NaN, pd.NA, NaT)."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def count_pii(values: Iterable[str | None], region: str = "GB") -> dict[str, int]:
    """Count the values (cells) that contain personal data, per kind.

    Args:
        values: the cells of one column. ``None`` and other missing markers (NaN, ``pd.NA``)
            are skipped; bytes are decoded as UTF-8; any other non-text value is read as
            ``str(value)``.
        region: the ISO 3166 alpha-2 region whose national phone format is assumed for
            numbers written without a ``+`` country code (numbers with one are found for
            every region).

    Returns:
        ``{kind: number of values with at least one hit of that kind}`` for every kind in
        :data:`PII_KINDS`, zeros included. Only counts: no value, nor any part of one, is
        returned, kept or logged.
    """
    # each distinct text is checked once and counts as often as it occurs (codes, statuses and
    # templated notes repeat a lot); the tally lives only for this call
    return count_pii_tally(Counter(_as_text(value) for value in values).items(), region)


def count_pii_tally(tally: Iterable[tuple[Any, int]], region: str = "GB") -> dict[str, int]:
    """:func:`count_pii` over ``(value, how many cells hold it)`` pairs, e.g. a column's value counts."""
    region = region.upper()
    totals = [0] * len(PII_KINDS)
    for value, cells in tally:
        text = _as_text(value)
        if not text or not cells:
            continue
        for i, hit in enumerate(_kinds_in(text, region)):
            if hit:
                totals[i] += cells
    return dict(zip(PII_KINDS, totals, strict=True))


def _is_text_column(dtype: Any) -> bool:
    return isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype)


def scan_columns(frame: pd.DataFrame, region: str = "GB") -> dict[str, dict[str, int]]:
    """Count personal data in every text column of a data frame.

    Args:
        frame: the rows of one production source.
        region: the default phone region, as for :func:`count_pii`.

    Returns:
        ``{column name: count_pii(column)}`` for every text column (``object`` or string
        dtype), zero counts included, keyed by ``str(column name)`` and sorted by it, so the
        result is complete and the same for the same data. Columns of other dtypes (numbers,
        dates, categories) are not scanned. Duplicate column names have their counts added up.
    """
    scanned: dict[str, dict[str, int]] = {}
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]
        if not _is_text_column(column.dtype):
            continue
        counts = count_pii(column, region=region)
        key = str(name)
        if key in scanned:
            counts = {kind: scanned[key][kind] + counts[kind] for kind in PII_KINDS}
        scanned[key] = counts
    return {key: scanned[key] for key in sorted(scanned)}


# What any hit needs (RE2 syntax, for Arrow): an "@" (e-mail), four digits each at most three characters
# after the previous one (a superset of _RUN, where phones, IBANs, cards and IPv4 addresses are looked
# for), or the colons of an IPv6 address. A value without one yields no hit whatever its content.
CANDIDATE_RE2 = r"@|::|\p{Nd}(?:[^\p{Nd}]{0,3}\p{Nd}){3}|(?:[^:]*:){7}"


def scan_table(table: Any, region: str = "GB") -> dict[str, dict[str, int]]:
    """:func:`scan_columns` for a ``pyarrow.Table``: every string column, the same counts.

    Values that cannot hold a hit (see CANDIDATE_RE2) are dropped in Arrow, and the rest are counted
    from their distinct values, so a repeated value becomes a Python string once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    scanned: dict[str, dict[str, int]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        # only a value with a candidate can count; Arrow's regex engine skips the rest in bulk
        column = pc.filter(column, pc.match_substring_regex(column, CANDIDATE_RE2))
        counts = pc.value_counts(column)
        tally = zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
        found = count_pii_tally(tally, region)
        if name in scanned:
            found = {kind: scanned[name][kind] + found[kind] for kind in PII_KINDS}
        scanned[name] = found
    return {key: scanned[key] for key in sorted(scanned)}


_MASK_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_MASK_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def mask_pii(text: str) -> str:
    """The text with e-mail addresses and long digit runs (phones, cards, IBAN digits) masked.

    For showing example items in a report: deliberately broader than detection, since a missed
    mask would leak a value.
    """
    text = _MASK_EMAIL.sub("[email]", text)
    return _MASK_NUMBER.sub("[number]", text)
