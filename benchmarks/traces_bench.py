"""How fast, and in how much memory, does rescue read and profile 1M production spans (OTLP JSON)?

What is measured, each step in a fresh subprocess of its own (its peak resident memory is the child's own
``ru_maxrss`` from ``wait4``; only the measured call is timed, never the imports), the steps taken in turns,
``--repeats`` rounds, the medians quoted:

- **rescue read**: ``rescue.traces.read_traces_with_report(file)``, the OTLP JSON reader: every span parsed,
  its attributes mapped onto the vocabulary, one row per LLM call in a pandas frame, the read report;
- **rescue profile**: ``rescue.data.traces.profile_traces`` of a ``kind: traces`` source on the same file (the
  drug-answers sample's spec, its traces source pointed at the file): the read above plus the Day 2 profile
  (volume, latency intervals, tokens and cost, errors, destinations, personal data, sessions, text checks and
  the language mix); the read inside it is timed apart;

against DuckDB (the installed ``duckdb``, its default threads, one per core), on the same file:

- **duckdb count**: ``SELECT count(*) FROM read_json(file, format='newline_delimited')``, its schema detected
  from the data (what a person types first: a lower bound, it parses the lines but builds no span);
- **duckdb extract**: what rescue does, in SQL: ``read_json`` with the OTLP schema given (``columns=``), the
  ``resourceSpans``/``scopeSpans``/``spans`` lists unnested, one row per span with the fields rescue reads
  (ids, times and latency, operation, provider renamed as the vocabulary renames it, model, the question and
  the answer's text by JSON path from the current attribute names or the older span events, tokens, status,
  error type, destination, service name) into a temporary table; then the LLM calls into a second table, each
  call without a session given the session of its trace (a window), and the calls without a parent and
  those whose parent is not in the file counted (an anti-join). Not done: the vocabulary's other names and
  message shapes (DuckDB reads only the names this file uses), unknown attribute names, the skip report.

The input is generated deterministically by rescue's own generator (``rescue.traces.generate_otlp``: each LLM
call with its ``invoke_agent`` parent span, as the drug-answers sample is built) from the real review texts of
``sample_data/drug-answers/sources/reviews.sqlite`` (opened read-only). ``--spans`` counts every span, LLM
calls and parents (about 1.98 per call). The file is written to a temporary folder and removed afterwards,
or kept at ``--keep PATH`` and reused by the next run with the same ``--spans`` and ``--seed`` (a ``.json``
beside it says what it holds); ``--file`` measures an existing OTLP JSON file instead. The file is read
from the page cache (it was just written or read): the figures are parsing, not disk.

The machine is shared: the 1-minute load average is printed before and after the runs and beside each run,
and each step's CPU seconds (``time.process_time()`` of the measured call, every thread of it) beside its
wall time, as other work on the cores inflates the wall time more than the CPU time. Nothing here asserts
on a time: it prints measured figures and ratios to DuckDB.

    .venv/bin/python benchmarks/traces_bench.py [--spans 1000000] [--repeats 3] [--keep PATH | --file PATH]
                                                [--seed 15] [--skip-profile]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROJECT = ROOT / "sample_data" / "drug-answers"
REVIEWS = PROJECT / "sources" / "reviews.sqlite"
SEED = 15  # the sample's seed (issue 15)
SPANS_PER_CALL = 1.98  # an LLM call plus its parent span, but for the 2% whose parent is absent
AS_OF = "2026-04-02"

# --- the input ----------------------------------------------------------------------------------------


def review_texts() -> list[str]:
    """The review texts of the drug-answers sample, in id order, from its SQLite file opened read-only."""
    with sqlite3.connect(REVIEWS.resolve().as_uri() + "?mode=ro", uri=True) as db:
        return [text for (text,) in db.execute("SELECT review FROM reviews ORDER BY review_id")]


GENERATE_CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from traces_bench import review_texts
from rescue.traces import generate_otlp

texts = review_texts()
started, cpu = time.perf_counter(), time.process_time()
generate_otlp(texts, int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
Path(sys.argv[5]).write_text(json.dumps({"elapsed_s": time.perf_counter() - started, "reviews": len(texts)}))
"""


