"""The ledger: every PoC call, keyed by (dataset, item, system, config, repeat), in one SQLite file.

It is the cache, the resume point, the pairing key and the audit trail. Each call is committed the
moment it finishes (WAL journal), so a run killed with SIGKILL loses no finished call and the next
run repeats none. It also keeps the head of the output folder's audit log (``audit_head``, see
:mod:`rescue.auditlog`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .spec.secrets import redact

LEDGER_NAME = "ledger.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    dataset TEXT NOT NULL,
    item TEXT NOT NULL,
    system TEXT NOT NULL,
    config TEXT NOT NULL,
    repeat INTEGER NOT NULL,
    input_hash TEXT NOT NULL,
    output TEXT,
    error TEXT,
    error_kind TEXT,
    latency_ms REAL,
    attempts INTEGER NOT NULL,
    tokens_in INTEGER,
    tokens_out INTEGER,
    cost_eur REAL,
    created_at TEXT NOT NULL,
    raw_output TEXT,               -- the answer as the PoC returned it (an SDK object's fields), when not the output
    destinations TEXT,             -- where the call went on the network (host, port, connections), when watched
    spans TEXT,                    -- the HTTP requests the call sent (OpenTelemetry span attributes), when captured
    PRIMARY KEY (dataset, item, system, config, repeat)
);
CREATE TABLE IF NOT EXISTS label_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset TEXT NOT NULL,
    item TEXT NOT NULL,
    item_hash TEXT NOT NULL,
    labeler TEXT NOT NULL,
    action TEXT NOT NULL,          -- label | skip | flag | comment | undo
    label TEXT,
    comment TEXT,
    undoes INTEGER,
    created_at TEXT NOT NULL,
    label_origin TEXT              -- where a label comes from when no person gave it here (imported, derived…)
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,          -- e.g. the name a labeler gave, per OS account: "labeler_name:<account>"
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_head (
    log TEXT PRIMARY KEY,          -- the audit log's file name in the output folder
    seq INTEGER NOT NULL,          -- the last record's sequence number
    hash TEXT NOT NULL,            -- and its hash: a log that ends elsewhere was truncated or rewritten
    updated_at TEXT NOT NULL
)
"""
# Ledgers written before label_origin had its column kept it in the comment of label events ("label_origin=…").
_MIGRATE_LABEL_ORIGIN = (
    "ALTER TABLE label_events ADD COLUMN label_origin TEXT",
    "UPDATE label_events SET label_origin = substr(comment, 14), comment = NULL "
    "WHERE action = 'label' AND comment LIKE 'label_origin=%'",
)


@dataclass(frozen=True)
class Call:
    """One recorded call. ``output`` is the parsed answer; ``error`` is set when the call failed."""

    dataset: str
    item: str
    system: str
    config: str
    repeat: int
    input_hash: str
    output: Any
    error: str | None
    error_kind: str | None
    latency_ms: float | None
    attempts: int
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_eur: float | None = None
    cached: bool = False
    raw: Any = None
    """The answer as the system returned it (an SDK response's fields) when ``output`` is its normalised form."""
    destinations: list[dict[str, Any]] | None = None
    """Where the call went on the network (:mod:`rescue.systems.watch`), when it was watched."""
    spans: list[dict[str, Any]] | None = None
    """The HTTP requests the call sent (:mod:`rescue.systems.spans`), when they were captured."""

    @property
    def ok(self) -> bool:
        return self.error is None


