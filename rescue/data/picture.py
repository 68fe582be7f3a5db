"""Day 2 — the data picture: every production source profiled where it lives, read-only.

For each source: reachability (with a named error), owner and the evidence for the claim, region
against the allowed regions, a one-pass profile, freshness, read latency and personal-data hits
(counts only, never values). Across sources: key and text overlap, and the PoC's demo examples set
against the production text ("data only in the demo"). A ``kind: traces`` source (an LLM app's production
calls) is profiled by :mod:`.traces`, and what it observed (latency, cost, destinations) is summed up in
``production`` for the gap.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np

from ..errors import SourceUnavailable
from ..inputs import read_demo
from ..pii import scan_table
from ..spec import Source, Spec
from . import language
from .connect import OpenSource, open_source, time_limit
from .latency import probe_latency
from .profile import (
    Relation,
    column_kind,
    deep_relation,
    duplicate_rows,
    freshness,
    key_profile,
    profile_columns,
    profile_table,
    quote_ident,
)
from .sampling import (
    ALL_ROWS,
    HASH_BUCKETS,
    HASH_OF_VALUE,
    Sampling,
    duckdb_sample_sql,
    fraction_for,
    hash_cut,
    overlap_estimate,
)
from .traces import production_observed, profile_traces, source_entry

PII_ROWS = 50_000  # rows scanned for personal data (a seeded random sample above; languages told from them)
OVERLAP_ROWS = 1_000_000  # about this many ids/texts per source compared across sources (by value hash above)
LANGUAGE_MIN_MEDIAN = 20  # a text column whose median value is shorter holds codes or labels, not prose
_THREADS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rescue-texts")
# engines that run the full profile where the data lives; OLTP databases opt in with ``pushdown: full``
WAREHOUSES = {"pyspark", "bigquery", "snowflake", "trino", "databricks", "clickhouse", "athena", "impala"}


def _server_pass(opened: OpenSource) -> dict[str, Any]:
    """Row count and per-column nulls over the whole server table (light aggregates only)."""
    t = opened.table
    aggs = {"rows": t.count()}
    for i, name in enumerate(t.columns):
        aggs[f"n{i}"] = (
            t[name].isnull().sum().coalesce(0)
        )  # SUM over no rows is NULL: an empty table has no nulls
    with time_limit(opened):
        row = t.aggregate(**aggs).to_pandas().iloc[0]
    return {"rows": int(row["rows"]), "nulls": {name: int(row[f"n{i}"]) for i, name in enumerate(t.columns)}}


@dataclass
class Hashes:
    """A source's ids or texts as sorted distinct 64-bit hashes, and how the values were drawn."""

    values: np.ndarray
    sampling: Sampling
    demo_found: int | None = None
    """Demo texts found among all of the source's texts (looked up whatever the sample)."""


def _hashes(
    rel: Relation, value_sql: str, column: str, where: str = "", demo: np.ndarray | None = None
) -> Hashes:
    """Sorted distinct 64-bit hashes of ``value_sql`` where ``column`` is set: every value up to OVERLAP_ROWS
    rows, above it the values whose hash falls below the sample's cut (a seeded sample of values, the same
    values in every source: see :func:`.sampling.overlap_estimate`). ``demo`` hashes are looked up in every
    row whatever the sample.

    Sets of hashes are compared across sources (a false match between two sources of a million values
    each has odds of about one in 20 million) and stay 8 bytes a value, in numpy, never Python objects.
    """
    c = quote_ident(column)
    fraction = fraction_for(rel.rows, OVERLAP_ROWS)
    cut = hash_cut(fraction)
    keep = ""
    if fraction < 1:
        keep = f"h % {HASH_BUCKETS} < {cut}"
        if demo is not None and len(demo):
            keep = f"({keep} OR h IN ({', '.join(str(int(h)) for h in demo)}))"
        keep = f" WHERE {keep}"
    found = np.asarray(
        rel.con.execute(
            f"SELECT DISTINCT h FROM (SELECT hash({value_sql}) AS h FROM {rel.from_sql} "
            f"WHERE {c} IS NOT NULL{where}){keep}"
        ).fetchnumpy()["h"],
        dtype=np.uint64,
    )
    demo_found = None if demo is None else int(np.intersect1d(found, demo).size)
    if fraction < 1:
        found = found[found % np.uint64(HASH_BUCKETS) < np.uint64(cut)]
        sampling = Sampling(HASH_OF_VALUE, fraction)
    else:
        sampling = Sampling(ALL_ROWS, 1.0, None)
    sampling = rel.sampling.then(sampling.with_rows(int(found.size)))
    return Hashes(np.sort(found), sampling, demo_found)


