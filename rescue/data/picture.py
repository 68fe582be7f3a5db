"""Day 2 — the data picture: every production source profiled where it lives, read-only.

For each source: reachability (with a named error), owner and the evidence for the claim, region
against the allowed regions, a one-pass profile, freshness, read latency and personal-data hits
(counts only, never values). Across sources: key and text overlap, and the PoC's demo examples set
against the production text ("data only in the demo").
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pandas as pd

from ..spec import Source, Spec
from .connect import OpenSource, SourceError, open_source, time_limit
from .latency import probe_latency
from .pii import scan_columns
from .profile import Relation, _kind, deep_relation, duplicate_rows, freshness, key_profile, profile_columns

PII_ROWS = 50_000  # rows per source scanned for personal data
OVERLAP_ROWS = 1_000_000  # ids/texts per source compared across sources


def _location(source: Source) -> str:
    # never a DSN: it may carry credentials; show the reference instead
    if source.kind in ("postgres", "ibis"):
        return f"{source.dsn} table {source.table}"
    if source.kind in ("sqlite", "duckdb"):
        return f"{source.location} table {source.table}"
    return source.location or ""


def _owner(source: Source) -> dict[str, Any] | None:
    if source.owner is None:
        return None
    return source.owner.model_dump(mode="json")


def _server_pass(opened: OpenSource) -> dict[str, Any]:
    """Row count and per-column nulls over the whole server table (light aggregates only)."""
    t = opened.table
    aggs = {"rows": t.count()}
    for i, name in enumerate(t.columns):
        aggs[f"n{i}"] = t[name].isnull().sum()
    with time_limit(opened):
        row = t.aggregate(**aggs).to_pandas().iloc[0]
    return {"rows": int(row["rows"]), "nulls": {name: int(row[f"n{i}"]) for i, name in enumerate(t.columns)}}


def _text_hashes(rel: Relation, column: str) -> set[str]:
    c = '"' + column.replace('"', '""') + '"'
    # the first OVERLAP_ROWS texts, hashed after trimming and lower-casing (the limit applies before DISTINCT)
    rows = rel.con.execute(
        f"SELECT DISTINCT md5(lower(trim(t))) FROM (SELECT {c} AS t FROM {rel.from_sql} "
        f"WHERE {c} IS NOT NULL AND {c} <> '' LIMIT {OVERLAP_ROWS})"
    ).fetchall()
    return {r[0] for r in rows}


def _ids(rel: Relation, column: str) -> list[Any]:
    c = '"' + column.replace('"', '""') + '"'
    return [
        r[0]
        for r in rel.con.execute(
            f"SELECT DISTINCT {c} FROM {rel.from_sql} WHERE {c} IS NOT NULL LIMIT {OVERLAP_ROWS}"
        ).fetchall()
    ]


def profile_source(
    spec: Spec, source: Source, as_of: date, probes: int = 15, pii_region: str = "GB"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Profile one source. Returns its picture entry and private working data (hashes, ids) for cross-source checks."""
    allowed = set(spec.compliance.allowed_regions)
    entry: dict[str, Any] = {
        "name": source.name,
        "kind": source.kind,
        "location": _location(source),
        "owner": _owner(source),
        "owner_evidence": bool(source.owner and source.owner.evidence),
        "region": source.region,
        "region_allowed": (source.region in allowed) if (allowed and source.region) else None,
        "personal_data_declared": source.contains_personal_data,
        "status": "ok",
        "error": None,
        "notes": [],
        "engine": None,
        "rows": None,
        "sampled_rows": None,
        "profile": None,
        "duplicate_rows": None,
        "key": None,
        "freshness": None,
        "latency": None,
        "pii": {},
        "pii_found": None,
    }
    work: dict[str, Any] = {}
    try:
        opened = open_source(spec, source, source.timeout_s)
    except SourceError as exc:
        entry["status"] = "unavailable"
        entry["error"] = {"kind": exc.kind, "message": exc.reason}
        return entry, work
    try:
        entry["engine"] = opened.engine
        entry["notes"] = list(opened.notes)
        rel = deep_relation(opened, source.sample_rows)
        schema = opened.table.schema()
        columns = profile_columns(rel, schema)
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
        entry["duplicate_rows"] = duplicate_rows(rel, list(columns))
        for name, declared in (
            ("id_column", source.id_column),
            ("text_column", source.text_column),
            ("timestamp_column", source.timestamp_column),
        ):
            if declared and declared not in columns:
                raise SourceError(
                    source.name, "no_column", f"{name} {declared!r} is not a column of the table"
                )
        if source.id_column:
            entry["key"] = key_profile(rel, source.id_column)
            work["ids"] = _ids(rel, source.id_column)
        if source.timestamp_column:
            kind = _kind(schema[source.timestamp_column])
            entry["freshness"] = freshness(rel, source.timestamp_column, kind, as_of)
        if source.text_column:
            work["text_hashes"] = _text_hashes(rel, source.text_column)
        text_columns = [n for n, s in columns.items() if s["type"] == "text"]
        if text_columns:
            quoted = ", ".join('"' + n.replace('"', '""') + '"' for n in text_columns)
            frame = rel.con.execute(f"SELECT {quoted} FROM {rel.from_sql} LIMIT {PII_ROWS}").df()
            entry["pii"] = scan_columns(frame, region=pii_region)
            entry["pii_scanned_rows"] = len(frame)
        entry["pii_found"] = any(n > 0 for counts in entry["pii"].values() for n in counts.values())
        ids = (work.get("ids") or [])[:probes]
        entry["latency"] = probe_latency(opened, source.id_column, ids, probes)
    except SourceError as exc:
        entry["status"] = "unavailable"
        entry["error"] = {"kind": exc.kind, "message": exc.reason}
    except Exception as exc:  # any driver failure is a finding in the picture, not a crash
        from .connect import _classify, _first_line

        entry["status"] = "unavailable"
        entry["error"] = {"kind": _classify(exc), "message": _first_line(exc)}
    finally:
        opened.close()
    return entry, work


