"""Open production sources read-only through Ibis, with a statement timeout.

Every connection refuses writes at the driver level: SQLite ``mode=ro``, DuckDB ``read_only``,
Postgres ``default_transaction_read_only``; CSV/Parquet files are only read by an in-memory DuckDB
(files are never opened for writing); an HTTP source is fetched with GET only.
The DuckDB that reads a file source has a bounded ``memory_limit`` and spills past it into a private
temporary folder (:func:`limit_duckdb_memory`; ``RESCUE_DUCKDB_MEMORY_LIMIT`` overrides the limit), so
a table larger than memory is profiled on disk instead of failing.
Errors become :class:`~rescue.errors.SourceUnavailable` with a ``kind`` a person can act on.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import ibis

from ..errors import RescueError, SourceUnavailable
from ..spec import Source, Spec
from ..spec.secrets import redact, scrub_urls
from .sampling import splitmix64

# Ibis loads a backend on first use (``ibis.duckdb``): its entry point, and the SQL compilers every Ibis SQL
# backend shares (sqlglot's dialects), 0.1-0.2 s. Two load here instead, with this module: DuckDB, which reads
# every file source, and SQLite (Python's own driver; once the compilers are in, its backend is 10 ms). A day's
# kernel started ahead (rescue.kernels) then has them before its first cell, rather than its first source
# paying for them; the other backends (Postgres, Spark, warehouses) still load when a source needs them.
PRELOADED_BACKENDS = ("duckdb", "sqlite")
for _name in PRELOADED_BACKENDS:
    getattr(ibis, _name)

DEFAULT_TIMEOUT_S = 30.0
MEMORY_LIMIT_ENV = "RESCUE_DUCKDB_MEMORY_LIMIT"  # e.g. "4GB": replaces the rule of duckdb_memory_limit()
MEMORY_SHARE = 0.25  # of the machine's memory (or of the cgroup's limit when lower)
MEMORY_CAP_BYTES = 1 << 30  # what the profile of any table needs: past it DuckDB spills to disk
MEMORY_FLOOR_BYTES = 256 << 20
_SIZE_RE = re.compile(r"\s*[0-9]+(\.[0-9]+)?\s*(b|bytes|[kmgt]i?b)?\s*", re.IGNORECASE)
CGROUP_MEMORY_FILES = (
    Path("/sys/fs/cgroup/memory.max"),  # cgroup v2
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),  # cgroup v1
)


@dataclass
class OpenSource:
    """A read-only connection to one source: the Ibis backend and the table expression."""

    source: Source
    backend: Any
    table: Any
    connect_ms: float
    engine: str  # duckdb | sqlite | postgres | an Ibis backend's name (pyspark, trino, bigquery...)
    notes: list[str] = field(default_factory=list)
    _cleanup: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for fn in self._cleanup:
            with contextlib.suppress(Exception):  # closing must never mask the result
                fn()


def _missing(path: Path, source: Source) -> SourceUnavailable:
    return SourceUnavailable(source.name, "missing_file", f"file not found: {path}")


def _transcode_csv(path: Path, encoding: str, source: Source, tmpdir: Path) -> Path:
    """DuckDB reads UTF-8; re-encode a legacy-encoded CSV into a private temporary copy."""
    out = tmpdir / "source.utf8.csv"  # a plain name: DuckDB reads file names as glob patterns
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    try:
        with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                dst.write(decoder.decode(chunk))
                offset += len(chunk)
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise SourceUnavailable(
            source.name, "encoding", f"{path.name} is not valid {encoding} at byte {offset + exc.start}"
        ) from None
    return out


def _plain_path(path: Path, tmpdir: Path) -> Path:
    """A name for ``path`` that DuckDB reads as a file name: a link in a private folder.

    DuckDB takes the file names of read_csv/read_parquet as glob patterns, so ``crm[1]?.csv`` could read
    another file; the link's name has no pattern characters, and the file itself is only read.
    """
    link = tmpdir / ("source" + "".join(c for c in path.suffix if c.isalnum() or c == "."))
    link.symlink_to(path.resolve())
    return link


def machine_memory_bytes(cgroup_files: Collection[Path] = CGROUP_MEMORY_FILES) -> int | None:
    """The memory this process may use: the physical RAM, or the cgroup's limit when one is set and lower
    (``max``, or a v1 limit larger than the RAM, means no limit). None when neither can be read."""
    try:
        found = [os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")]
    except (ValueError, OSError, AttributeError):  # not a POSIX system that tells
        found = []
    for path in cgroup_files:
        with contextlib.suppress(OSError, ValueError):
            text = path.read_text().strip()
            if text and text != "max":
                found.append(int(text))
    found = [n for n in found if n > 0]
    return min(found) if found else None


def duckdb_memory_limit(environ: Mapping[str, str] | None = None) -> str:
    """The ``memory_limit`` rescue gives the DuckDB that reads a file source, as a DuckDB size.

    The rule: MEMORY_SHARE (a quarter) of :func:`machine_memory_bytes` (the RAM, or the cgroup's
    limit when lower), never more than MEMORY_CAP_BYTES (1 GiB, what the profile of any table needs:
    its largest operators, the hash aggregates over every row, spill to disk past it) nor less than
    MEMORY_FLOOR_BYTES (256 MiB). rescue shares the machine with production work, so it never takes
    DuckDB's default of 80% of the RAM. The environment variable ``RESCUE_DUCKDB_MEMORY_LIMIT``
    (a size such as ``4GB`` or ``512MiB``) replaces the rule; a value that is not a size raises
    ValueError naming the variable (which :func:`open_source` reports as the source's ``error``).
    """
    environ = os.environ if environ is None else environ
    override = environ.get(MEMORY_LIMIT_ENV, "").strip()
    if override:
        if not _SIZE_RE.fullmatch(override):
            raise ValueError(f"{MEMORY_LIMIT_ENV}={override!r} is not a size such as 4GB")
        return override
    memory = machine_memory_bytes()
    if memory is None:
        return f"{MEMORY_CAP_BYTES // (1 << 20)}MiB"
    limit = min(max(int(memory * MEMORY_SHARE), MEMORY_FLOOR_BYTES), MEMORY_CAP_BYTES)
    return f"{limit // (1 << 20)}MiB"


def limit_duckdb_memory(con: Any, spill_dir: Path) -> None:
    """Bound the memory of DuckDB connection ``con`` and let it spill to ``spill_dir`` instead of failing.

    ``memory_limit`` follows :func:`duckdb_memory_limit` (a quarter of the machine's or cgroup's memory,
    at most 1 GiB, or ``RESCUE_DUCKDB_MEMORY_LIMIT``). ``temp_directory`` is ``spill_dir``, a folder
    inside the source's private temporary folder (made 0700 under the system temp dir by
    ``tempfile``, removed when the source is closed), so a large profile writes its overflow there,
    never beside a source file (DuckDB's default for a database file) and never where another user can
    read it. Call before :func:`_lock_duckdb`, which freezes the configuration.
    """
    spill_dir.mkdir(mode=0o700, exist_ok=True)
    limit = duckdb_memory_limit().replace("'", "")
    con.raw_sql(f"SET memory_limit = '{limit}'")
    con.raw_sql("SET temp_directory = '" + str(spill_dir).replace("'", "''") + "'")


def _guard_duckdb(con: Any, timeout_s: float) -> None:
    # DuckDB has no statement timeout; a watchdog interrupts a query that runs too long
    con.raw_sql("SET threads TO 2")
    con._rescue_timeout_s = timeout_s


def _lock_duckdb(con: Any, readable: list[Path]) -> None:
    """Forbid every file operation except reading ``readable``, and freeze the configuration.

    An in-memory DuckDB could otherwise ``COPY ... TO`` over a source file or ``ATTACH`` another one.
    """
    if readable:
        paths = ", ".join("'" + str(p).replace("'", "''") + "'" for p in readable)
        con.raw_sql(f"SET allowed_paths = [{paths}]")
    con.raw_sql("SET enable_external_access = false")
    con.raw_sql("SET lock_configuration = true")


@contextmanager
def time_limit(opened: OpenSource) -> Iterator[None]:
    """Abort a query on ``opened`` that runs past the source's timeout (Postgres enforces it server-side)."""
    timeout_s = getattr(opened.backend, "_rescue_timeout_s", None)
    if opened.engine == "sqlite" and timeout_s:
        deadline = opened.backend._rescue_deadline
        deadline["t"] = time.monotonic() + timeout_s
        try:
            yield
        finally:
            deadline["t"] = None
    elif opened.engine == "duckdb" and timeout_s:
        timer = threading.Timer(timeout_s, opened.backend.con.interrupt)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
    else:
        yield


def open_source(spec: Spec, source: Source, timeout_s: float | None = None) -> OpenSource:
    """Connect to ``source`` read-only and return its table expression; raise SourceUnavailable if it cannot."""
    timeout_s = timeout_s or DEFAULT_TIMEOUT_S
    started = time.perf_counter()
    try:
        opened = _open(spec, source, timeout_s)
    except SourceUnavailable:
        raise
    except RescueError as exc:
        raise SourceUnavailable(source.name, "credentials", str(exc)) from None
    except Exception as exc:  # every driver raises its own types: name the failure for the user
        raise SourceUnavailable(source.name, classify_error(exc), error_line(exc)) from None
    opened.connect_ms = (time.perf_counter() - started) * 1000
    return opened


def error_line(exc: BaseException) -> str:
    """The first line of an error, with its type, at most 300 characters: URLs and DSNs reduced to their host
    and database, secrets redacted, and only then cut (a cut must never leave part of a secret)."""
    lines = [
        line.strip()
        for line in str(exc).splitlines()
        if line.strip() and not line.startswith("Original Line")
    ]
    text = lines[0] if lines else ""
    if "CSV Error" in text and len(lines) > 1:  # DuckDB says why on the next line
        text += f" — {lines[1]}"
        if "Maximum line size" in lines[1]:
            text += " (raise it with max_line_bytes on the source)"
    return redact(scrub_urls(f"{type(exc).__name__}: {text}"))[:300]


def classify_error(exc: BaseException) -> str:
    """The kind of a driver error: no_table, credentials, timeout, encoding, connection or error."""
    text = str(exc).lower()
    if "does not exist" in text or "no such table" in text or ("not found" in text and "table" in text):
        return "no_table"
    if "password" in text or "authentication" in text or "role" in text:
        return "credentials"
    if "timeout" in text or "canceling statement" in text or "interrupt" in text:
        return "timeout"
    if "unicode" in text or "utf-8" in text or "encoding" in text:
        return "encoding"
    if any(
        w in text
        for w in ("connection", "could not", "refused", "resolve host", "unreachable", "name or service")
    ):
        return "connection"
    return "error"


def _open(spec: Spec, source: Source, timeout_s: float) -> OpenSource:
    kind = source.kind
    if kind in ("csv", "parquet", "sqlite", "duckdb"):
        path = spec.path(source.location or "")
        if not path.is_file():
            raise _missing(path, source)
    if kind == "csv":
        tmp = tempfile.TemporaryDirectory(prefix="rescue-src-")
        con = ibis.duckdb.connect()
        _guard_duckdb(con, timeout_s)
        limit_duckdb_memory(con, Path(tmp.name) / "spill")
        notes = []
        encoding = (source.encoding or "utf-8").lower().replace("_", "-")
        if encoding not in ("utf-8", "utf8"):
            read_path = _transcode_csv(path, encoding, source, Path(tmp.name))
            notes.append(f"decoded from {source.encoding} into a private UTF-8 copy")
        else:
            read_path = _plain_path(path, Path(tmp.name))
        options: dict[str, Any] = {"all_varchar": True, "header": True}
        if source.delimiter:
            options["delim"] = source.delimiter
        if source.max_line_bytes:
            options["max_line_size"] = source.max_line_bytes
        table = con.read_csv(str(read_path), table_name=f"src_{source.name.replace('-', '_')}", **options)
        _lock_duckdb(con, [read_path])
        return OpenSource(source, con, table, 0.0, "duckdb", notes, [con.disconnect, tmp.cleanup])
    if kind == "parquet":
        tmp = tempfile.TemporaryDirectory(prefix="rescue-src-")
        con = ibis.duckdb.connect()
        _guard_duckdb(con, timeout_s)
        limit_duckdb_memory(con, Path(tmp.name) / "spill")
        read_path = _plain_path(path, Path(tmp.name))
        table = con.read_parquet(str(read_path), table_name=f"src_{source.name.replace('-', '_')}")
        _lock_duckdb(con, [read_path])
        return OpenSource(source, con, table, 0.0, "duckdb", [], [con.disconnect, tmp.cleanup])
    if kind == "duckdb":
        tmp = tempfile.TemporaryDirectory(prefix="rescue-src-")
        con = ibis.duckdb.connect(str(path), read_only=True)
        _guard_duckdb(con, timeout_s)
        limit_duckdb_memory(con, Path(tmp.name) / "spill")  # DuckDB would spill beside the database file
        table = _table(con, source)
        _lock_duckdb(con, [path])
        return OpenSource(source, con, table, 0.0, "duckdb", [], [con.disconnect, tmp.cleanup])
    if kind == "sqlite":
        # the path is URI-quoted: a '#' or '?' in it would otherwise end the path and drop mode=ro
        uri = f"file:{quote(str(path))}?mode=ro"
        raw = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=timeout_s)
        deadline = {"t": None}

        def abort_when_late() -> int:
            return 1 if deadline["t"] is not None and time.monotonic() > deadline["t"] else 0

        raw.set_progress_handler(abort_when_late, 10_000)
        # the seeded hash that draws a keyed sample (SQLite has no hash of its own); it reads, never writes
        raw.create_function("rescue_hash", 2, splitmix64, deterministic=True)
        con = ibis.sqlite.from_connection(raw)
        con._rescue_deadline = deadline
        con._rescue_timeout_s = timeout_s
        table = _table(con, source)
        return OpenSource(source, con, table, 0.0, "sqlite", [], [raw.close])
    if kind == "postgres":
        assert source.dsn is not None  # the spec requires it
        dsn = source.dsn.resolve(f"source {source.name}")
        options = f"-c default_transaction_read_only=on -c statement_timeout={int(timeout_s * 1000)}"
        con = ibis.postgres.connect(
            **_pg_params(dsn), options=options, connect_timeout=int(max(1, timeout_s))
        )
        table = _table(con, source)
        return OpenSource(source, con, table, 0.0, "postgres", [], [con.disconnect])
    if kind == "http":
        return _open_http(spec, source, timeout_s)
    if kind == "ibis":
        # Any Ibis backend by its URL (bigquery://, snowflake://, pyspark, trino://, duckdb://...).
        # rescue cannot force every engine read-only: the credentials must be a read-only role.
        assert source.dsn is not None  # the spec requires it
        url = source.dsn.resolve(f"source {source.name}")
        con = _spark_connect(url, timeout_s) if url.startswith("sc://") else ibis.connect(url)
        table = _table(con, source)
        note = f"{con.name} backend: read-only is enforced by the credentials' role, not by rescue"
        return OpenSource(source, con, table, 0.0, con.name, [note], [con.disconnect])
    raise SourceUnavailable(source.name, "error", f"unsupported kind {kind}")