def _text_hashes(rel: Relation, column: str, demo: np.ndarray | None = None) -> Hashes:
    """The texts, trimmed and lower-cased, as hashes (see :func:`_hashes`)."""
    c = quote_ident(column)
    return _hashes(rel, normalised_text_sql(c), column, f" AND {c} <> ''", demo)


def normalised_text_sql(c: str) -> str:
    """A text trimmed and lower-cased, as the overlap compares it (DuckDB SQL over the quoted column)."""
    # trim() copies every value: only the few with a space at either end need it
    return f"lower(CASE WHEN starts_with({c}, ' ') OR ends_with({c}, ' ') THEN trim({c}) ELSE {c} END)"


def _ids(rel: Relation, column: str) -> Hashes:
    """The ids as text, as hashes (see :func:`_hashes`): 42 in one source matches '42' in another."""
    return _hashes(rel, f"CAST({quote_ident(column)} AS VARCHAR)", column)


def _probe_ids(rel: Relation, column: str, probes: int) -> list[Any]:
    # the ids a point lookup asks for: any existing ones do (a latency probe, not a statistical sample)
    c = quote_ident(column)
    return [
        r[0]
        for r in rel.con.execute(
            f"SELECT DISTINCT {c} FROM (SELECT {c} FROM {rel.from_sql} WHERE {c} IS NOT NULL LIMIT {probes * 4})"
            f" LIMIT {probes}"
        ).fetchall()
    ]


def _shared(a: np.ndarray | None, b: np.ndarray | None) -> int | None:
    if a is None or b is None or not len(a) or not len(b):
        return None
    return int(np.intersect1d(a, b, assume_unique=True).size)


def _overlap(a: Hashes | None, b: Hashes | None) -> dict[str, Any] | None:
    """Values two sources share: exact when both read every value, else estimated from their samples."""
    shared = _shared(a.values if a else None, b.values if b else None)
    if shared is None or a is None or b is None:
        return None
    estimate, estimated = overlap_estimate(shared, a.sampling, b.sampling)
    if not estimated:
        return {"shared": shared}
    coordinated = a.sampling.method == b.sampling.method == HASH_OF_VALUE
    how = "the same hash of the value in both" if coordinated else "independent samples"
    return {
        "shared": estimate,
        "estimated": True,
        "shared_in_samples": shared,
        "sampling": f"{how}: {a.sampling.fraction:.3g} and {b.sampling.fraction:.3g} of the values",
    }


def _text_sample(rel: Relation, columns: dict[str, dict[str, Any]], key: str | None) -> tuple[Any, Sampling]:
    """The text columns of a seeded random sample of about PII_ROWS rows (every row up to it), as an
    Arrow table, and how the rows were drawn. ``key`` (unique) is hashed to draw them in parallel."""
    quoted = ", ".join(quote_ident(n) for n, s in columns.items() if s["type"] == "text")
    key_sql = quote_ident(key) if key else None
    from_sql, sampling = duckdb_sample_sql(rel.from_sql, fraction_for(rel.rows, PII_ROWS), key_sql)
    result = rel.con.execute(f"SELECT {quoted} FROM {from_sql}")
    with warnings.catch_warnings():
        # DuckDB suggests con.sql() to spare one copy, but that refuses a connection whose previous
        # result was not read to the end; a copy of these few rows costs nothing
        warnings.simplefilter("ignore", UserWarning)
        to_arrow = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table  # DuckDB < 1.4
        table = to_arrow()
    return table, rel.sampling.then(sampling.with_rows(table.num_rows))


def _prose_columns(table: Any, columns: dict[str, dict[str, Any]], text_column: str | None) -> list[str]:
    """The columns whose language is worth telling: the declared text column, and any other text column
    of sentences rather than codes or addresses (not numbers or dates, a median length of at least
    LANGUAGE_MIN_MEDIAN characters, and most values hold a space)."""
    import pyarrow.compute as pc

    prose = []
    for name in table.column_names:
        stats = columns[name]
        if name != text_column:
            if stats.get("inferred") != "text" or (stats.get("len_p50") or 0) < LANGUAGE_MIN_MEDIAN:
                continue
            spaced = pc.sum(pc.match_substring(table.column(name), " ")).as_py() or 0
            if spaced * 2 < table.num_rows - table.column(name).null_count:
                continue
        prose.append(name)
    return prose