def ensure_file(path: Path, calls: int, seed: int) -> dict[str, Any]:
    """``path`` holding ``calls`` generated LLM calls (with their parents): reused when its ``.json`` says so,
    else generated (in a subprocess, so this process stays small). Returns what the ``.json`` says."""
    meta_path = path.with_name(path.name + ".json")
    wanted = {
        "calls": calls,
        "seed": seed,
        "generator": "rescue.traces.generate_otlp",
        "texts": str(REVIEWS.resolve()),
    }
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in wanted} == wanted and meta.get("bytes") == path.stat().st_size:
            return {**meta, "reused": True}
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {calls:,} LLM calls and their parent spans into {path} ...", flush=True)
    partial = path.with_name(path.name + ".partial")
    run = run_child([sys.executable, "-c", GENERATE_CHILD, str(HERE), str(calls), str(seed), str(partial)])
    if "failed" in run:
        raise SystemExit(f"generation failed: {run['failed']}")
    os.replace(partial, path)
    meta = {**wanted, "bytes": path.stat().st_size, "generate_s": round(run["elapsed_s"], 1),
            "generate_peak_mb": round(run["peak_mb"])}  # fmt: skip
    meta_path.write_text(json.dumps(meta, indent=2))
    print(f"  generated in {run['elapsed_s']:.0f} s (peak {run['peak_mb']:.0f} MB)", flush=True)
    return {**meta, "reused": False}


# --- the measured steps, each in a child process ----------------------------------------------------------

HWM_MB = r"""
def hwm_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None
"""

RESCUE_READ = (
    HWM_MB
    + r"""
import json, sys, time
from pathlib import Path
from rescue.traces import read_traces_with_report

baseline = hwm_mb()
started, cpu = time.perf_counter(), time.process_time()
frame, report = read_traces_with_report(Path(sys.argv[1]))
elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu
Path(sys.argv[2]).write_text(json.dumps({
    "elapsed_s": elapsed, "cpu_s": cpu_s, "baseline_mb": baseline, "rows": len(frame), "spans": report.spans_read,
    "lines": report.lines_read, "skipped": report.lines_skipped + report.spans_skipped,
    "frame_mb": int(frame.memory_usage(deep=True).sum()) / 1e6,
}))
"""
)

RESCUE_PROFILE = (
    HWM_MB
    + r"""
import json, sys, time
from datetime import date
from pathlib import Path
import rescue.traces
from rescue.data.traces import profile_traces
from rescue.spec import load_spec

read_s = []
reader = rescue.traces.read_traces_with_report
def timed_read(*args, **kwargs):
    t = time.perf_counter()
    try:
        return reader(*args, **kwargs)
    finally:
        read_s.append(time.perf_counter() - t)
rescue.traces.read_traces_with_report = timed_read  # profile_traces imports it when called

spec = load_spec(Path(sys.argv[1]))
source = next(s for s in spec.sources if s.kind == "traces").model_copy(update={"location": sys.argv[2]})
baseline = hwm_mb()
started, cpu = time.perf_counter(), time.process_time()
entry = profile_traces(spec, source, date.fromisoformat(sys.argv[3]))
elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu
Path(sys.argv[4]).write_text(json.dumps({
    "elapsed_s": elapsed, "cpu_s": cpu_s, "read_s": sum(read_s), "baseline_mb": baseline, "status": entry["status"],
    "error": entry["error"], "rows": entry["rows"],
    "p95_ms": (entry.get("traces") or {}).get("latency", {}).get("overall", {}).get("p95", {}).get("value"),
}))
"""
)

# the OTLP/JSON schema as DuckDB types: AnyValues whose structure varies (arrays, kvlists) kept as JSON
_KV = (
    "STRUCT(key VARCHAR, value STRUCT(stringValue VARCHAR, intValue VARCHAR, doubleValue DOUBLE, "
    "boolValue BOOLEAN, arrayValue JSON, kvlistValue JSON))[]"
)
_SPAN = (
    "STRUCT(traceId VARCHAR, spanId VARCHAR, parentSpanId VARCHAR, name VARCHAR, kind INTEGER, "
    f"startTimeUnixNano VARCHAR, endTimeUnixNano VARCHAR, attributes {_KV}, "
    f"events STRUCT(timeUnixNano VARCHAR, name VARCHAR, attributes {_KV})[], "
    "status STRUCT(code INTEGER, message VARCHAR))"
)
OTLP_COLUMNS = (
    f"{{'resourceSpans': 'STRUCT(resource STRUCT(attributes {_KV}), "
    f"scopeSpans STRUCT(scope STRUCT(name VARCHAR, version VARCHAR), spans {_SPAN}[])[])[]'}}"
)
# an OTLP message as the generator writes it structured: {role, parts: [{type, content}]} as kvlists
_PART_TEXT = "kvlistValue.values[1].value.arrayValue.values[0].kvlistValue.values[1].value.stringValue"

