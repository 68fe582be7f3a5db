"""The append-only audit log of an output folder, one JSON record a line, hash-chained, anchored and keyed.

What protects what:

- **The hash chain.** Each record carries ``prev_hash`` (the previous record's ``hash``) and its own
  ``hash``: the SHA-256 of its canonical JSON without the ``hash`` field. Editing, removing, inserting or
  reordering a record breaks the chain, and :func:`verify_log` names the line. The chain alone does not
  notice records dropped from the end, nor a rewrite that recomputes every hash after the edit.
- **The head anchor.** Every append also moves the log's head (last ``seq`` and ``hash``) in the output
  folder's ledger (``ledger.sqlite``, table ``audit_head``), and the record says ``anchored: true``. A log
  that ends before or after its head, or whose record at the head differs from it, is reported: this
  detects truncation, a dropped tail and a rewritten log by someone who leaves the ledger alone (or removes
  it: anchored records without a head are reported too). Someone who edits the ledger as well is not caught
  by the anchor. A log written before heads were kept verifies as before, with a note that it is not
  anchored. (A crash between writing a record and moving the head reads as tampering — in the evidence's
  favour.)
- **The HMAC.** When ``RESCUE_AUDIT_KEY`` is set (keep the key outside the output folder, e.g. in a secret
  store), each record also carries ``hmac``, an HMAC-SHA256 under that key of the record without ``hash``
  and ``hmac``, and ``key_id``, a short fingerprint of the key (never the key). With the key set,
  :func:`verify_log` checks every HMAC: any rewrite by someone without the key is detected, even with the
  chain and the ledger's head recomputed; so is a record without an HMAC after one with it (a keyed log
  stays keyed: :func:`append_record` refuses to append to it without the key). A log stripped of every HMAC
  reads as an unkeyed log: the report says how many HMACs were checked.
- **Nothing** protects against someone who holds the key and can write to everything (log, ledger,
  artifacts): they can rewrite the history consistently.

:func:`verify_artifacts` compares each artifact in the folder with the last ``artifact`` record that wrote
it: an artifact edited after it was written, or one no record wrote, is named.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import hmac as hmac_
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .errors import LogTampered, RescueError
from .hashing import file_sha256
from .ledger import Ledger, read_log_head
from .spec.secrets import redact_json

LOG_NAME = "audit-log.jsonl"
GENESIS = "0" * 64
KEY_ENV = "RESCUE_AUDIT_KEY"


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    """The hash a record must carry: SHA-256 of its canonical JSON without ``hash``."""
    return hashlib.sha256(_canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


def audit_key() -> bytes | None:
    """The audit log's HMAC key from ``RESCUE_AUDIT_KEY`` (None when it is not set or empty)."""
    value = os.environ.get(KEY_ENV, "")
    return value.encode() if value else None


def key_id(key: bytes) -> str:
    """A short fingerprint naming a key in the records (it does not reveal the key)."""
    return hashlib.sha256(b"rescue-audit-key-id\0" + key).hexdigest()[:16]


def record_hmac(record: dict[str, Any], key: bytes) -> str:
    """The HMAC a keyed record must carry: HMAC-SHA256 of its canonical JSON without ``hash`` and ``hmac``."""
    body = _canonical({k: v for k, v in record.items() if k not in ("hash", "hmac")})
    return hmac_.new(key, body, hashlib.sha256).hexdigest()


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _last_line(fh: Any) -> bytes | None:
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    if size == 0:
        return None
    block = min(size, 1 << 16)
    while True:
        fh.seek(size - block)
        tail = fh.read(block).rstrip(b"\n")
        if b"\n" in tail or block == size:
            return tail.rsplit(b"\n", 1)[-1]
        block = min(size, block * 4)


def _line_count(fh: Any) -> int:
    fh.seek(0)
    return sum(1 for _ in fh)