def _read_texts(
    table: Any, columns: dict[str, dict[str, Any]], text_column: str | None, pii_region: str
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, Any]], str | None]:
    """Personal-data counts per text column, the language mix of the prose columns, and why not if not."""
    pii = scan_table(table, region=pii_region)
    try:
        languages = {
            name: language.language_mix(table.column(name).to_pylist())
            for name in _prose_columns(table, columns, text_column)
        }
    except Exception as exc:  # the language mix is a nice-to-have: never the reason a source fails
        return pii, {}, f"language mix not told: {type(exc).__name__}: {exc}"
    return pii, languages, None


def pushdown_mode(opened: OpenSource, source: Source) -> str:
    """Where the profile runs: ``in place`` (DuckDB), ``full`` (the whole profile on the engine: warehouses,
    and OLTP databases whose source says ``pushdown: full``) or ``light`` (an OLTP database's default:
    counts and nulls on the server, the deep checks on a random sample pulled here)."""
    if opened.engine == "duckdb":
        return "in place"
    declared = getattr(source, "pushdown", None)  # the spec's opt-in, for OLTP databases
    if declared in ("full", "light"):
        return declared
    return "full" if opened.engine in WAREHOUSES else "light"


def profile_source(
    spec: Spec,
    source: Source,
    as_of: date,
    probes: int = 15,
    pii_region: str = "GB",
    demo: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Profile one source. Returns its picture entry and private working data (hashes, ids) for cross-source
    checks; ``demo`` (from the demo's profile) has its texts looked up in the source's texts."""
    if source.text_column:
        language.preload()  # its language will be told: load the model in the background meanwhile
    try:
        opened = open_source(spec, source, source.timeout_s)
    except SourceUnavailable as exc:
        entry = source_entry(spec, source)
        entry["status"] = "unavailable"
        entry["error"] = {"kind": exc.kind, "message": exc.reason}
        return entry, {}
    try:
        return profile_opened(spec, source, opened, as_of, probes, pii_region, demo)
    finally:
        opened.close()


def profile_opened(
    spec: Spec,
    source: Source,
    opened: OpenSource,
    as_of: date,
    probes: int = 15,
    pii_region: str = "GB",
    demo: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Profile a source already open (any Ibis backend): see :func:`profile_source`. The caller closes it."""
    entry = source_entry(spec, source)
    work: dict[str, Any] = {}
    try:
        _profile_into(entry, work, source, opened, as_of, probes, pii_region, demo)
    except SourceUnavailable as exc:
        entry["status"] = "unavailable"
        entry["error"] = {"kind": exc.kind, "message": exc.reason}
    except Exception as exc:  # any driver failure is a finding in the picture, not a crash
        from .connect import classify_error, error_line

        entry["status"] = "unavailable"
        entry["error"] = {"kind": classify_error(exc), "message": error_line(exc)}
    return entry, work


def _profile_into(
    entry: dict[str, Any],
    work: dict[str, Any],
    source: Source,
    opened: OpenSource,
    as_of: date,
    probes: int,
    pii_region: str,
    demo: dict[str, Any] | None,
) -> None:
    entry["engine"] = opened.engine
    entry["notes"] = list(opened.notes)
    schema = opened.table.schema()
    if any(column_kind(dtype) == "text" for dtype in schema.values()):
        language.preload()  # other prose columns may need it too
    for name, declared in (
        ("id_column", source.id_column),
        ("text_column", source.text_column),
        ("timestamp_column", source.timestamp_column),
    ):
        if declared and declared not in schema:
            raise SourceUnavailable(
                source.name, "no_column", f"{name} {declared!r} is not a column of the table"
            )
    mode = entry["pushdown"] = pushdown_mode(opened, source)
    sampling: dict[str, Any] = {}
    if mode == "full":
        from .pushdown import profile_in_engine

        found = profile_in_engine(opened, source, schema, as_of, probes, demo)
        entry.update(found.entry)
        entry["notes"] += found.notes
        entry["deviations"] = found.deviations
        sampling.update(found.sampling)
        columns = entry["profile"]
        texts = None
        if found.text_sample is not None:
            texts = _THREADS.submit(_read_texts, found.text_sample, columns, source.text_column, pii_region)
        work.update(found.work)
        ids = found.probe_ids
    else:
        server = _server_pass(opened) if mode == "light" else None
        key = source.id_column if server is not None else None
        rel = deep_relation(opened, source.sample_rows, server["rows"] if server else None, key)
        sampling["deep_checks"] = rel.sampling.record()
        if source.id_column:
            entry["key"] = key_profile(rel, source.id_column)
        unique_key = source.id_column if entry["key"] and entry["key"]["unique"] else None
        # a unique key also draws the sample of the character checks (in parallel, in place)
        columns, checked = profile_table(rel, schema, sample_key=unique_key)
        sampling["text_checks"] = checked.record()
        if server is not None:
            entry["rows"] = server["rows"]
            entry["sampled_rows"] = rel.rows
            for name, nulls in server["nulls"].items():
                columns[name]["nulls_full_table"] = nulls
            if server["rows"] > rel.rows:
                entry["notes"].append(
                    f"deep checks on {rel.sampling.describe()} ({rel.rows:,} of {server['rows']:,} rows)"
                )
        else:
            entry["rows"] = rel.rows
        entry["profile"] = columns
        texts = None
        if any(s["type"] == "text" for s in columns.values()):
            # personal data and languages are Python work on a sample: done on a thread of its own
            # while DuckDB (which lets go of the interpreter while it runs) answers the queries below
            table, drawn = _text_sample(rel, columns, unique_key)
            sampling["pii"] = sampling["languages"] = drawn.record()
            entry["pii_scanned_rows"] = table.num_rows
            texts = _THREADS.submit(_read_texts, table, columns, source.text_column, pii_region)
            if table.num_rows < entry["rows"]:
                entry["notes"].append(
                    f"personal data counted in {drawn.describe()} ({table.num_rows:,} rows); languages told "
                    f"from a sample of their texts"
                )
        # two equal rows have equal ids: with a unique id column there is no duplicate row to look for
        entry["duplicate_rows"] = 0 if unique_key else duplicate_rows(rel, list(columns))
        if rel.sampled:
            entry["notes"].append("duplicate rows, key uniqueness and freshness are of the sampled rows")
        if source.id_column:
            work["ids"] = _ids(rel, source.id_column)
        if source.timestamp_column:
            kind = column_kind(schema[source.timestamp_column])
            entry["freshness"] = freshness(rel, source.timestamp_column, kind, as_of)
        if source.text_column:
            work["text_hashes"] = _text_hashes(rel, source.text_column, demo["hashes"] if demo else None)
        ids = _probe_ids(rel, source.id_column, probes) if source.id_column else []
    for name, check in (("ids", "overlap_ids"), ("text_hashes", "overlap_texts")):
        if name in work:
            sampling[check] = work[name].sampling.record()
    if texts is not None:
        entry["pii"], languages, problem = texts.result()
        for name, mix in languages.items():
            columns[name]["language_mix"] = mix
        if problem:
            entry["notes"].append(problem)
    entry["sampling"] = sampling
    entry["pii_found"] = any(n > 0 for counts in entry["pii"].values() for n in counts.values())
    entry["latency"] = probe_latency(opened, source.id_column, ids, probes)


def _demo_profile(spec: Spec) -> dict[str, Any] | None:
    demo = read_demo(spec)
    if demo is None:
        return None
    frame, text_col = demo.frame, demo.text_column
    con = duckdb.connect()
    con.register("demo", frame[[text_col]])
    rel = Relation(con, "demo AS src", len(frame), False)
    import ibis

    stats = profile_columns(rel, ibis.schema({text_col: "string"}))[text_col]
    c = quote_ident(text_col)
    texts = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT {normalised_text_sql(c)} FROM demo WHERE {c} IS NOT NULL AND {c} <> '' ORDER BY 1"
        ).fetchall()
    ]
    hashes = _text_hashes(rel, text_col).values
    return {"column": text_col, "rows": len(frame), "stats": stats, "hashes": hashes, "texts": texts}


