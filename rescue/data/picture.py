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
from datetime import date
from typing import Any

import duckdb
import numpy as np

from ..errors import SourceUnavailable
from ..inputs import read_demo
from ..spec import Source, Spec
from . import language
from .connect import OpenSource, open_source, time_limit
from .latency import probe_latency
from .pii import scan_table
from .profile import (
    Relation,
    column_kind,
    deep_relation,
    duplicate_rows,
    freshness,
    key_profile,
    profile_columns,
    quote_ident,
)
from .traces import production_observed, profile_traces, source_entry

PII_ROWS = 50_000  # the first rows of a source scanned for personal data (and sampled for languages)
OVERLAP_ROWS = 1_000_000  # ids/texts per source compared across sources
LANGUAGE_MIN_MEDIAN = 20  # a text column whose median value is shorter holds codes or labels, not prose
_THREADS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rescue-texts")


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


def _hashes(rel: Relation, value_sql: str, column: str, where: str = "") -> np.ndarray:
    """Sorted distinct 64-bit hashes of ``value_sql`` over the first OVERLAP_ROWS rows where ``column`` is set.

    Sets of hashes are compared across sources (a false match between two sources of a million values
    each has odds of about one in 20 million) and stay 8 bytes a value, in numpy, never Python objects.
    """
    c = quote_ident(column)
    # a LIMIT keeps the first rows in their order, which slows the scan: skip it when every row fits
    limit = f" LIMIT {OVERLAP_ROWS}" if rel.rows > OVERLAP_ROWS else ""
    hashes = rel.con.execute(
        f"SELECT DISTINCT h FROM (SELECT hash({value_sql}) AS h FROM {rel.from_sql} "
        f"WHERE {c} IS NOT NULL{where}{limit})"
    ).fetchnumpy()["h"]
    return np.sort(np.asarray(hashes, dtype=np.uint64))


def _text_hashes(rel: Relation, column: str) -> np.ndarray:
    """The texts, trimmed and lower-cased, as hashes (see :func:`_hashes`)."""
    c = quote_ident(column)
    # trim() copies every value: only the few with a space at either end need it
    trimmed = f"CASE WHEN starts_with({c}, ' ') OR ends_with({c}, ' ') THEN trim({c}) ELSE {c} END"
    return _hashes(rel, f"lower({trimmed})", column, f" AND {c} <> ''")


def _ids(rel: Relation, column: str) -> np.ndarray:
    """The ids as text, as hashes (see :func:`_hashes`): 42 in one source matches '42' in another."""
    return _hashes(rel, f"CAST({quote_ident(column)} AS VARCHAR)", column)


def _probe_ids(rel: Relation, column: str, probes: int) -> list[Any]:
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


def _first_text_rows(rel: Relation, columns: dict[str, dict[str, Any]]) -> Any:
    """The text columns of the first PII_ROWS rows, as an Arrow table."""
    quoted = ", ".join(quote_ident(n) for n, s in columns.items() if s["type"] == "text")
    result = rel.con.execute(f"SELECT {quoted} FROM {rel.from_sql} LIMIT {PII_ROWS}")
    with warnings.catch_warnings():
        # DuckDB suggests con.sql() to spare one copy, but that refuses a connection whose previous
        # result was not read to the end; a copy of these few rows costs nothing
        warnings.simplefilter("ignore", UserWarning)
        to_arrow = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table  # DuckDB < 1.4
        return to_arrow()


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