EXTRACT_SQL = f"""
CREATE TEMP TABLE spans AS
WITH r AS (SELECT unnest(resourceSpans) AS rs
           FROM read_json($file, format = 'newline_delimited', columns = {OTLP_COLUMNS})),
s AS (SELECT attr(rs.resource.attributes, 'service.name').stringValue AS service_name,
             unnest(rs.scopeSpans) AS ss FROM r),
sp AS (SELECT service_name, unnest(ss.spans) AS span FROM s),
a AS (SELECT service_name, span, span.attributes AS sa FROM sp)
SELECT
  lower(span.traceId) AS trace_id,
  lower(span.spanId) AS span_id,
  nullif(lower(span.parentSpanId), '') AS parent_id,
  attr(sa, 'gen_ai.conversation.id').stringValue AS session_id,
  make_timestamp_ns(span.startTimeUnixNano::BIGINT) AS start,
  make_timestamp_ns(span.endTimeUnixNano::BIGINT) AS "end",
  (span.endTimeUnixNano::BIGINT - span.startTimeUnixNano::BIGINT) / 1e6 AS latency_ms,
  lower(attr(sa, 'gen_ai.operation.name').stringValue) AS operation,
  renamed(lower(coalesce(attr(sa, 'gen_ai.provider.name').stringValue,
                         attr(sa, 'gen_ai.system').stringValue))) AS provider,
  coalesce(attr(sa, 'gen_ai.response.model').stringValue, attr(sa, 'gen_ai.request.model').stringValue) AS model,
  coalesce(
    json_extract_string(attr(sa, 'gen_ai.input.messages').stringValue, '$[#-1].parts[0].content'),
    json_extract_string(attr(sa, 'gen_ai.input.messages').arrayValue, '$.values[#-1].{_PART_TEXT}'),
    attr(list_filter(span.events, lambda e: e.name = 'gen_ai.user.message')[-1].attributes, 'content').stringValue
  ) AS input_text,
  coalesce(
    json_extract_string(attr(sa, 'gen_ai.output.messages').stringValue, '$[0].parts[0].content'),
    json_extract_string(attr(sa, 'gen_ai.output.messages').arrayValue, '$.values[0].{_PART_TEXT}'),
    json_extract_string(attr(list_filter(span.events, lambda e: e.name = 'gen_ai.choice')[1].attributes,
                             'message').kvlistValue, '$.values[1].value.stringValue')
  ) AS output_text,
  coalesce(attr(sa, 'gen_ai.usage.input_tokens').intValue,
           attr(sa, 'gen_ai.usage.prompt_tokens').intValue)::BIGINT AS tokens_in,
  coalesce(attr(sa, 'gen_ai.usage.output_tokens').intValue,
           attr(sa, 'gen_ai.usage.completion_tokens').intValue)::BIGINT AS tokens_out,
  CASE WHEN span.status.code = 2 THEN 'error' ELSE 'ok' END AS status,
  attr(sa, 'error.type').stringValue AS error_type,
  attr(sa, 'server.address').stringValue AS server_address,
  attr(sa, 'server.port').intValue::INTEGER AS server_port,
  service_name
FROM a
"""
CALLS_SQL = """
CREATE TEMP TABLE calls AS
SELECT * REPLACE (coalesce(session_id, first(session_id IGNORE NULLS) OVER (PARTITION BY trace_id)) AS session_id)
FROM spans QUALIFY operation IN ('chat', 'text_completion', 'generate_content')
"""
PARENTS_SQL = """
SELECT count(*),
       count(*) FILTER (parent_id IS NULL),
       count(*) FILTER (parent_id IS NOT NULL AND parent_id NOT IN (SELECT span_id FROM spans))
FROM calls
"""

DUCKDB_COUNT = (
    HWM_MB
    + r"""
import json, sys, time
from pathlib import Path
import duckdb

con = duckdb.connect()
baseline = hwm_mb()
started, cpu = time.perf_counter(), time.process_time()
(lines,) = con.execute("SELECT count(*) FROM read_json(?, format = 'newline_delimited')", [sys.argv[1]]).fetchone()
elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu
Path(sys.argv[2]).write_text(json.dumps({"elapsed_s": elapsed, "cpu_s": cpu_s, "baseline_mb": baseline, "lines": lines,
                                         "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
                                         "version": duckdb.__version__}))
"""
)

