"""The append-only audit log of an output folder, one JSON record a line, hash-chained.

Each record carries ``prev_hash`` (the previous record's ``hash``) and its own ``hash``: the
SHA-256 of its canonical JSON without the ``hash`` field. Editing, removing or reordering a
record breaks the chain, and :func:`verify_log` names the line.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .errors import LogTampered

LOG_NAME = "audit-log.jsonl"
GENESIS = "0" * 64


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    """The hash a record must carry: SHA-256 of its canonical JSON without ``hash``."""
    return hashlib.sha256(_canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


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


def append_record(out: str | Path, event: str, **fields: Any) -> dict[str, Any]:
    """Append one record to ``out``'s audit log and return it (with its hash).

    Adds when (UTC), who (OS user), host and rescue version. ``fields`` must be JSON-able.
    """
    path = Path(out) / LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            last = _last_line(fh)
            prev = json.loads(last) if last else None
            record: dict[str, Any] = {
                "seq": (prev["seq"] + 1) if prev else 1,
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "user": _who(),
                "host": socket.gethostname(),
                "rescue_version": __version__,
                "event": event,
                **fields,
                "prev_hash": prev["hash"] if prev else GENESIS,
            }
            record["hash"] = record_hash(record)
            fh.seek(0, os.SEEK_END)
            fh.write(_canonical(record) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return record


def read_log(out: str | Path) -> list[dict[str, Any]]:
    """All records of ``out``'s audit log (empty when there is none); does not verify."""
    path = Path(out) / LOG_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def verify_log(out: str | Path) -> int:
    """Check the whole chain; return the number of records or raise LogTampered naming the line."""
    path = Path(out) / LOG_NAME if Path(out).is_dir() else Path(out)
    if not path.exists():
        raise LogTampered(path, 0, "is missing: there is no audit log here")
    prev_hash = GENESIS
    count = 0
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
            prev_hash = record["hash"]
            count += 1
    return count
