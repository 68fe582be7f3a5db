"""How fast, and in how much memory, does rescue profile a big production-like table?

Reference (the issue's targets and the peer):

- rescue's ``profile_source`` on a 10M-row x 20-column Parquet table in under 15 s and under 1.5 GB
  peak memory on 2 cores;
- side by side, ydata-profiling in minimal mode (``ProfileReport(df, minimal=True).get_description()``,
  its statistics; the ``.to_json()`` that follows is timed apart) on the first 1M rows of the same table,
  against rescue on the same 1M-row slice (all of ``profile_source``): rescue at least 20x faster.

The table is generated deterministically (seeded numpy/pyarrow, one row group at a time, so generation
stays well under 2 GB) and cached in ``benchmarks/.cache/``: an int64 id, two timestamps (one with
1900-01-01 placeholders), five numeric columns with nulls and twelve text columns (categorical codes,
free-text reviews with HTML entities, mojibake, markup, line breaks and placeholders, numbers and dates
written as text, e-mail addresses in about 1% of one column).

Every profiling run is a fresh subprocess, so its peak resident memory (``ru_maxrss`` from ``wait4``)
is its own. rescue runs in this venv; ydata-profiling cannot share it (it pins pandas < 3 and
numpy < 2.4), so the benchmark installs it into ``benchmarks/.venv-peer`` itself on first use and runs
it there; if that install fails the reason is printed and rescue's figures still are. Only the
profiling call is timed (never imports, the parquet read or the pandas conversion). Nothing here
asserts on a time: it prints measured ratios.

Out of core (issue 16 part 4): ``--rows`` takes several sizes (``--rows 10000000 50000000 100000000``);
the missing tables are generated in one pass over the row groups (the table of n rows is the first n rows
of any larger one), one row group in memory at a time, into ``--keep DIR`` (default ``benchmarks/.cache``)
where later runs reuse them. It prints, per size, the median time, the time per million rows and the peak
RSS (against 2 GB at every size), and between sizes the ratio of the time per row (1.00 = linear).
DuckDB's memory_limit and spill folder are rescue's own (rescue/data/connect.py); ``--memory-limit``
sets RESCUE_DUCKDB_MEMORY_LIMIT for the children to compare. ``--spark`` profiles the smallest size
through PySpark local[2] (rescue/data/pushdown.py) beside DuckDB; its peak is the process tree's summed
RSS sampled every 0.2 s (Python driver plus JVM), with each one's own high-water mark.

    .venv/bin/python benchmarks/profile_bench.py [--rows 10000000 ...] [--peer-rows 1000000] [--repeats 3]
                                                 [--big-repeats 1] [--skip-peer] [--keep DIR]
                                                 [--memory-limit SIZE] [--spark] [--spark-driver-memory 2g]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
PEER_VENV = HERE / ".venv-peer"
GENERATOR_VERSION = 1  # bump when the generated data changes, so the cache is rebuilt
SEED = 20240611
ROW_GROUP = 500_000
TARGET_SECONDS = 15.0
TARGET_PEAK_MB = 1500.0
PEAK_LIMIT_MB = 2048.0  # at every size (issue 16 part 4)
TARGET_PEER_RATIO = 20.0
TEXT_COLUMN = "review"
TIMESTAMP_COLUMN = "created_at"

# --- the data ---------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


COMMON_WORDS = _words("""
the i and it to a was my for of this have is in with been on that but after had me not so
no side effects taking medication day first years months weeks now started felt feel better
worse pain doctor took dose mg pill pills night sleep tired anxiety depression headache
nausea weight gain lost great good bad terrible amazing works worked working help helped
helps life would recommend anyone tried than more less very really just like also only
time every morning back again since some much because about when from all after before
2 3 5 10 20 30 50 100 2012 2015 10mg 20mg 50mg 1 month 6 week year nothing worst best
stopped start could can will did does get got were they he she we you your our their
prescribed insurance pharmacy refill order delivery package arrived late support called
""")
SYLLABLES = _words("ba be bi bo bu ca co cu da de di do fa fe fi la le li lo ma me mi mo na ne ni no pa pe")
SYLLABLES += _words("pi po ra re ri ro sa se si so ta te ti to va ve vi xa za ze zo tion ment ness ly er")
# (token, probability per word): a few percent of reviews carry entities, mojibake, markup, CR/LF
SPECIAL_TOKENS = [
    ("don&#039;t", 0.0003),
    ("it&#039;s", 0.0003),
    ("I&#039;ve", 0.0002),
    ("R&amp;D", 0.0001),
    ("&amp;", 0.0002),
    ("&quot;miracle&quot;", 0.0001),
    ("itâ€™s", 0.0002),
    ("donâ€™t", 0.0001),
    ("naÃ¯ve", 0.0001),
    ("<br />", 0.0003),
    ("\r\n", 0.0005),
]
FIRST_NAMES = _words("james mary john patricia robert jennifer michael linda david susan sarah tom anna")
LAST_NAMES = _words("smith jones taylor brown williams wilson johnson davies patel wright walker")
DOMAINS = _words("gmail.com outlook.com yahoo.co.uk example.org nhs.net btinternet.com")
NOTES = [
    "called back",
    "no answer",
    "left voicemail",
    "escalated to team lead",
    "refund issued",
    "waiting on pharmacy",
    "resolved",
    "customer satisfied",
    "duplicate ticket",
    "see previous case",
]
COUNTRIES = _words("GB FR DE ES IT NL BE IE PT PL SE DK NO FI AT CH US CA AU NZ")
STATUSES = ["open", "closed", "pending", "escalated", "N/A", "-", "", "unknown"]
STATUS_P = [0.30, 0.45, 0.10, 0.05, 0.04, 0.03, 0.02, 0.01]
CHANNELS = ["web", "app", "phone", "email", "store", "partner"]
LANGUAGES = ["en", "en-GB", "fr", "de", "es", "it", "nl"]
CURRENCIES = ["GBP", "EUR", "USD", "CHF"]
NOT_NUMBERS = ["approx 12", "twelve", "n.a.", "£45", "TBD", "see note", "12-15", "?"]
NOT_DATES = ["unknown", "TBD", "soon", "0000-00-00", "last week", "N/A"]


def _vocabulary() -> tuple[pa.Array, np.ndarray, float]:
    """Review words (common words then made-up ones, Zipf-weighted) plus the rare messy tokens."""
    rng = np.random.default_rng([SEED, 0])
    common = list(dict.fromkeys(COMMON_WORDS))
    made_up = sorted(
        {"".join(rng.choice(SYLLABLES, size=rng.integers(2, 5))) for _ in range(3000)} - set(common)
    )
    rng.shuffle(made_up)
    zipf_common = 1.0 / (np.arange(len(common)) + 5.0)
    zipf_rare = 1.0 / (np.arange(len(made_up)) + 20.0)
    rest = 1 - sum(p for _, p in SPECIAL_TOKENS)
    probs = np.concatenate(
        [
            zipf_common / zipf_common.sum() * 0.85 * rest,  # everyday words
            zipf_rare / zipf_rare.sum() * 0.15 * rest,  # drug names, typos, rare words
            [p for _, p in SPECIAL_TOKENS],
        ]
    )
    tokens = common + made_up + [t for t, _ in SPECIAL_TOKENS]
    mean_len = float(np.dot(probs, [len(t) + 1 for t in tokens]))
    return pa.array(tokens, pa.string()), probs, mean_len


def _join_words(rng: np.random.Generator, vocab: tuple[pa.Array, np.ndarray, float], counts: np.ndarray):
    tokens, probs, _ = vocab
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    ids = rng.choice(len(probs), size=int(offsets[-1]), p=probs).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), tokens.take(pa.array(ids)))
    return pc.binary_join(lists, " ")


def _replace(arr: pa.Array, mask: np.ndarray, value: str | None) -> pa.Array:
    return pc.if_else(pa.array(mask), pa.scalar(value, pa.string()), arr)


def _pick(rng: np.random.Generator, values: list[str], n: int, p: list[float] | None = None) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(rng.choice(len(values), size=n, p=p)))


def _nullable(values: np.ndarray, rng: np.random.Generator, null_share: float) -> pa.Array:
    return pa.array(values, mask=rng.random(len(values)) < null_share)


def _row_group(index: int, start: int, n: int, vocab: tuple[pa.Array, np.ndarray, float]) -> pa.Table:
    """Rows ``start .. start+n`` of the table; a function of (SEED, index) only, so fully deterministic."""
    rng = np.random.default_rng([SEED, 1, index])
    cols: dict[str, pa.Array] = {}
    cols["id"] = pa.array(np.arange(start, start + n, dtype=np.int64) + 1_000_000_000)

    # timestamps: 2015-01-01 .. 2025-06-30; created_at has 0.5% 1900-01-01 placeholders
    lo, hi = (
        np.datetime64("2015-01-01", "s").astype(np.int64),
        np.datetime64("2025-06-30", "s").astype(np.int64),
    )
    created = rng.integers(lo, hi, size=n)
    created[rng.random(n) < 0.005] = np.datetime64("1900-01-01", "s").astype(np.int64)
    cols["created_at"] = pa.array(created.astype("datetime64[s]").astype("datetime64[us]"))
    updated = created + rng.exponential(86_400 * 20, size=n).astype(np.int64)
    cols["updated_at"] = _nullable(updated.astype("datetime64[s]").astype("datetime64[us]"), rng, 0.05)

    # numbers with nulls
    cols["rating"] = _nullable(rng.integers(1, 11, size=n), rng, 0.02)
    cols["price"] = _nullable(np.round(rng.lognormal(3.0, 1.0, size=n), 2), rng, 0.03)
    quantity = rng.poisson(1.5, size=n)
    cols["quantity"] = _nullable(quantity.astype(np.int64), rng, 0.01)
    discount = np.where(rng.random(n) < 0.6, 0.0, np.round(rng.uniform(0, 0.5, size=n), 3))
    cols["discount"] = _nullable(discount, rng, 0.10)
    cols["useful_count"] = _nullable(rng.negative_binomial(1, 0.05, size=n).astype(np.int64), rng, 0.005)

    # free text: reviews of ~100..600 characters (mean ~170), then placeholders, blanks and nulls
    _, _, mean_word = vocab
    target = np.clip(100 + rng.gamma(1.5, 45.0, size=n), 100, 600)
    review = _join_words(rng, vocab, np.maximum(3, np.round(target / mean_word)).astype(np.int32))
    review = pc.utf8_slice_codeunits(review, 0, 600)
    u = rng.random(n)
    for lo_u, hi_u, value in ((0, 0.01, None), (0.01, 0.015, ""), (0.015, 0.018, " "), (0.018, 0.025, "N/A")):
        review = _replace(review, (u >= lo_u) & (u < hi_u), value)
    review = _replace(review, (u >= 0.025) & (u < 0.03), "-")
    cols["review"] = review
    title = _join_words(rng, vocab, rng.integers(2, 7, size=n).astype(np.int32))
    cols["title"] = _replace(title, rng.random(n) < 0.04, None)

    # categorical codes
    cols["country"] = _replace(_pick(rng, COUNTRIES, n), rng.random(n) < 0.01, None)
    cols["status"] = _pick(rng, STATUSES, n, STATUS_P)
    sku = pc.utf8_lpad(pa.array(rng.zipf(1.3, size=n) % 20_000).cast(pa.string()), 5, "0")
    cols["product_code"] = pc.binary_join_element_wise("SKU-", sku, "")
    cols["channel"] = _replace(_pick(rng, CHANNELS, n), rng.random(n) < 0.02, "")

    # short agent notes; about 1% name an e-mail address
    notes = _replace(_pick(rng, NOTES, n), rng.random(n) < 0.5, None)
    email = pc.binary_join_element_wise(
        "please reply to ",
        _pick(rng, FIRST_NAMES, n),
        ".",
        _pick(rng, LAST_NAMES, n),
        pa.array(rng.integers(1, 100, size=n)).cast(pa.string()),
        "@",
        _pick(rng, DOMAINS, n),
        "",
    )
    cols["agent_note"] = pc.if_else(pa.array(rng.random(n) < 0.01), email, notes)

    # numbers written as text: mostly numeric, some not
    amount = pa.array(np.round(rng.lognormal(3.5, 1.2, size=n), 2)).cast(pa.string())
    whole = pa.array(rng.integers(0, 5000, size=n)).cast(pa.string())
    amount = pc.if_else(pa.array(rng.random(n) < 0.3), whole, amount)
    amount = pc.if_else(pa.array(rng.random(n) < 0.03), _pick(rng, NOT_NUMBERS, n), amount)
    u = rng.random(n)
    amount = _replace(_replace(amount, u < 0.02, None), (u >= 0.02) & (u < 0.03), "")
    cols["amount_text"] = amount

    # dates written as text ("December 24, 2012"), some ISO, some not dates at all
    day = pa.array(rng.integers(lo, hi, size=n).astype("datetime64[s]"))
    dates = pc.if_else(
        pa.array(rng.random(n) < 0.05),
        pc.strftime(day, format="%Y-%m-%d"),
        pc.strftime(day, format="%B %d, %Y"),
    )
    dates = pc.if_else(pa.array(rng.random(n) < 0.02), _pick(rng, NOT_DATES, n), dates)
    u = rng.random(n)
    cols["order_date_text"] = _replace(_replace(dates, u < 0.03, None), (u >= 0.03) & (u < 0.05), "")

    store = pc.utf8_lpad(pa.array(rng.integers(1, 400, size=n)).cast(pa.string()), 4, "0")
    cols["store_code"] = _replace(pc.binary_join_element_wise("ST-", store, ""), rng.random(n) < 0.02, "-")
    cols["language"] = _pick(rng, LANGUAGES, n, [0.5, 0.2, 0.1, 0.08, 0.06, 0.04, 0.02])
    cols["currency"] = _replace(
        _pick(rng, CURRENCIES, n, [0.5, 0.3, 0.15, 0.05]), rng.random(n) < 0.005, None
    )
    return pa.table(cols)


def table_path(directory: Path, rows: int) -> Path:
    """Where the generated table of ``rows`` rows lives in ``directory``."""
    return directory / f"big-{rows}-v{GENERATOR_VERSION}.parquet"


def ensure_tables(sizes: list[int], directory: Path = CACHE) -> dict[int, Path]:
    """The generated tables of every size in ``sizes`` (kept in ``directory``; reused when present).

    The missing ones are written in one pass over the row groups of the largest: a row group is a function
    of its index only, so the table of n rows is exactly the first n rows of any larger one, and each group
    is generated once and written to every file that still needs it. One row group (500k rows, about
    180 MB in Arrow) is in memory at a time, whatever the sizes.
    """
    paths = {rows: table_path(directory, rows) for rows in sizes}
    missing = sorted(rows for rows, path in paths.items() if not path.exists())
    if not missing:
        return paths
    directory.mkdir(parents=True, exist_ok=True)
    print(
        f"generating {', '.join(f'{r:,}' for r in missing)} rows into {directory} in one pass (once; kept) ...",
        flush=True,
    )
    started = time.perf_counter()
    vocab = _vocabulary()
    writers: dict[int, pq.ParquetWriter] = {}
    partial = {rows: paths[rows].with_suffix(".partial") for rows in missing}
    try:
        for index, start in enumerate(range(0, missing[-1], ROW_GROUP)):
            wanted = [rows for rows in missing if rows > start]
            table = _row_group(index, start, min(ROW_GROUP, missing[-1] - start), vocab)
            for rows in wanted:
                if rows not in writers:
                    writers[rows] = pq.ParquetWriter(partial[rows], table.schema, compression="snappy")
                part = table if start + table.num_rows <= rows else table.slice(0, rows - start)
                writers[rows].write_table(part, row_group_size=ROW_GROUP)
                if start + part.num_rows == rows:  # complete: usable now, while the larger ones go on
                    writers.pop(rows).close()
                    os.replace(partial[rows], paths[rows])
            del table
            if (index + 1) % 20 == 0:
                done = start + ROW_GROUP
                print(f"  {done:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        for writer in writers.values():
            writer.close()
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return paths


def ensure_table(rows: int, directory: Path = CACHE) -> Path:
    """The generated table of ``rows`` rows (see :func:`ensure_tables`)."""
    return ensure_tables([rows], directory)[rows]


def ensure_head(big: Path, rows: int) -> Path:
    """The first ``rows`` rows of ``big`` as their own parquet file (kept beside it)."""
    path = big.parent / f"{big.stem}-head-{rows}.parquet"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    source = pq.ParquetFile(big)
    with pq.ParquetWriter(partial, source.schema_arrow, compression="snappy") as writer:
        left = rows
        for batch in source.iter_batches(batch_size=ROW_GROUP):
            if left <= 0:
                break
            batch = batch.slice(0, left)
            writer.write_table(pa.Table.from_batches([batch]), row_group_size=ROW_GROUP)
            left -= batch.num_rows
    os.replace(partial, path)
    return path


def describe(path: Path) -> str:
    meta = pq.ParquetFile(path).metadata
    raw = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return (
        f"{meta.num_rows:,} rows x {meta.num_columns} columns, {meta.num_row_groups} row groups, "
        f"{path.stat().st_size / 1e9:.2f} GB on disk (snappy), {raw / 1e9:.2f} GB uncompressed"
    )


# --- running one profile in its own process ---------------------------------------------------------

# both child scripts measure their own peak resident memory the same way
HWM_MB = r"""
def hwm_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None
"""

RESCUE_CHILD = (
    HWM_MB
    + r"""