def _demo_profile(spec: Spec) -> dict[str, Any] | None:
    if not spec.eval.demo_examples:
        return None
    frame = pd.read_csv(spec.path(spec.eval.demo_examples), dtype=str, keep_default_na=False)
    text_col = "text" if "text" in frame.columns else frame.columns[0]
    con = duckdb.connect()
    con.register("demo", frame[[text_col]])
    rel = Relation(con, "demo AS src", len(frame), False)
    import ibis

    stats = profile_columns(rel, ibis.schema({text_col: "string"}))[text_col]
    return {"column": text_col, "rows": len(frame), "stats": stats, "hashes": _text_hashes(rel, text_col)}


def _text_summary(stats: dict[str, Any], rows: int) -> dict[str, Any]:
    def share(key: str) -> float:
        return round((stats.get(key) or 0) / rows, 4) if rows else 0.0

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
        entry, private = profile_source(spec, source, as_of, probes, pii_region)
        entries.append(entry)
        work[source.name] = private

    # cross-source: ids and texts that appear in more than one source
    names = [s.name for s in spec.sources]
    key_overlap, text_overlap = [], []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ia, ib = work[a].get("ids"), work[b].get("ids")
            if ia and ib:
                key_overlap.append(
                    {"sources": [a, b], "shared_ids": len({str(x) for x in ia} & {str(x) for x in ib})}
                )
            ta, tb = work[a].get("text_hashes"), work[b].get("text_hashes")
            if ta and tb:
                text_overlap.append({"sources": [a, b], "shared_texts": len(ta & tb)})

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
        found = sum(len(demo["hashes"] & work[s].get("text_hashes", set())) for s in names)
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
    }