def _spark_connect(url: str, timeout_s: float) -> Any:
    """An Ibis backend on a Spark cluster through Spark Connect (``sc://host:15002/;token=...``).

    Needs ``pyspark[connect]`` where rescue runs; nothing is downloaded. Spark has no per-statement timeout:
    the cluster's own limits apply, and the session never writes (every query is a SELECT).
    """
    from pyspark.sql import SparkSession

    session = SparkSession.builder.remote(url).getOrCreate()
    return ibis.pyspark.connect(session)


def _pg_params(dsn: str) -> dict[str, Any]:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn)
    mapping = {"host": "host", "port": "port", "user": "user", "password": "password", "dbname": "database"}
    out: dict[str, Any] = {mapping[k]: v for k, v in params.items() if k in mapping}
    if "port" in out:
        out["port"] = int(out["port"])
    return out


def _table(con: Any, source: Source) -> Any:
    name = source.table or ""
    database = None
    if "." in name:
        database, name = name.split(".", 1)
    try:
        return con.table(name, database=database) if database else con.table(name)
    except Exception as exc:  # backends differ in what a missing table raises
        raise SourceUnavailable(
            source.name, "no_table", f"table {source.table!r} not found ({error_line(exc)})"
        ) from None


def _open_http(spec: Spec, source: Source, timeout_s: float) -> OpenSource:
    headers = {name: ref.resolve(f"source {source.name}") for name, ref in source.headers.items()}
    request = urllib.request.Request(source.location or "", headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise SourceUnavailable(
            source.name, "connection", f"HTTP {exc.code} from {source.location}"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SourceUnavailable(source.name, "connection", f"cannot reach {source.location}: {exc}") from None
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise SourceUnavailable(source.name, "format", f"response is not JSON: {exc}") from None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else data.get(source.table or "data")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise SourceUnavailable(
            source.name, "format", "expected a JSON list of records (or one list inside an object)"
        )
    import pandas as pd

    con = ibis.duckdb.connect()
    _guard_duckdb(con, timeout_s)
    frame = pd.DataFrame.from_records(data)
    name = f"src_{source.name.replace('-', '_')}"
    con.con.register("fetched_records", frame)
    con.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM fetched_records')
    con.con.unregister("fetched_records")
    table = con.table(name)
    _lock_duckdb(con, [])
    return OpenSource(
        source, con, table, 0.0, "duckdb", [f"fetched {len(frame)} records over HTTP GET"], [con.disconnect]
    )


def read_texts(
    spec: Spec, source: Source, extra_columns: list[str] | None = None, ids: Collection[str] | None = None
) -> Any:
    """``item_id`` and ``text`` (plus any of ``extra_columns`` it has) of every row of a source, read-only,
    or with ``ids`` of those rows only (the filter runs where the data lives, not after reading it all).

    Used to sample the eval set, to join labels to their text and to show cited documents. Returns a pandas
    DataFrame.
    """
    opened = open_source(spec, source)
    try:
        t = opened.table
        if ids is not None:
            t = t.filter(t[source.id_column].cast("string").isin(sorted({str(i) for i in ids})))
        cols = [
            t[source.id_column].cast("string").name("item_id"),
            t[source.text_column].cast("string").name("text"),
        ]
        cols += [t[c].cast("string").name(c) for c in (extra_columns or []) if c in t.columns]
        with time_limit(opened):
            frame = t.select(*cols).to_pandas()
    finally:
        opened.close()
    frame["text"] = frame["text"].fillna("")
    return frame