import json, sys, time
from datetime import date
from pathlib import Path


from rescue.spec import load_spec
from rescue.data import picture
from rescue.data.picture import profile_source

# time the phases of profile_source by wrapping the helpers it calls (negligible overhead)
phases = {}
def timed(name, fn):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - t
    return wrapper
for name in ("open_source", "deep_relation", "profile_table", "_server_pass", "duplicate_rows",
             "key_profile", "_ids", "freshness", "_text_hashes", "_first_text_rows", "_read_texts",
             "_probe_ids", "probe_latency"):
    if callable(getattr(picture, name, None)):
        setattr(picture, name, timed(name, getattr(picture, name)))
# the parts of _read_texts (it runs on a thread of its own while the queries after it run)
picture.scan_table = timed("(pii)", picture.scan_table)
picture.language.language_mix = timed("(languages)", picture.language.language_mix)

spec = load_spec(Path(sys.argv[1]))
baseline = hwm_mb()
started = time.perf_counter()
entry, _ = profile_source(spec, spec.sources[0], date.today(), probes=15)
elapsed = time.perf_counter() - started
from rescue.data.connect import duckdb_memory_limit
Path(sys.argv[2]).write_text(json.dumps({"elapsed_s": elapsed, "baseline_mb": baseline, "status": entry["status"],
                  "error": entry["error"], "rows": entry["rows"], "phases": phases,
                  "memory_limit": duckdb_memory_limit()}))