DUCKDB_EXTRACT = (
    HWM_MB
    + r"""
import json, sys, time
from pathlib import Path
import duckdb

sql = json.loads(sys.argv[1])
con = duckdb.connect()
con.execute("CREATE MACRO attr(attrs, k) AS list_filter(attrs, lambda a: a.key = k)[1].value")
con.execute("CREATE MACRO renamed(p) AS coalesce(map_extract_value(MAP " + sql["renames"] + ", p), p)")
baseline = hwm_mb()
started, cpu = time.perf_counter(), time.process_time()
con.execute(sql["extract"], {"file": sys.argv[2]})
con.execute(sql["calls"])
rows, without_parent, orphans = con.execute(sql["parents"]).fetchone()
elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu
(spans,) = con.execute("SELECT count(*) FROM spans").fetchone()
Path(sys.argv[3]).write_text(json.dumps({"elapsed_s": elapsed, "cpu_s": cpu_s, "baseline_mb": baseline, "rows": rows,
                                         "spans": spans, "without_parent": without_parent, "orphans": orphans}))
"""
)


def run_child(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd`` plus a result-file argument; return the JSON it wrote (or why it failed), its peak RSS
    (``ru_maxrss`` from ``wait4``, the child's own) and the 1-minute load average just before it."""
    with tempfile.TemporaryDirectory(prefix="rescue-bench-out-") as tmp, tempfile.TemporaryFile() as log:
        result = Path(tmp) / "result.json"
        load = os.getloadavg()[0]
        proc = subprocess.Popen([*cmd, str(result)], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
        if code == 0 and result.exists():
            return {**json.loads(result.read_text()), "peak_mb": peak_mb, "load": load}
        log.seek(0)
        tail = "\n".join(log.read().decode(errors="replace").strip().splitlines()[-15:])
        return {"failed": f"exit {code}: {tail[-3000:]}", "peak_mb": peak_mb, "load": load}


def _renames_sql() -> str:
    from rescue.traces.vocabulary import PROVIDER_RENAMES

    return "{" + ", ".join(f"'{old}': '{new}'" for old, new in PROVIDER_RENAMES.items()) + "}"


def steps(path: Path, skip_profile: bool) -> dict[str, list[str]]:
    """The command of each measured step (the result file is appended when it runs)."""
    sql = json.dumps(
        {"extract": EXTRACT_SQL, "calls": CALLS_SQL, "parents": PARENTS_SQL, "renames": _renames_sql()}
    )
    found = {"rescue read": [sys.executable, "-c", RESCUE_READ, str(path)]}
    if not skip_profile:
        found["rescue profile"] = [sys.executable, "-c", RESCUE_PROFILE, str(PROJECT), str(path), AS_OF]
    found["duckdb count"] = [sys.executable, "-c", DUCKDB_COUNT, str(path)]
    found["duckdb extract"] = [sys.executable, "-c", DUCKDB_EXTRACT, sql, str(path)]
    return found


def describe_run(name: str, run: dict[str, Any]) -> str:
    if "failed" in run:
        return f"FAILED ({run['failed']})"
    extra = ""
    if name == "rescue read":
        extra = f", {run['rows']:,} calls of {run['spans']:,} spans, frame {run['frame_mb']:.0f} MB"
    elif name == "rescue profile":
        extra = f" (read {run['read_s']:.2f} s), status {run['status']}, {run['rows']:,} calls"
        if run["status"] != "ok":
            extra += f": {run['error']}"
    elif name == "duckdb count":
        extra = f", {run['lines']:,} lines"
    elif name == "duckdb extract":
        extra = f", {run['rows']:,} calls of {run['spans']:,} spans"
    cpu = f" (CPU {run['cpu_s']:.2f} s)" if "cpu_s" in run else ""
    return f"{run['elapsed_s']:.2f} s{cpu}, peak {run['peak_mb']:.0f} MB (load {run['load']:.1f}){extra}"


# --- report -------------------------------------------------------------------------------------------


def median(runs: list[dict[str, Any]], key: str) -> float | None:
    done = [r[key] for r in runs if "failed" not in r and r.get(key) is not None]
    return statistics.median(done) if done else None


def ratio(mine: float | None, theirs: float | None) -> str:
    return "n/a" if mine is None or not theirs else f"{mine / theirs:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--spans", type=int, default=1_000_000, help="spans to generate, LLM calls and parents"
    )
    parser.add_argument("--repeats", type=int, default=3, help="rounds of every step, in turns")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--keep", type=Path, help="generate the file here and keep it (reused when it matches)"
    )
    parser.add_argument(
        "--file", type=Path, help="measure this OTLP JSON lines file instead of generating one"
    )
    parser.add_argument("--skip-profile", action="store_true", help="measure the read, not profile_traces")
    args = parser.parse_args()
    if args.keep and args.file:
        parser.error("--keep and --file exclude each other")

    print(
        f"machine: {os.cpu_count()} cores, 1-minute load average {os.getloadavg()[0]:.2f} at the start",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="rescue-traces-bench-") as tmp:
        if args.file:
            path, origin = args.file.resolve(), "given with --file"
        else:
            calls = max(1, round(args.spans / SPANS_PER_CALL))
            path = (args.keep or Path(tmp) / "traces.jsonl").resolve()
            meta = ensure_file(path, calls, args.seed)
            origin = (
                f"generate_otlp({calls:,} calls, seed {args.seed}) from {REVIEWS.relative_to(ROOT)}, "
                + ("reused" if meta["reused"] else "generated")
                + f" (generation took {meta['generate_s']:.0f} s, peak {meta['generate_peak_mb']:.0f} MB)"
            )
        size_mb = path.stat().st_size / 1e6
        print(f"file: {path}: {size_mb:,.1f} MB ({size_mb / 1e3:.2f} GB); {origin}", flush=True)
        with path.open("rb") as stream:  # into the page cache, so no step pays for the first read from disk
            while stream.read(1 << 24):
                pass
        commands = steps(path, args.skip_profile)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
        load_before = os.getloadavg()[0]
        print(f"{args.repeats} rounds of {', '.join(commands)} (a fresh process each, in turns):", flush=True)
        for i in range(args.repeats):
            for name, cmd in commands.items():
                run = run_child(cmd)
                runs[name].append(run)
                print(f"  round {i + 1} {name:15} {describe_run(name, run)}", flush=True)
        load_after = os.getloadavg()[0]
    report(runs, size_mb, load_before, load_after, args.repeats)


def report(
    runs: dict[str, list[dict[str, Any]]], size_mb: float, load_before: float, load_after: float, repeats: int
) -> None:
    """The medians, throughput and ratios to DuckDB."""
    print()
    print("=" * 100)
    print(
        f"1-minute load average: {load_before:.2f} before the runs, {load_after:.2f} after, on {os.cpu_count()} "
        "cores (above the core count, other work shared the CPU and inflated every time)"
    )
    read = runs["rescue read"]
    spans = next((r["spans"] for r in read if "failed" not in r), None)
    calls = next((r["rows"] for r in read if "failed" not in r), None)
    if spans is not None:
        print(f"file: {size_mb:,.1f} MB, {spans:,} spans, {calls:,} LLM calls")
    seconds = {name: median(found, "elapsed_s") for name, found in runs.items()}
    peaks = {name: median(found, "peak_mb") for name, found in runs.items()}
    cpus = {name: median(found, "cpu_s") for name, found in runs.items()}
    print(f"medians of {repeats} runs:")
    for name in runs:
        s, peak = seconds[name], peaks[name]
        if s is None:
            failed = next((r["failed"] for r in runs[name] if "failed" in r), "no run")
            print(f"  {name:15} FAILED ({failed})")
            continue
        rate = f"{spans / s:,.0f} spans/s, " if spans else ""
        extra = ""
        if name == "rescue profile":
            read_s = median(runs[name], "read_s")
            extra = f"; of which the read {read_s:.2f} s, the profile after it {s - read_s:.2f} s"
        cpu = f"  CPU {cpus[name]:7.2f} s" if cpus[name] is not None else ""
        print(f"  {name:15} {s:7.2f} s  {rate}{size_mb / s:6.1f} MB/s  peak {peak:6.0f} MB{cpu}{extra}")
    count, extract = runs["duckdb count"], runs["duckdb extract"]
    threads = next((r["threads"] for r in count if "failed" not in r), "?")
    version = next((r["version"] for r in count if "failed" not in r), "?")
    print(
        f"DuckDB {version}, {threads} threads; rescue reads on one thread (the profile adds one for languages)"
    )
    done = next((r for r in extract if "failed" not in r), None)
    if done is not None and calls is not None:
        same = (
            "same as rescue" if done["rows"] == calls and done["spans"] == spans else "NOT the same as rescue"
        )
        print(
            f"  duckdb extract found {done['rows']:,} calls of {done['spans']:,} spans ({same}), "
            f"{done['without_parent']:,} without a parent, {done['orphans']:,} whose parent is not in the file"
        )
    print(
        "ratios (rescue / DuckDB; above 1 means rescue takes longer or more memory; CPU: all threads' seconds):"
    )
    for mine in ("rescue read", "rescue profile"):
        if mine not in runs:
            continue
        for theirs in ("duckdb extract", "duckdb count"):
            print(
                f"  {mine} / {theirs}: time {ratio(seconds[mine], seconds[theirs])}, "
                f"CPU {ratio(cpus[mine], cpus[theirs])}, peak memory {ratio(peaks[mine], peaks[theirs])}"
            )


if __name__ == "__main__":
    main()
