"""The audit log: append-only, hash-chained, anchored in the ledger, keyed; any edit, removal, reordering,
dropped tail or recomputed chain is detected, and so is an artifact that is not the one its record wrote."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rescue.auditlog import (
    GENESIS,
    KEY_ENV,
    LOG_NAME,
    append_record,
    check_log,
    read_log,
    record_hash,
    verify_artifacts,
    verify_log,
)
from rescue.errors import LogTampered, RescueError
from rescue.hashing import file_sha256
from rescue.ledger import LEDGER_NAME, Ledger, read_log_head


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


# --- the head anchor (ledger.sqlite), the HMAC (RESCUE_AUDIT_KEY), the artifacts against their records ---


def _rechain(path: Path, records: list[dict]) -> None:
    """Write ``records`` as a valid chain (seq, prev_hash and hash recomputed): what a forger without the key does."""
    prev = GENESIS
    lines = []
    for seq, record in enumerate(records, start=1):
        record = {**record, "seq": seq, "prev_hash": prev}
        record["hash"] = record_hash(record)
        prev = record["hash"]
        lines.append(json.dumps(record))
    _rewrite(path, lines)


def test_a_dropped_tail_is_detected_by_the_head_in_the_ledger(tmp_path: Path) -> None:
    path = _log(tmp_path, 5)
    assert check_log(tmp_path).anchored
    _rewrite(path, path.read_text().splitlines()[:3])  # the chain of the first three is intact
    with pytest.raises(LogTampered) as info:
        verify_log(tmp_path)
    assert info.value.line == 4 and "removed from its end" in str(info.value)
    assert read_log_head(tmp_path, LOG_NAME).seq == 5


def test_appending_to_a_truncated_log_does_not_hide_the_truncation(tmp_path: Path) -> None:
    path = _log(tmp_path, 5)
    _rewrite(path, path.read_text().splitlines()[:3])
    append_record(tmp_path, "after")  # rescue carries on: the head stays where the log ended
    append_record(tmp_path, "after")
    append_record(tmp_path, "after")
    with pytest.raises(LogTampered, match="not the record the ledger anchored"):
        verify_log(tmp_path)


def test_a_recomputed_chain_is_detected_by_the_head_when_the_ledger_is_left_alone(tmp_path: Path) -> None:
    path = _log(tmp_path, 4)
    records = read_log(tmp_path)
    records[1]["parameters"]["out"] = "/somewhere/else"
    _rechain(path, records)
    with pytest.raises(LogTampered) as info:
        verify_log(tmp_path)
    assert info.value.line == 4 and "rewritten" in str(info.value)


def test_a_removed_ledger_is_detected(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    (tmp_path / LEDGER_NAME).unlink()
    with pytest.raises(LogTampered, match="ledger holds no head"):
        verify_log(tmp_path)


def test_a_log_written_before_the_anchor_still_verifies_with_a_note(tmp_path: Path) -> None:
    path = _log(tmp_path, 3)
    (tmp_path / LEDGER_NAME).unlink()
    _rechain(
        path, [{k: v for k, v in r.items() if k != "anchored"} for r in read_log(tmp_path)]
    )  # an old log
    report = check_log(tmp_path)
    assert (report.records, report.anchored) == (3, False)
    assert any("not anchored" in n for n in report.notes)
    append_record(tmp_path, "new")  # anchored from here on
    report = check_log(tmp_path)
    assert (report.records, report.anchored, report.notes) == (4, True, [])


KEY = "k3y-kept-outside-the-output-folder"


def test_with_the_key_a_recomputed_chain_and_head_are_detected(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    path = _log(tmp_path, 4)
    records = read_log(tmp_path)
    assert all(r["hmac"] and r["key_id"] for r in records)
    assert KEY not in path.read_text()
    report = check_log(tmp_path)
    assert (report.records, report.anchored, report.hmacs_checked, report.notes) == (4, True, 4, [])
    records[1]["user"] = "mallory"
    _rechain(path, records)
    with Ledger(tmp_path) as ledger:  # the forger moves the head too
        ledger.set_log_head(LOG_NAME, 4, read_log(tmp_path)[-1]["hash"])
    with pytest.raises(LogTampered) as info:
        verify_log(tmp_path)
    assert info.value.line == 2 and "without the key" in str(info.value)


def test_with_the_key_stripped_hmacs_are_detected(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    path = _log(tmp_path, 4)
    records = read_log(tmp_path)
    records[2:] = [{k: v for k, v in r.items() if k not in ("hmac", "key_id")} for r in records[2:]]
    records[3]["event"] = "forged"
    _rechain(path, records)
    with Ledger(tmp_path) as ledger:
        ledger.set_log_head(LOG_NAME, 4, read_log(tmp_path)[-1]["hash"])
    with pytest.raises(LogTampered) as info:
        verify_log(tmp_path)
    assert info.value.line == 3 and "no HMAC" in str(info.value)


def test_a_keyed_log_wants_its_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    _log(tmp_path, 2)
    monkeypatch.setenv(KEY_ENV, "another key")
    with pytest.raises(LogTampered, match="another key"):
        verify_log(tmp_path)
    with pytest.raises(RescueError, match="another key"):
        append_record(tmp_path, "x")
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(RescueError, match="is keyed"):
        append_record(tmp_path, "x")
    report = check_log(tmp_path)  # without the key the chain and head still verify; the HMACs wait
    assert report.records == 2 and "not checked" in report.notes[0]


def test_a_key_set_for_an_unkeyed_log_is_noted(tmp_path: Path, monkeypatch) -> None:
    _log(tmp_path, 2)
    monkeypatch.setenv(KEY_ENV, KEY)
    assert "no record carries an HMAC" in check_log(tmp_path).notes[0]
    append_record(tmp_path, "keyed")
    report = check_log(tmp_path)
    assert report.hmacs_checked == 1 and "records 1–2 carry no HMAC" in report.notes[0]


def test_artifacts_are_checked_against_the_record_that_wrote_them(tmp_path: Path) -> None:
    (tmp_path / "gap.json").write_text('{"v": 1}\n')
    append_record(
        tmp_path, "artifact", artifact="gap", outputs={"gap.json": file_sha256(tmp_path / "gap.json")}
    )
    assert verify_artifacts(tmp_path) == []
    (tmp_path / "gap.json").write_text('{"v": 2}\n')  # edited after it was written
    (tmp_path / "eval_position.json").write_text("{}\n")  # written by no record
    problems = verify_artifacts(tmp_path)
    assert len(problems) == 2
    assert problems[0].startswith("eval_position.json was not written by rescue")
    assert (
        problems[1].startswith("gap.json was changed after rescue wrote it")
        and "audit record 1" in problems[1]
    )
    append_record(
        tmp_path, "artifact", artifact="gap", outputs={"gap.json": file_sha256(tmp_path / "gap.json")}
    )
    assert verify_artifacts(tmp_path) == problems[:1]  # the last record that wrote it counts


def test_a_cut_last_record_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    append_record(tmp_path, "artifact", artifact="gap")
    append_record(tmp_path, "artifact", artifact="data_picture")
    log = tmp_path / LOG_NAME
    text = log.read_text()
    log.write_text(text[: len(text) - 40])  # a kill in the middle of writing the last record
    with pytest.raises(LogTampered, match="is not a whole JSON record") as info:
        append_record(tmp_path, "artifact", artifact="eval_set")
    assert info.value.line == 2 and log.read_text() == text[: len(text) - 40]  # nothing appended


def test_a_secret_in_a_record_is_redacted_before_it_is_chained(tmp_path: Path, monkeypatch) -> None:
    from rescue.spec import SecretRef

    monkeypatch.setenv("RESCUE_LOG_DSN", "postgresql://dana:Lg-S3cret-Pw@db.internal/crm")
    SecretRef("RESCUE_LOG_DSN").resolve()  # rescue resolved it: from now on it is kept out of what is written
    append_record(
        tmp_path, "workbook", error="could not connect to postgresql://dana:Lg-S3cret-Pw@db.internal/crm"
    )
    assert "Lg-S3cret-Pw" not in (tmp_path / LOG_NAME).read_text()
    assert read_log(tmp_path)[-1]["error"] == "could not connect to ${RESCUE_LOG_DSN}"
    assert verify_log(tmp_path) == 1