"""
)

# the same profile on Spark local (rescue/data/pushdown.py through an Ibis pyspark backend), as the tests build
# the session: local[2], no UI, two shuffle partitions, UTC; the driver's heap is argv[2]
SPARK_CHILD = (
    HWM_MB
    + r"""
import json, os, sys, time
from datetime import date
from pathlib import Path

def hwm_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None

t0 = time.perf_counter()
import ibis
from pyspark.sql import SparkSession
from rescue.spec import load_spec
from rescue.data.connect import OpenSource
from rescue.data.picture import profile_opened

spec = load_spec(Path(sys.argv[1]))
source = spec.sources[0]
session = (
    SparkSession.builder.master("local[2]").appName("rescue-bench")
    .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
    .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
    .config("spark.sql.session.timeZone", "UTC")
    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.driver.memory", sys.argv[2])
    .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    .config("spark.jars.ivy", str(Path(os.environ.get("TMPDIR", "/tmp")) / "rescue-spark-ivy"))
    .getOrCreate()
)
session.sparkContext.setLogLevel("ERROR")
jvm_pid = session.sparkContext._gateway.proc.pid
con = ibis.pyspark.connect(session)
table = con.read_parquet(str(spec.path(source.location or "")), table_name="src_big")
opened = OpenSource(source, con, table, 0.0, "pyspark", [])
startup = time.perf_counter() - t0
baseline, jvm_baseline = hwm_mb(), hwm_of(jvm_pid)
started = time.perf_counter()
entry, _ = profile_opened(spec, source, opened, date.today(), probes=15)
elapsed = time.perf_counter() - started
driver_mb, jvm_mb = hwm_mb(), hwm_of(jvm_pid)
session.stop()
Path(sys.argv[3]).write_text(json.dumps({"elapsed_s": elapsed, "startup_s": startup, "baseline_mb": baseline,
                  "jvm_baseline_mb": jvm_baseline, "driver_mb": driver_mb, "jvm_mb": jvm_mb,
                  "status": entry["status"], "error": entry["error"], "rows": entry["rows"],
                  "pushdown": entry.get("pushdown")}))
