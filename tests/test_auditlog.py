"""The audit log: append-only, hash-chained; any edit, removal or reordering is detected."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rescue.auditlog import GENESIS, LOG_NAME, append_record, read_log, record_hash, verify_log
from rescue.errors import LogTampered


def _log(tmp_path: Path, n: int = 4) -> Path:
    for i in range(n):
        append_record(tmp_path, "test", step=i, parameters={"out": str(tmp_path)})
    return tmp_path / LOG_NAME


def test_records_chain_and_carry_who_when_what(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    records = read_log(tmp_path)
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert records[0]["prev_hash"] == GENESIS
    assert records[1]["prev_hash"] == records[0]["hash"]
    for r in records:
        assert r["hash"] == record_hash(r)
        assert {"time", "user", "host", "rescue_version", "event"} <= set(r)
    assert verify_log(tmp_path) == 3


def _rewrite(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_edited_record_is_detected(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = path.read_text().splitlines()
    record = json.loads(lines[1])
    record["parameters"]["out"] = "/somewhere/else"
    lines[1] = json.dumps(record)
    _rewrite(path, lines)
    with pytest.raises(LogTampered) as info:
        verify_log(tmp_path)
    assert info.value.line == 2 and "altered" in str(info.value)


def test_edited_record_with_recomputed_hash_breaks_the_next_link(tmp_path: Path) -> None:
    path = _log(tmp_path)
    lines = path.read_text().splitlines()
    record = json.loads(lines[1])
    record["user"] = "mallory"
    record["hash"] = record_hash(record)
    lines[1] = json.dumps(record)
    _rewrite(path, lines)
    with pytest.raises(LogTampered) as info:
        verify_log(tmp_path)
    assert info.value.line == 3 and "prev_hash" in str(info.value)


@pytest.mark.parametrize(
    ("mutate", "line"),
    [
        (lambda lines: lines[:1] + lines[2:], 2),  # a record removed
        (lambda lines: [lines[1], lines[0], *lines[2:]], 1),  # reordered
        (lambda lines: [*lines[:2], "", *lines[2:]], 3),  # blank line inserted
        (lambda lines: [*lines[:2], "{not json", *lines[2:]], 3),
        (lambda lines: lines[1:], 1),  # the head cut off
    ],
)
def test_structural_tampering_is_detected(tmp_path: Path, mutate, line) -> None:
    path = _log(tmp_path)
    _rewrite(path, mutate(path.read_text().splitlines()))
    with pytest.raises(LogTampered) as info:
        verify_log(tmp_path)
    assert info.value.line == line


def test_missing_log_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LogTampered, match="no audit log"):
        verify_log(tmp_path)


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: append_record(tmp_path, "t", i=i), range(40)))
    assert verify_log(tmp_path) == 40