def append_record(out: str | Path, event: str, **fields: Any) -> dict[str, Any]:
    """Append one record to ``out``'s audit log, move the log's head in ``out``'s ledger, return the record.

    Adds when (UTC), who (OS user), host and rescue version; with ``RESCUE_AUDIT_KEY`` set, the record's HMAC
    and the key's id. ``fields`` must be JSON-able and hold no item text, output or secret.
    Refuses (RescueError) to append to a keyed log without its key.
    """
    path = Path(out) / LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    key = audit_key()
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            last = _last_line(fh)
            try:
                prev = json.loads(last) if last else None
            except ValueError:  # a record cut short (a kill mid-write, a full disk) or an edit
                raise LogTampered(path, _line_count(fh), "is not a whole JSON record (cut short, or edited): "
                                  "rescue verify-log shows the log up to it; move the log aside to start a "
                                  "new one — nothing appended") from None  # fmt: skip
            if prev is not None and "hmac" in prev:
                if key is None:
                    raise RescueError(
                        f"{path} is keyed (its records carry an HMAC): set {KEY_ENV} to its key to append to it"
                    )
                if prev.get("key_id") != key_id(key):
                    raise RescueError(f"{path} is keyed with another key than {KEY_ENV}'s (key id "
                                      f"{prev.get('key_id')}, {KEY_ENV}'s is {key_id(key)}): nothing appended")  # fmt: skip
            record: dict[str, Any] = {
                "seq": (prev["seq"] + 1) if prev else 1,
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "user": _who(),
                "host": socket.gethostname(),
                "rescue_version": __version__,
                "event": event,
                **redact_json(fields),  # an error text may quote a secret: the log is never scrubbable later
                "anchored": True,
                "prev_hash": prev["hash"] if prev else GENESIS,
            }
            if key is not None:
                record["key_id"] = key_id(key)
                record["hmac"] = record_hmac(record, key)
            record["hash"] = record_hash(record)
            with Ledger(path.parent) as ledger:
                head = ledger.log_head(LOG_NAME)
                # the head moves only from where the log ended: a log that no longer ends at its head (truncated,
                # rewritten) keeps the old head, so the next verification still sees what happened
                follows = (head is None and prev is None) or (
                    head is not None
                    and prev is not None
                    and (head.seq, head.hash) == (prev["seq"], prev["hash"])
                )
                if head is None and prev is not None and "anchored" not in prev:
                    follows = True  # a log begun before heads were kept: anchored from here on
                fh.seek(0, os.SEEK_END)
                fh.write(_canonical(record) + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
                if follows:
                    ledger.set_log_head(LOG_NAME, record["seq"], record["hash"])
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return record


def read_log(out: str | Path) -> list[dict[str, Any]]:
    """All records of ``out``'s audit log (empty when there is none); does not verify."""
    path = Path(out) / LOG_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass(frozen=True)
class LogReport:
    """What :func:`check_log` verified: the records, whether the ledger anchors the log, the HMACs checked."""

    records: int
    anchored: bool
    hmacs_checked: int
    notes: list[str] = field(default_factory=list)


def _log_path(out: str | Path) -> Path:
    return Path(out) / LOG_NAME if Path(out).is_dir() else Path(out)


def check_log(out: str | Path) -> LogReport:
    """Check the whole chain, the ledger's head and (with ``RESCUE_AUDIT_KEY`` set) every HMAC.

    Returns what was verified, with notes on what could not be (an unanchored or unkeyed log); raises
    LogTampered naming the line on any break.
    """
    path = _log_path(out)
    if not path.exists():
        raise LogTampered(path, 0, "is missing: there is no audit log here")
    key = audit_key()
    head = read_log_head(path.parent, path.name)
    hash_at_head = None
    prev_hash = GENESIS
    count = 0
    last_anchored = 0  # the line of the last record that says it is anchored
    first_keyed = 0
    hmacs_checked = hmacs_unchecked = 0
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                raise LogTampered(path, lineno, "is blank: records were removed or the file edited")
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise LogTampered(path, lineno, "is not valid JSON") from None
            if not isinstance(record, dict) or "hash" not in record:
                raise LogTampered(path, lineno, "has no hash")
            if record.get("prev_hash") != prev_hash:
                raise LogTampered(path, lineno, "does not follow the record before it (prev_hash differs)")
            if record_hash(record) != record["hash"]:
                raise LogTampered(path, lineno, "was altered after it was written (hash differs)")
            if record.get("seq") != count + 1:
                raise LogTampered(path, lineno, f"has seq {record.get('seq')}, expected {count + 1}")
            if "hmac" in record:
                first_keyed = first_keyed or lineno
                if key is None:
                    hmacs_unchecked += 1
                elif record.get("key_id") != key_id(key):
                    raise LogTampered(path, lineno, f"is keyed with another key (key id {record.get('key_id')}; "
                                                    f"{KEY_ENV}'s is {key_id(key)})")  # fmt: skip
                elif not hmac_.compare_digest(str(record["hmac"]), record_hmac(record, key)):
                    raise LogTampered(path, lineno, "was rewritten by someone without the key (HMAC differs)")
                else:
                    hmacs_checked += 1
            elif first_keyed:
                raise LogTampered(path, lineno, f"carries no HMAC though record {first_keyed} does: "
                                                "records were rewritten without the key")  # fmt: skip
            if record.get("anchored"):
                last_anchored = lineno
            prev_hash = record["hash"]
            count += 1
            if head is not None and count == head.seq:
                hash_at_head = prev_hash
    notes = []
    if head is None:
        if last_anchored:
            raise LogTampered(path, last_anchored, "says it is anchored in ledger.sqlite, but the ledger holds no "
                                                   "head for this log: the ledger was removed or replaced")  # fmt: skip
        if count:
            notes.append("the log is not anchored (written before rescue kept its head in ledger.sqlite): "
                         "records dropped from its end cannot be detected")  # fmt: skip
    elif head.seq > count:
        raise LogTampered(path, count + 1, f"is missing: the ledger's head says the log has {head.seq} records, "
                                           f"it ends after {count} (records were removed from its end)")  # fmt: skip
    elif hash_at_head != head.hash:
        raise LogTampered(path, head.seq, "is not the record the ledger anchored (its hash differs from the "
                                          "ledger's head): the log was rewritten")  # fmt: skip
    elif head.seq < count:
        raise LogTampered(path, head.seq + 1, f"follows the ledger's head (record {head.seq}): it was not "
                                              "appended by rescue, or the ledger is an older copy")  # fmt: skip
    if hmacs_unchecked:
        notes.append(
            f"{hmacs_unchecked} record(s) carry an HMAC that was not checked: set {KEY_ENV} to check them"
        )
    elif key is not None and not hmacs_checked and count:
        notes.append(f"no record carries an HMAC (written without {KEY_ENV}): a rewrite that recomputes the "
                     "chain cannot be told from the original")  # fmt: skip
    elif hmacs_checked and first_keyed > 1:
        notes.append(f"records 1–{first_keyed - 1} carry no HMAC (written before the key was set)")
    return LogReport(count, head is not None, hmacs_checked, notes)


def verify_log(out: str | Path) -> int:
    """Check the whole chain, the ledger's head and any HMAC (:func:`check_log`); return the number of
    records or raise LogTampered naming the line."""
    return check_log(out).records


def artifact_names() -> list[str]:
    """The names of the artifacts an output folder can hold (``gap``, ``eval_position``…)."""
    from .models import MODELS

    return list(MODELS)


def verify_artifacts(out: str | Path) -> list[str]:
    """Each artifact in ``out`` that does not match the last audit record that wrote it, or that no record
    wrote, named with why (empty when every artifact matches). Does not verify the log itself."""
    out = Path(out)
    try:
        records = read_log(out)
    except (OSError, ValueError):
        records = []
    written: dict[str, tuple[int, str]] = {}
    for r in records:
        if isinstance(r, dict) and r.get("event") == "artifact" and isinstance(r.get("outputs"), dict):
            for name, sha in r["outputs"].items():
                written[name] = (r.get("seq", 0), sha)
    problems = []
    names = sorted({f"{n}.json" for n in artifact_names()} | set(written))
    for name in names:
        path = out / name
        if name not in written:
            if path.exists():
                problems.append(f"{name} was not written by rescue: no audit record holds it")
            continue
        seq, sha = written[name]
        if not path.exists():
            problems.append(f"{name} is missing: audit record {seq} wrote it (sha256 {sha[:12]}…)")
        elif (current := file_sha256(path)) != sha:
            problems.append(f"{name} was changed after rescue wrote it: its sha256 is {current[:12]}…, "
                            f"audit record {seq} wrote {sha[:12]}…")  # fmt: skip
    return problems