class Ledger:
    """A thread-safe handle on ``out/ledger.sqlite``."""

    def __init__(self, out: str | Path):
        path = Path(out) / LEDGER_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._con = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a ledger written by an older rescue up to this schema (in one transaction)."""
        calls = {row[1] for row in self._con.execute("PRAGMA table_info(calls)")}
        for column in ("raw_output", "destinations", "spans"):  # in this order: a row is read by position
            if column not in calls:
                # another process may have added it meanwhile
                with self._lock, contextlib.suppress(sqlite3.OperationalError):
                    self._con.execute(f"ALTER TABLE calls ADD COLUMN {column} TEXT")
        columns = {row[1] for row in self._con.execute("PRAGMA table_info(label_events)")}
        if "label_origin" in columns:
            return
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                columns = {row[1] for row in self._con.execute("PRAGMA table_info(label_events)")}
                if "label_origin" not in columns:  # another process may have migrated it meanwhile
                    for statement in _MIGRATE_LABEL_ORIGIN:
                        self._con.execute(statement)
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def done(self, dataset: str, system: str, config: str, repeat: int = 0) -> dict[str, Call]:
        """The calls already recorded for this dataset/system/config, by item (marked as cached)."""
        with self._lock:
            rows = self._con.execute(
                "SELECT * FROM calls WHERE dataset=? AND system=? AND config=? AND repeat=?",
                (dataset, system, config, repeat),
            ).fetchall()
        return {row[1]: _call(row, cached=True) for row in rows}

    def record(self, call: Call) -> None:
        """Commit one finished call at once. The first answer for a key wins; a call replaces the recorded one
        only when that one was for a different input (the item changed) or failed (a re-run retried it)."""
        with self._lock:
            self._con.execute(
                "INSERT INTO calls (dataset, item, system, config, repeat, input_hash, output, error, error_kind, "
                "latency_ms, attempts, tokens_in, tokens_out, cost_eur, created_at, raw_output, destinations, spans) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (dataset, item, system, config, repeat) DO UPDATE SET "
                "input_hash=excluded.input_hash, output=excluded.output, error=excluded.error, "
                "error_kind=excluded.error_kind, latency_ms=excluded.latency_ms, attempts=excluded.attempts, "
                "tokens_in=excluded.tokens_in, tokens_out=excluded.tokens_out, cost_eur=excluded.cost_eur, "
                "created_at=excluded.created_at, raw_output=excluded.raw_output, destinations=excluded.destinations, "
                "spans=excluded.spans "
                "WHERE calls.input_hash != excluded.input_hash OR calls.error IS NOT NULL",
                (
                    call.dataset, call.item, call.system, call.config, call.repeat, call.input_hash,
                    None if call.output is None else redact(json.dumps(call.output, ensure_ascii=False, default=str)),
                    None if call.error is None else redact(call.error), call.error_kind, call.latency_ms, call.attempts, call.tokens_in,
                    call.tokens_out, call.cost_eur, datetime.now(UTC).isoformat(timespec="milliseconds"),
                    None if call.raw is None else redact(json.dumps(call.raw, ensure_ascii=False, default=str)),
                    None if call.destinations is None else redact(json.dumps(call.destinations, default=str)),
                    None if call.spans is None else redact(json.dumps(call.spans, ensure_ascii=False, default=str)),
                ),
            )  # fmt: skip

    def add_label_event(
        self,
        dataset: str,
        item: str,
        item_hash: str,
        labeler: str,
        action: str,
        label: str | None = None,
        comment: str | None = None,
        undoes: int | None = None,
        label_origin: str | None = None,
    ) -> int:
        """Append one labeling event and commit it at once; returns its id. ``label_origin`` says where an
        imported label comes from (None: a label given here, by ``labeler``)."""
        with self._lock:
            cur = self._con.execute(
                "INSERT INTO label_events (dataset, item, item_hash, labeler, action, label, comment, undoes, created_at,"
                " label_origin) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (dataset, item, item_hash, labeler, action, label, comment, undoes,
                 datetime.now(UTC).isoformat(timespec="milliseconds"), label_origin),
            )  # fmt: skip
            return int(cur.lastrowid or 0)

    def label_events(self, dataset: str) -> list[dict[str, Any]]:
        """Every labeling event of ``dataset`` in the order given."""
        with self._lock:
            cur = self._con.execute("SELECT * FROM label_events WHERE dataset=? ORDER BY id", (dataset,))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def count(self, dataset: str | None = None) -> int:
        with self._lock:
            if dataset is None:
                return self._con.execute("SELECT count(*) FROM calls").fetchone()[0]
            return self._con.execute("SELECT count(*) FROM calls WHERE dataset=?", (dataset,)).fetchone()[0]

    def setting(self, key: str) -> str | None:
        """A value this output folder remembers (the labeler's name, for one), or None."""
        with self._lock:
            row = self._con.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        """Remember ``value`` under ``key`` for this output folder (committed at once)."""
        with self._lock:
            self._con.execute(
                "INSERT INTO settings VALUES (?,?,?) ON CONFLICT (key) DO UPDATE SET "
                "value=excluded.value, updated_at=excluded.updated_at",
                (key, value, datetime.now(UTC).isoformat(timespec="milliseconds")),
            )

    def log_head(self, log: str) -> LogHead | None:
        """The head (last sequence number and hash) of audit log ``log`` as last appended, or None."""
        with self._lock:
            row = self._con.execute("SELECT seq, hash FROM audit_head WHERE log=?", (log,)).fetchone()
        return None if row is None else LogHead(int(row[0]), str(row[1]))

    def set_log_head(self, log: str, seq: int, hash: str) -> None:
        """Move the head of audit log ``log`` to record ``seq`` with ``hash`` (committed at once)."""
        with self._lock:
            self._con.execute(
                "INSERT INTO audit_head VALUES (?,?,?,?) ON CONFLICT (log) DO UPDATE SET "
                "seq=excluded.seq, hash=excluded.hash, updated_at=excluded.updated_at",
                (log, seq, hash, datetime.now(UTC).isoformat(timespec="milliseconds")),
            )


@dataclass(frozen=True)
class LogHead:
    """Where an audit log ended when rescue last appended to it."""

    seq: int
    hash: str


def read_log_head(out: str | Path, log: str) -> LogHead | None:
    """The head of audit log ``log`` kept in ``out``'s ledger, read without creating or changing anything:
    None when there is no ledger, or it holds no head (a ledger written before heads were kept)."""
    path = Path(out) / LEDGER_NAME
    if not path.exists():
        return None
    con = sqlite3.connect(str(path))
    try:
        row = con.execute("SELECT seq, hash FROM audit_head WHERE log=?", (log,)).fetchone()
    except sqlite3.OperationalError:  # no audit_head table
        return None
    finally:
        con.close()
    return None if row is None else LogHead(int(row[0]), str(row[1]))


def _call(row: tuple[Any, ...], cached: bool) -> Call:
    output = json.loads(row[6]) if row[6] is not None else None
    raw = json.loads(row[15]) if len(row) > 15 and row[15] is not None else None
    destinations = json.loads(row[16]) if len(row) > 16 and row[16] is not None else None
    spans = json.loads(row[17]) if len(row) > 17 and row[17] is not None else None
    return Call(*row[:6], output, *row[7:14], cached=cached, raw=raw, destinations=destinations, spans=spans)