def _text_summary(stats: dict[str, Any], rows: int) -> dict[str, Any]:
    checked = stats.get("checked_rows") or rows  # the rows the text checks saw (a sample of big tables)

    def share(key: str) -> float:
        return round((stats.get(key) or 0) / checked, 4) if checked else 0.0

    return {
        "rows": rows,
        "len_p50": stats.get("len_p50"),
        "len_p95": stats.get("len_p95"),
        "html_entities": share("html_entities"),
        "markup": share("markup"),
        "mojibake": share("mojibake"),
        "line_breaks": share("line_breaks"),
        "empty": share("blanks"),
    }


def build_picture(
    spec: Spec, as_of: date | None = None, probes: int = 15, pii_region: str = "GB"
) -> dict[str, Any]:
    """Profile every declared source and assemble the ``data_picture`` artifact's payload."""
    as_of = as_of or date.today()
    # the demo first: its texts are looked up in every source's texts while the source is read
    demo = _demo_profile(spec)
    entries, work = [], {}
    for source in spec.sources:
        if source.kind == "traces":  # an LLM app's production calls: their own profile (rescue.data.traces)
            entry, private = profile_traces(spec, source, as_of, pii_region), {}
        else:
            entry, private = profile_source(spec, source, as_of, probes, pii_region, demo)
        entries.append(entry)
        work[source.name] = private

    # cross-source: ids and texts that appear in more than one source
    names = [s.name for s in spec.sources]
    key_overlap, text_overlap = [], []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            for field, out, listed in (
                ("ids", "shared_ids", key_overlap),
                ("text_hashes", "shared_texts", text_overlap),
            ):
                overlap = _overlap(work[a].get(field), work[b].get(field))
                if overlap is not None:
                    listed.append({"sources": [a, b], out: overlap.pop("shared"), **overlap})

    # the demo against production: does the PoC's demo look like the data it will meet?
    demo_vs_production = None
    if demo is not None:
        production = []
        for entry, source in zip(entries, spec.sources, strict=True):
            if entry["status"] == "ok" and source.text_column:
                stats = entry["profile"][source.text_column]
                production.append(
                    {"source": source.name, **_text_summary(stats, entry["sampled_rows"] or entry["rows"])}
                )
        found = sum((work[s]["text_hashes"].demo_found or 0) for s in names if "text_hashes" in work[s])
        demo_vs_production = {
            "demo": {"source": "demo", **_text_summary(demo["stats"], demo["rows"])},
            "production": production,
            "demo_texts_found_in_production": found,
        }

    reachable = [e for e in entries if e["status"] == "ok"]
    latency_p95 = [
        e["latency"]["point_lookup_p95_ms"]
        for e in reachable
        if e["latency"] and e["latency"]["point_lookup_p95_ms"] is not None
    ]
    allowed = set(spec.compliance.allowed_regions)
    providers = [
        {
            "name": p.name,
            "region": p.region,
            "region_allowed": (p.region in allowed) if allowed else None,
            "receives_personal_data": p.receives_personal_data,
        }
        for p in spec.compliance.providers
    ]
    pii_mismatch = [e["name"] for e in reachable if e["pii_found"] and e["personal_data_declared"] is False]
    production = production_observed(entries)
    return {
        "as_of": as_of.isoformat(),
        "summary": {
            "sources": len(entries),
            "reachable": len(reachable),
            "unreachable_sources": len(entries) - len(reachable),
            "rows_total": sum(e["rows"] or 0 for e in reachable),
            "personal_data_found_in": [e["name"] for e in reachable if e["pii_found"]],
            "personal_data_undeclared_in": pii_mismatch,
            "outside_allowed_regions": [e["name"] for e in entries if e["region_allowed"] is False],
            "unowned_sources": [e["name"] for e in entries if e["owner"] is None],
            "owners_without_evidence": [
                e["name"] for e in entries if e["owner"] is not None and not e["owner_evidence"]
            ],
        },
        "latency": {
            "worst_p95_ms": max(latency_p95) if latency_p95 else None,
            "target_p95_ms": spec.targets.latency_p95_ms,
            "probes_per_source": probes,
        },
        "residency": {"allowed_regions": sorted(allowed), "providers": providers},
        "sources": entries,
        "cross_source": {"key_overlap": key_overlap, "text_overlap": text_overlap},
        "demo_vs_production": demo_vs_production,
        **({"production": production} if production is not None else {}),
    }