"""
)

PEER_CHILD = (
    HWM_MB
    + r"""
import json, sys, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore")


import pandas as pd
import pyarrow.parquet as pq
import ydata_profiling
from ydata_profiling import ProfileReport

df = pq.read_table(sys.argv[1]).to_pandas()  # not timed
baseline = hwm_mb()
started = time.perf_counter()
report = ProfileReport(df, minimal=True, progress_bar=False)
report.get_description()  # the statistics: what is compared with rescue
described = time.perf_counter()
profiled_mb = hwm_mb()
out = report.to_json()  # serialising the same (cached) description, reported apart
done = time.perf_counter()
Path(sys.argv[2]).write_text(json.dumps({"elapsed_s": described - started, "json_s": done - described,
                  "profiled_mb": profiled_mb,
                  "baseline_mb": baseline, "rows": len(df), "json_chars": len(out),
                  "version": ydata_profiling.__version__, "pandas": pd.__version__}))
"""
)


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc/<pid>/stat."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _spill_bytes(pid: int) -> int:
    """Bytes in the files ``pid`` holds open in a DuckDB spill folder (rescue's ``.../spill/``)."""
    total = 0
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if "/spill/" in target:
                total += os.stat(target).st_size
        except OSError:
            continue
    return total


class TreeWatch:
    """Samples, every ``interval_s``, the summed RSS of a process and all its descendants (a JVM that
    Spark starts included) and the size of its DuckDB spill files; keeps the highest of each."""

    def __init__(self, pid: int, interval_s: float = 0.2) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak_kb = 0
        self.spill_peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            tree = _children()
            pids, todo = [], [self.pid]
            while todo:
                pid = todo.pop()
                pids.append(pid)
                todo.extend(tree.get(pid, []))
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in pids))
            self.spill_peak_bytes = max(self.spill_peak_bytes, _spill_bytes(self.pid))
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd`` plus a result-file argument; return the JSON it wrote (or its error) and its peak RSS.

    The peak is the child's own ``ru_maxrss`` from ``wait4`` (``peak_mb``: the RSS high-water mark of
    the child, or of the largest of the children it waited for). ``tree_peak_mb`` is the highest sum of
    the RSS of the child and all its descendants, sampled every 0.2 s (the measure for Spark, whose JVM
    is a child of the Python driver); ``spill_peak_mb`` the largest size of its DuckDB spill files. The
    result goes through a file, not stdout, which DuckDB's progress bar shares.
    """
    with tempfile.TemporaryDirectory(prefix="rescue-bench-out-") as tmp, tempfile.TemporaryFile() as log:
        result = Path(tmp) / "result.json"
        load = os.getloadavg()[0]  # other work on the 2 cores inflates every timing: shown with each run
        proc = subprocess.Popen([*cmd, str(result)], stdout=log, stderr=subprocess.STDOUT, env=env)
        watch = TreeWatch(proc.pid)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watch.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        measured = {
            "peak_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
            "tree_peak_mb": watch.peak_kb / 1024,
            "spill_peak_mb": watch.spill_peak_bytes / 1e6,
            "load": load,
        }
        if proc.returncode == 0 and result.exists():
            return {**json.loads(result.read_text()), **measured}
        log.seek(0)
        tail = "\n".join(log.read().decode(errors="replace").strip().splitlines()[-15:])
        return {"failed": f"exit {proc.returncode}: {tail[-3000:]}", **measured}


def write_project(directory: Path, parquet: Path) -> Path:
    """A minimal audit project whose one source is ``parquet``."""
    source = {
        "name": "big",
        "kind": "parquet",
        "location": str(parquet),
        "id_column": "id",
        "text_column": TEXT_COLUMN,
        "timestamp_column": TIMESTAMP_COLUMN,
    }
    spec = {
        "project": "bench",
        "use_case": "benchmark",
        "poc": {"kind": "predictions", "path": "poc.csv"},
        "sources": [source],
    }
    (directory / "rescue.yaml").write_text(json.dumps(spec, indent=2))  # JSON is YAML
    (directory / "poc.csv").write_text("id,prediction\n")
    return directory


def run_rescue(parquet: Path, repeats: int, memory_limit: str | None = None) -> list[dict[str, Any]]:
    """``repeats`` runs of ``profile_source`` on ``parquet``, each in a fresh process (DuckDB's memory_limit
    from rescue's rule, or ``memory_limit`` through RESCUE_DUCKDB_MEMORY_LIMIT)."""
    env = {**os.environ, "RESCUE_DUCKDB_MEMORY_LIMIT": memory_limit} if memory_limit else None
    runs = []
    for i in range(repeats):
        with tempfile.TemporaryDirectory(prefix="rescue-bench-") as tmp:
            project = write_project(Path(tmp), parquet)
            run = run_child([sys.executable, "-c", RESCUE_CHILD, str(project)], env=env)
        runs.append(run)
        if "failed" in run:
            print(f"  run {i + 1}: FAILED ({run['failed']})", flush=True)
            break
        note = "" if run["status"] == "ok" else f"  status {run['status']}: {run['error']}"
        print(
            f"  run {i + 1}: {run['elapsed_s']:.2f} s, peak {run['peak_mb']:.0f} MB (tree {run['tree_peak_mb']:.0f}"
            f" MB sampled), DuckDB memory_limit {run['memory_limit']}, spilled {run['spill_peak_mb']:.0f} MB "
            f"(load before {run['load']:.1f}){note}",
            flush=True,
        )
    return runs


def run_spark(parquet: Path, repeats: int, driver_memory: str) -> list[dict[str, Any]]:
    """``repeats`` runs of the same profile through PySpark local (``profile_opened`` on an Ibis pyspark
    table: rescue/data/pushdown.py), each in a fresh process with its own JVM."""
    runs = []
    for i in range(repeats):
        with tempfile.TemporaryDirectory(prefix="rescue-bench-") as tmp:
            project = write_project(Path(tmp), parquet)
            run = run_child([sys.executable, "-c", SPARK_CHILD, str(project), driver_memory])
        runs.append(run)
        if "failed" in run:
            print(f"  run {i + 1}: FAILED ({run['failed']})", flush=True)
            break
        note = "" if run["status"] == "ok" else f"  status {run['status']}: {run['error']}"
        print(
            f"  run {i + 1}: {run['elapsed_s']:.2f} s (+ {run['startup_s']:.1f} s session start, not timed), "
            f"pushdown {run['pushdown']}; peak RSS: process tree {run['tree_peak_mb']:.0f} MB (sampled), "
            f"driver {run['driver_mb']:.0f} MB + JVM {run['jvm_mb']:.0f} MB (high-water marks) "
            f"(load before {run['load']:.1f}){note}",
            flush=True,
        )
    return runs


# --- the peer, in its own venv ----------------------------------------------------------------------


def _peer_python() -> Path:
    return PEER_VENV / "bin" / "python"


def _peer_importable() -> str | None:
    probe = "import ydata_profiling, pandas, numpy; print(ydata_profiling.__version__, pandas.__version__, numpy.__version__)"
    if not _peer_python().exists():
        return None
    result = subprocess.run(
        [str(_peer_python()), "-c", probe], capture_output=True, text=True, env=_peer_env()
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _peer_env() -> dict[str, str]:
    # no telemetry call (there is no network here, and it must not be in the timing either)
    return {**os.environ, "YDATA_PROFILING_NO_ANALYTICS": "True", "MPLBACKEND": "Agg"}


def ensure_peer() -> tuple[Path | None, str]:
    """ydata-profiling in ``benchmarks/.venv-peer``, installed on first use. Returns (python, outcome)."""
    versions = _peer_importable()
    if versions:
        return (
            _peer_python(),
            "already installed in benchmarks/.venv-peer (ydata-profiling, pandas, numpy: {})".format(
                versions.replace(" ", ", ")
            ),
        )
    print("installing ydata-profiling into benchmarks/.venv-peer (once) ...", flush=True)
    started = time.perf_counter()
    if PEER_VENV.exists():
        shutil.rmtree(PEER_VENV)
    steps = [
        [sys.executable, "-m", "venv", str(PEER_VENV)],
        [
            str(_peer_python()),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "ydata-profiling",
            "pyarrow",
        ],
    ]
    for step in steps:
        try:
            result = subprocess.run(step, capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"install failed: {' '.join(step[:4])}: {exc}"
        if result.returncode != 0:
            tail = "\n    ".join((result.stderr or result.stdout).strip().splitlines()[-8:])
            return None, f"install failed: {' '.join(step[:4])} exited {result.returncode}:\n    {tail}"
    versions = _peer_importable()
    if not versions:
        return None, "installed, but `import ydata_profiling` fails in benchmarks/.venv-peer"
    took = time.perf_counter() - started
    return _peer_python(), "installed now in {:.0f} s (ydata-profiling, pandas, numpy: {})".format(
        took, versions.replace(" ", ", ")
    )


def run_peer(python: Path, parquet: Path, repeats: int) -> list[dict[str, Any]]:
    runs = []
    for i in range(repeats):
        run = run_child([str(python), "-c", PEER_CHILD, str(parquet)], env=_peer_env())
        runs.append(run)
        if "failed" in run:
            print(f"  run {i + 1}: FAILED ({run['failed']})", flush=True)
            break
        print(
            f"  run {i + 1}: {run['elapsed_s']:.2f} s (then to_json {run['json_s']:.1f} s, "
            f"{run['json_chars'] / 1e6:.0f}M characters), peak {run['profiled_mb']:.0f} MB while profiling, "
            f"{run['peak_mb']:.0f} MB with to_json (load before {run['load']:.1f})",
            flush=True,
        )
    return runs


# --- report -----------------------------------------------------------------------------------------


def label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return f"{rows:,}"


def _times(ratio: float) -> str:
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def summary(runs: list[dict[str, Any]]) -> tuple[float, float] | None:
    """(median seconds, highest peak MB) over the runs that finished, or None."""
    done = [r for r in runs if "failed" not in r]
    if not done:
        return None
    return statistics.median(r["elapsed_s"] for r in done), max(r["peak_mb"] for r in done)


def phase_lines(runs: list[dict[str, Any]]) -> list[str]:
    done = [r for r in runs if "failed" not in r and r.get("phases")]
    if not done:
        return []
    names = list(done[0]["phases"])
    medians = {n: statistics.median(r["phases"].get(n, 0.0) for r in done) for n in names}
    parts = [f"{n.lstrip('_')} {s:.2f}" for n, s in sorted(medians.items(), key=lambda kv: -kv[1])]
    # per run, then the median: medians of the parts need not add up to the median of the whole
    # parts in parentheses are inside another phase; read_texts overlaps the phases that follow it
    other = statistics.median(
        r["elapsed_s"] - sum(s for n, s in r["phases"].items() if not n.startswith(("(", "_read_texts")))
        for r in done
    )
    return [
        f"    phases (median s): {', '.join(parts)}, other {other:.2f}",
        "    (read_texts runs on its own thread, overlapping the phases after it; (pii) and (languages) "
        "are its parts)",
    ]


def _peer_report(args: argparse.Namespace, head_runs, peer_runs, peer_outcome: str) -> None:
    if args.skip_peer:
        print(f"peer: {peer_outcome}")
        return
    m = label(min(args.peer_rows, min(args.rows)))
    mine, theirs = summary(head_runs), summary(peer_runs)
    print(f"peer install: {peer_outcome}")
    if mine is not None:
        print(f"rescue {m} x 20: median {mine[0]:.2f} s, peak {mine[1]:.0f} MB")
        for line in phase_lines(head_runs):
            print(line)
    if theirs is not None:
        done = [r for r in peer_runs if "failed" not in r]
        first = done[0]
        profiled = max(r["profiled_mb"] for r in done)
        to_json = statistics.median(r["json_s"] for r in done)
        print(
            f"ydata-profiling {first['version']} minimal {m} x 20: median {theirs[0]:.1f} s, "
            f"peak {profiled:.0f} MB ({theirs[1]:.0f} MB with to_json)"
        )
        print(
            f"    timed: ProfileReport(df, minimal=True).get_description() only (pandas {first['pandas']}); "
            f"not timed: imports, parquet read + to_pandas ({first['baseline_mb']:.0f} MB, in the peak), "
            f"then .to_json() {to_json:.1f} s for {first['json_chars'] / 1e6:.0f}M characters"
        )
    elif peer_runs:
        print(f"ydata-profiling: FAILED ({peer_runs[-1]['failed']})")
    else:
        print(f"ydata-profiling: not run: {peer_outcome}")
    if mine is not None and theirs is not None:
        ratio = theirs[0] / mine[0]
        print(
            f"ratio ydata-profiling / rescue on {m} rows: {ratio:.1f} (rescue {_times(ratio)}; "
            f"target {TARGET_PEER_RATIO:.0f}x: ratio {ratio / TARGET_PEER_RATIO:.2f})"
        )


def _size_report(sizes: dict[int, list[dict[str, Any]]]) -> None:
    """Per size: median time, time per million rows, peak memory; then how the cost grows between sizes."""
    print(
        f"{'rows':>6} {'runs':>4} {'median s':>9} {'s / M rows':>10} {'peak RSS MB':>11} {'spilled MB':>10}"
    )
    done: list[tuple[int, float]] = []
    for rows, runs in sizes.items():
        got = summary(runs)
        if got is None:
            print(f"{label(rows):>6} FAILED ({runs[-1]['failed'] if runs else 'no run'})")
            continue
        seconds, peak = got
        spilled = max(r["spill_peak_mb"] for r in runs if "failed" not in r)
        finished = sum("failed" not in r for r in runs)
        print(
            f"{label(rows):>6} {finished:>4} {seconds:>9.1f} {seconds / rows * 1e6:>10.2f} {peak:>11.0f} "
            f"{spilled:>10.0f}   {'under' if peak < PEAK_LIMIT_MB else 'OVER'} {PEAK_LIMIT_MB:.0f} MB"
        )
        statuses = {r["status"] for r in runs if "failed" not in r}
        if statuses != {"ok"}:
            print(f"    WARNING: source status {sorted(statuses)}: {runs[-1].get('error')}")
        for line in phase_lines(runs):
            print(line)
        done.append((rows, seconds))
    for (rows_a, s_a), (rows_b, s_b) in itertools.pairwise(done):
        print(
            f"{label(rows_a)} -> {label(rows_b)}: rows x{rows_b / rows_a:.1f}, time x{s_b / s_a:.2f}; "
            f"time per row x{(s_b / rows_b) / (s_a / rows_a):.2f} (1.00 = linear, below = sublinear)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000], help="one or more table sizes")
    parser.add_argument("--peer-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per size up to 10M rows")
    parser.add_argument("--big-repeats", type=int, default=1, help="runs per size above 10M rows")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--keep", type=Path, default=CACHE, help="folder of the generated tables, reused")
    parser.add_argument("--memory-limit", help="run rescue with RESCUE_DUCKDB_MEMORY_LIMIT set to this")
    parser.add_argument(
        "--spark", action="store_true", help="also profile the smallest size on PySpark local"
    )
    parser.add_argument("--spark-repeats", type=int, default=1)
    parser.add_argument("--spark-driver-memory", default="2g")
    args = parser.parse_args()
    args.rows = sorted(set(args.rows))

    tables = ensure_tables(args.rows, args.keep)
    sizes: dict[int, list[dict[str, Any]]] = {}
    for rows in args.rows:
        big = tables[rows]
        repeats = args.repeats if rows <= 10_000_000 else args.big_repeats
        print(f"table: {describe(big)}", flush=True)
        print(f"  kept at {big}")
        print(f"rescue on {label(rows)} rows ({repeats} runs, a fresh process each):", flush=True)
        sizes[rows] = run_rescue(big, repeats, args.memory_limit)

    spark_runs: list[dict[str, Any]] = []
    if args.spark:
        rows = args.rows[0]
        print(
            f"PySpark local[2] on {label(rows)} rows (driver memory {args.spark_driver_memory}):", flush=True
        )
        spark_runs = run_spark(tables[rows], args.spark_repeats, args.spark_driver_memory)

    peer_rows = min(args.peer_rows, args.rows[0])
    head_runs: list[dict[str, Any]] = []
    peer_runs: list[dict[str, Any]] = []
    peer_outcome = "skipped (--skip-peer)"
    if not args.skip_peer:
        head = ensure_head(tables[args.rows[0]], peer_rows)
        print(f"rescue on the first {label(peer_rows)} rows:", flush=True)
        head_runs = run_rescue(head, args.repeats, args.memory_limit)
        python, peer_outcome = ensure_peer()
        print(f"peer: {peer_outcome}", flush=True)
        if python is not None:
            print(f"ydata-profiling minimal on the first {label(peer_rows)} rows:", flush=True)
            peer_runs = run_peer(python, head, args.repeats)

    print()
    print("=" * 100)
    every = [r for runs in sizes.values() for r in runs] + spark_runs + head_runs + peer_runs
    loads = [r["load"] for r in every]
    if loads:
        print(
            f"1-min load average before each run: {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores "
            "(it still counts this benchmark's previous run for about a minute; well above 1 means other "
            "work shared the CPU and inflated the times)"
        )
    limits = sorted({r["memory_limit"] for runs in sizes.values() for r in runs if "memory_limit" in r})
    print(
        f"rescue x 20 columns (DuckDB memory_limit {', '.join(limits) or '?'}; peak = the child's RSS "
        f"high-water mark, ru_maxrss from wait4; one run each above 10M rows):"
    )
    _size_report(sizes)
    ten = summary(sizes.get(10_000_000, []))
    if ten is not None:
        print(
            f"10M target: {TARGET_SECONDS:.0f} s (ratio {ten[0] / TARGET_SECONDS:.2f}), "
            f"{TARGET_PEAK_MB:.0f} MB (ratio {ten[1] / TARGET_PEAK_MB:.2f})"
        )
    if args.spark:
        rows = args.rows[0]
        duck, theirs = summary(sizes[rows]), summary(spark_runs)
        if theirs is None:
            print(f"PySpark {label(rows)}: FAILED ({spark_runs[-1]['failed'] if spark_runs else 'no run'})")
        else:
            done = [r for r in spark_runs if "failed" not in r]
            tree = max(r["tree_peak_mb"] for r in done)
            driver = max(r["driver_mb"] for r in done)
            jvm = max(r["jvm_mb"] for r in done)
            startup = statistics.median(r["startup_s"] for r in done)
            print(
                f"PySpark local[2] {label(rows)} x 20 (rescue/data/pushdown.py, driver memory "
                f"{args.spark_driver_memory}): median {theirs[0]:.1f} s (session start {startup:.1f} s not "
                f"timed); peak process tree {tree:.0f} MB sampled every 0.2 s, high-water marks driver "
                f"{driver:.0f} MB + JVM {jvm:.0f} MB = {driver + jvm:.0f} MB at most"
            )
            if duck is not None:
                print(
                    f"    DuckDB {label(rows)}: median {duck[0]:.1f} s, peak {duck[1]:.0f} MB: Spark "
                    f"{theirs[0] / duck[0]:.1f}x the time, {tree / duck[1]:.1f}x the memory"
                )
    _peer_report(args, head_runs, peer_runs, peer_outcome)


if __name__ == "__main__":
    main()