def profile_source(
    spec: Spec, source: Source, as_of: date, probes: int = 15, pii_region: str = "GB"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Profile one source. Returns its picture entry and private working data (hashes, ids) for cross-source checks."""
    entry = source_entry(spec, source)
    work: dict[str, Any] = {}
    if source.text_column:
        language.preload()  # its language will be told: load the model in the background meanwhile
    try:
        opened = open_source(spec, source, source.timeout_s)
    except SourceUnavailable as exc:
        entry["status"] = "unavailable"
        entry["error"] = {"kind": exc.kind, "message": exc.reason}
        return entry, work
    try:
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
        rel = deep_relation(opened, source.sample_rows)
        if source.id_column:
            entry["key"] = key_profile(rel, source.id_column)
        unique_key = source.id_column if entry["key"] and entry["key"]["unique"] else None
        # a unique key also draws the sample of the character checks (in parallel, in place)
        columns = profile_columns(rel, schema, sample_key=unique_key)
        if rel.sampled:
            server = _server_pass(opened)
            entry["rows"] = server["rows"]
            entry["sampled_rows"] = rel.rows
            for name, nulls in server["nulls"].items():
                columns[name]["nulls_full_table"] = nulls
            if server["rows"] > rel.rows:
                entry["notes"].append(f"deep checks on the first {rel.rows:,} of {server['rows']:,} rows")
        else:
            entry["rows"] = rel.rows
        entry["profile"] = columns
        texts = None
        if any(s["type"] == "text" for s in columns.values()):
            # personal data and languages are Python work on the first rows: done on a thread of its own
            # while DuckDB (which lets go of the interpreter while it runs) answers the queries below
            table = _first_text_rows(rel, columns)
            entry["pii_scanned_rows"] = table.num_rows
            texts = _THREADS.submit(_read_texts, table, columns, source.text_column, pii_region)
            if table.num_rows < rel.rows:
                entry["notes"].append(
                    f"personal data counted in the first {table.num_rows:,} rows; languages told from a "
                    f"sample of their texts"
                )
        # two equal rows have equal ids: with a unique id column there is no duplicate row to look for
        entry["duplicate_rows"] = 0 if unique_key else duplicate_rows(rel, list(columns))
        if source.id_column:
            work["ids"] = _ids(rel, source.id_column)
        if source.timestamp_column:
            kind = column_kind(schema[source.timestamp_column])
            entry["freshness"] = freshness(rel, source.timestamp_column, kind, as_of)
        if source.text_column:
            work["text_hashes"] = _text_hashes(rel, source.text_column)
        if texts is not None:
            entry["pii"], languages, problem = texts.result()
            for name, mix in languages.items():
                columns[name]["language_mix"] = mix
            if problem:
                entry["notes"].append(problem)
        entry["pii_found"] = any(n > 0 for counts in entry["pii"].values() for n in counts.values())
        ids = _probe_ids(rel, source.id_column, probes) if source.id_column else []
        entry["latency"] = probe_latency(opened, source.id_column, ids, probes)
    except SourceUnavailable as exc:
        entry["status"] = "unavailable"
        entry["error"] = {"kind": exc.kind, "message": exc.reason}
    except Exception as exc:  # any driver failure is a finding in the picture, not a crash
        from .connect import classify_error, error_line

        entry["status"] = "unavailable"
        entry["error"] = {"kind": classify_error(exc), "message": error_line(exc)}
    finally:
        opened.close()
    return entry, work


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
    return {"column": text_col, "rows": len(frame), "stats": stats, "hashes": _text_hashes(rel, text_col)}


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
    entries, work = [], {}
    for source in spec.sources:
        if source.kind == "traces":  # an LLM app's production calls: their own profile (rescue.data.traces)
            entry, private = profile_traces(spec, source, as_of, pii_region), {}
        else:
            entry, private = profile_source(spec, source, as_of, probes, pii_region)
        entries.append(entry)
        work[source.name] = private

    # cross-source: ids and texts that appear in more than one source
    names = [s.name for s in spec.sources]
    key_overlap, text_overlap = [], []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared_ids = _shared(work[a].get("ids"), work[b].get("ids"))
            if shared_ids is not None:
                key_overlap.append({"sources": [a, b], "shared_ids": shared_ids})
            shared_texts = _shared(work[a].get("text_hashes"), work[b].get("text_hashes"))
            if shared_texts is not None:
                text_overlap.append({"sources": [a, b], "shared_texts": shared_texts})

    # the demo against production: does the PoC's demo look like the data it will meet?
    demo = _demo_profile(spec)
    demo_vs_production = None
    if demo is not None:
        production = []
        for entry, source in zip(entries, spec.sources, strict=True):
            if entry["status"] == "ok" and source.text_column:
                stats = entry["profile"][source.text_column]
                production.append(
                    {"source": source.name, **_text_summary(stats, entry["sampled_rows"] or entry["rows"])}
                )
        found = sum(_shared(demo["hashes"], work[s].get("text_hashes")) or 0 for s in names)
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
