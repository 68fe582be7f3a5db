"""Production traces as a Day 2 source: what an LLM app's calls did in production, read from its trace export.

A source of ``kind: traces`` is a file of spans (OTLP JSON, a Langfuse export or a Phoenix span dataframe,
read by :mod:`rescue.traces`, one row per LLM call). :func:`profile_traces` gives it the same entry as any other
source (owner, region, the text checks and personal-data counts of its prompts and completions, freshness)
and a ``traces`` section on what production did:

- **volume**: calls per UTC day over the whole range (days without a call included), the three busiest hours
  of the day (UTC) and the longest gap between two calls;
- **latency** p50/p95/p99 with bootstrap 95% intervals (:func:`rescue.stats.percentile_with_interval`), over
  all calls, per model and per operation; of successful calls only, as Day 4 times only live answers. Above
  :data:`INTERVAL_CALLS` calls the intervals are bootstrapped on a seeded random sample of that many (the
  percentiles themselves see every call; ``interval_sample`` says so);
- **tokens and cost** per request: tokens in and out (mean, p95) of the calls that report usage, priced as
  Day 4 prices them (:func:`rescue.prices.lookup`: ``prices.yaml``, then the genai-prices database), per model
  and over all; a model without a price leaves the cost unknown and says how to add it;
- **errors**: the rate of failed calls and the rate of each kind (``error.type``), with Wilson intervals;
- **destinations** (``server.address:port``) and **providers** (``gen_ai.provider.name``) with their calls,
  each destination matched to ``compliance.providers``: a provider covers a destination when its ``hosts``
  cover the destination's host (``api.example.com``, or ``*.example.com`` for any subdomain, as Day 4 matches
  the destinations it watches), else when its ``name`` is the calls' provider name and no other declared
  provider has that name. A covered destination is ``allowed`` or ``outside`` the allowed regions (or
  ``declared`` when the spec allows no region in particular); one no provider covers is ``undeclared``, one on
  this machine ``loopback``, one the calls do not record ``not recorded``;
- **personal data** counted in the prompts and in the completions apart, and per destination
  (:func:`rescue.pii.scan_table`: counts only, never a value), on every call up to :data:`PII_CALLS`
  calls, on a seeded random sample of that many above;
- **sessions**: how many, and turns per session (mean, p95, max);
- **read**: what the reader skipped and why (a truncated last line among them), the spans that are not LLM
  calls, calls whose parent span is missing, and attribute names the vocabulary does not know.

The prompts and completions get the checks of any other text column
(:func:`rescue.data.profile.profile_columns` on an in-memory DuckDB table of them) and their language mix. The file is only read: a missing or unreadable
file is a source finding (``status: unavailable`` with its error), never a failed Day 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, overload

import duckdb
import numpy as np
import pandas as pd

from ..errors import SourceUnavailable
from ..pii import PII_KINDS, scan_table
from ..prices import Price, lookup
from ..spec import LOOPBACK_HOSTS, Provider, Source, Spec
from ..stats import SEED, percentile_with_interval, wilson
from . import language
from .profile import Relation, freshness, key_profile, profile_columns

TEXT_COLUMNS = ("input_text", "output_text")  # the prompts and the completions
PII_CALLS = 50_000  # calls whose texts are scanned for personal data (a seeded random sample above)
INTERVAL_CALLS = 5_000  # calls a latency interval is bootstrapped on (a seeded random sample above)
BUSIEST_HOURS = 3
MAX_LISTED = 20  # skipped lines and unknown attribute names listed in the artifact (the rest are counted)
NOT_RECORDED = "(not recorded)"
_THREADS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rescue-trace-texts")


def _iso(value: Any) -> str | None:
    """A UTC timestamp as ISO 8601 text, to the millisecond; None for a missing one."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).tz_convert("UTC").isoformat(timespec="milliseconds")


def _round(value: Any, digits: int = 3) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else round(number, digits)


def _label(value: Any) -> str:
    return NOT_RECORDED if value is None or pd.isna(value) else str(value)


# --- volume ----------------------------------------------------------------------------------------


def _volume(frame: pd.DataFrame) -> dict[str, Any]:
    """Calls per UTC day (every day of the range), the busiest hours of the day and the longest gap."""
    starts = frame["start"].dropna().sort_values()
    out: dict[str, Any] = {
        "first": None,
        "last": None,
        "days": 0,
        "per_day": [],
        "busiest_hours": [],
        "longest_gap": None,
        "calls_without_time": int(len(frame) - len(starts)),
    }
    if starts.empty:
        return out
    days = starts.dt.floor("D")
    counts = days.value_counts()
    every_day = pd.date_range(days.iloc[0], days.iloc[-1], freq="D")
    out["first"], out["last"], out["days"] = _iso(starts.iloc[0]), _iso(starts.iloc[-1]), len(every_day)
    out["per_day"] = [{"day": d.date().isoformat(), "calls": int(counts.get(d, 0))} for d in every_day]
    hours = starts.dt.hour.value_counts()
    busiest = sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:BUSIEST_HOURS]
    out["busiest_hours"] = [
        {"hour": int(h), "calls": int(n), "share": round(n / len(starts), 4)} for h, n in busiest
    ]
    if len(starts) > 1:
        gaps = starts.diff().iloc[1:]
        at = int(np.argmax(gaps.to_numpy()))
        out["longest_gap"] = {
            "seconds": round(gaps.iloc[at].total_seconds(), 3),
            "start": _iso(starts.iloc[at]),
            "end": _iso(starts.iloc[at + 1]),
        }
    return out


# --- latency ---------------------------------------------------------------------------------------


def _percentiles(latencies: np.ndarray) -> dict[str, Any]:
    """p50/p95/p99 of every latency, each interval bootstrapped on at most INTERVAL_CALLS of them."""
    out: dict[str, Any] = {"measured": len(latencies)}
    resampled = latencies
    if len(latencies) > INTERVAL_CALLS:
        resampled = np.random.default_rng(SEED).choice(latencies, INTERVAL_CALLS, replace=False)
        out["interval_sample"] = INTERVAL_CALLS
    for q in (50, 95, 99):
        found = percentile_with_interval(resampled, q)
        if len(latencies):
            found["value"], found["n"] = round(float(np.percentile(latencies, q)), 3), len(latencies)
        out[f"p{q}"] = found
    return out


def _latency_group(name: str, group: pd.DataFrame, cache: dict[tuple[int, int], dict]) -> dict[str, Any]:
    ok = group[(group["status"] == "ok") & group["latency_ms"].notna()]
    key = (len(ok), hash(ok.index.to_numpy().tobytes()))
    if key not in cache:  # one operation over every call, say, is the overall figure again: bootstrap it once
        cache[key] = _percentiles(ok["latency_ms"].to_numpy(dtype=float))
    starts = group["start"].dropna()
    return {
        "name": name,
        "calls": len(group),
        **cache[key],
        "first": _iso(starts.min()) if len(starts) else None,
        "last": _iso(starts.max()) if len(starts) else None,
    }


def _latency(frame: pd.DataFrame) -> dict[str, Any]:
    # only the columns a group needs: a group of the whole frame would copy the prompts and completions too
    frame = frame[["status", "latency_ms", "start", "model", "operation"]]
    cache: dict[tuple[int, int], dict] = {}
    out: dict[str, Any] = {"overall": _latency_group("all calls", frame, cache)}
    for column, key in (("model", "by_model"), ("operation", "by_operation")):
        groups = frame.groupby(frame[column].fillna(NOT_RECORDED), sort=True)
        rows = [_latency_group(str(name), group, cache) for name, group in groups]
        out[key] = sorted(rows, key=lambda r: (-r["calls"], r["name"]))
    return out


# --- tokens and cost -------------------------------------------------------------------------------


def _token_stats(values: pd.Series) -> dict[str, float | None]:
    numbers = values.dropna().to_numpy(dtype=float)
    if not len(numbers):
        return {"mean": None, "p95": None}
    return {"mean": round(float(numbers.mean()), 1), "p95": round(float(np.percentile(numbers, 95)), 1)}


def _unpriced(model: str) -> str:
    return (
        f"unknown: {model!r} is neither in rescue/prices.yaml nor in the genai-prices database; add it to "
        "rescue/prices.yaml (EUR per million input and output tokens)"
    )


def _tokens_and_cost(frame: pd.DataFrame) -> tuple[dict[str, Any], dict[str, Any]]:
    """Tokens per request and their cost, per model and over every call that reports usage."""
    frame = frame[["tokens_in", "tokens_out", "model"]]  # not a copy of the texts
    used = frame[frame["tokens_in"].notna() | frame["tokens_out"].notna()]
    tokens = {
        "calls_with_usage": len(used),
        "calls_without_usage": len(frame) - len(used),
        "tokens_in": _token_stats(used["tokens_in"]),
        "tokens_out": _token_stats(used["tokens_out"]),
    }
    by_model, total, priced, unpriced = [], 0.0, 0, []
    for model, group in used.groupby(used["model"].fillna(NOT_RECORDED), sort=True):
        tin = group["tokens_in"].fillna(0).to_numpy(dtype=float)
        tout = group["tokens_out"].fillna(0).to_numpy(dtype=float)
        price: Price | None = lookup(None if model == NOT_RECORDED else str(model))
        row: dict[str, Any] = {
            "model": str(model),
            "calls_with_usage": len(group),
            "tokens_in_mean": round(float(tin.mean()), 1),
            "tokens_out_mean": round(float(tout.mean()), 1),
            "per_call_eur": None,
            "price": None,
        }
        if price is None:
            row["basis"] = (
                _unpriced(str(model)) if model != NOT_RECORDED else "unknown: the calls name no model"
            )
            unpriced.append((str(model), len(group)))
        else:
            cost = price.cost_eur(float(tin.sum()), float(tout.sum()))
            row.update(
                per_call_eur=round(cost / len(group), 6), price=price.as_record(), basis=price.describe()
            )
            total += cost
            priced += len(group)
        by_model.append(row)
    by_model.sort(key=lambda r: (-r["calls_with_usage"], r["model"]))
    cost: dict[str, Any] = {
        "per_call_eur": None,
        "total_eur": None,
        "calls_priced": priced,
        "calls_unpriced": sum(n for _, n in unpriced),
        "by_model": by_model,
    }
    without = tokens["calls_without_usage"]
    note = f"; {without:,} calls report no usage and are not counted" if without else ""
    if unpriced:
        names = ", ".join(f"{m} ({n:,} calls)" for m, n in unpriced)
        cost["basis"] = f"unknown: no price for {names}; add the model to rescue/prices.yaml"
    elif priced:
        cost["per_call_eur"], cost["total_eur"] = round(total / priced, 6), round(total, 4)
        cost["basis"] = f"tokens the calls report × each model's price, over {priced:,} calls{note}"
    else:
        cost["basis"] = "unknown: no call reports its token usage"
    return tokens, cost


# --- errors and sessions ---------------------------------------------------------------------------


def _errors(frame: pd.DataFrame) -> dict[str, Any]:
    failed = frame[frame["status"] == "error"]
    kinds = failed["error_type"].fillna("unspecified").value_counts()
    by_kind = sorted(((str(k), int(n)) for k, n in kinds.items()), key=lambda kv: (-kv[1], kv[0]))
    return {
        "calls": len(frame),
        "errors": len(failed),
        "rate": wilson(len(failed), len(frame)),
        "by_kind": [{"kind": k, "calls": n, "rate": wilson(n, len(frame))} for k, n in by_kind],
    }


def _sessions(frame: pd.DataFrame) -> dict[str, Any]:
    sessions = frame["session_id"].dropna()
    turns = sessions.value_counts().to_numpy(dtype=float)
    return {
        "sessions": len(turns),
        "calls_in_sessions": len(sessions),
        "calls_without_session": len(frame) - len(sessions),
        "turns_mean": round(float(turns.mean()), 2) if len(turns) else None,
        "turns_p95": round(float(np.percentile(turns, 95)), 1) if len(turns) else None,
        "turns_max": int(turns.max()) if len(turns) else None,
    }


# --- destinations and personal data ----------------------------------------------------------------


def covering_provider(spec: Spec, address: str | None, provider: str | None) -> Provider | None:
    """The ``compliance.providers`` entry that covers a destination: the one whose ``hosts`` cover its host,
    else the one named as the calls' provider (``gen_ai.provider.name``) when no other entry has that name."""
    providers = spec.compliance.providers
    if address:
        for p in providers:
            if p.covers(address):
                return p
    named = [p for p in providers if provider and p.name == provider]
    return named[0] if len(named) == 1 else None


def _strings(values: pd.Series) -> Any:
    import pyarrow as pa

    return pa.array(values, type=pa.string(), from_pandas=True)


def _texts_table(frame: pd.DataFrame) -> Any:
    """The prompts and completions of ``frame`` as an Arrow table (what the PII scan and DuckDB read)."""
    import pyarrow as pa

    return pa.table({name: _strings(frame[name]) for name in TEXT_COLUMNS})


def _destinations(
    spec: Spec, frame: pd.DataFrame, scanned: pd.DataFrame, pii_region: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each destination with its calls, provider, region against the allowed ones and personal data counted in
    its (scanned) calls; then each provider the calls name, with the destinations and regions of its calls."""
    allowed = set(spec.compliance.allowed_regions)
    frame = frame[["server_address", "server_port", "provider", "model"]]  # groups without the texts
    port_text = frame["server_port"].astype("string")
    place = (frame["server_address"].fillna(NOT_RECORDED) + (":" + port_text).fillna("")).rename("place")
    rows: dict[str, dict[str, Any]] = {}
    for where, group in frame.groupby(place, sort=True):
        address = None if pd.isna(group["server_address"].iloc[0]) else str(group["server_address"].iloc[0])
        port = None if pd.isna(group["server_port"].iloc[0]) else int(group["server_port"].iloc[0])
        names = sorted({str(p) for p in group["provider"].dropna()})
        declared = covering_provider(spec, address, names[0] if len(names) == 1 else None)
        if address is None:
            status = "not recorded"
        elif address in LOOPBACK_HOSTS:
            status = "loopback"
        elif declared is None:
            status = "undeclared"
        elif not allowed:
            status = "declared"
        else:
            status = "allowed" if declared.region in allowed else "outside"
        pii = scan_table(_texts_table(scanned[place.loc[scanned.index] == where]), region=pii_region)
        rows[str(where)] = {
            "destination": str(where),
            "address": address,
            "port": port,
            "calls": len(group),
            "share": round(len(group) / len(frame), 4),
            "providers": names,
            "models": sorted({str(m) for m in group["model"].dropna()}),
            "declared_as": declared.name if declared else None,
            "region": declared.region if declared else None,
            "region_allowed": (declared.region in allowed) if (declared and allowed) else None,
            "receives_personal_data_declared": declared.receives_personal_data if declared else None,
            "status": status,
            "pii_in_prompts": pii["input_text"],
            "pii_in_completions": pii["output_text"],
            "personal_data": any(n > 0 for counts in pii.values() for n in counts.values()),
        }
    providers = []
    pairs = pd.DataFrame({"provider": frame["provider"].fillna(NOT_RECORDED), "place": place})
    for name, group in pairs.groupby("provider", sort=True):
        calls = group["place"].value_counts()
        seen = [rows[str(where)] for where in sorted(calls.index, key=lambda w: (-calls[w], str(w)))]
        providers.append(
            {
                "name": str(name),
                "calls": len(group),
                "destinations": [r["destination"] for r in seen],
                "regions": sorted({r["region"] for r in seen if r["region"]}),
                "outside_allowed_calls": sum(
                    int(calls[r["destination"]]) for r in seen if r["status"] == "outside"
                ),
            }
        )
    providers.sort(key=lambda r: (-r["calls"], r["name"]))
    return sorted(rows.values(), key=lambda r: (-r["calls"], r["destination"])), providers


def _scanned_calls(frame: pd.DataFrame) -> pd.DataFrame:
    """The calls whose texts are scanned for personal data: all of them, or a seeded sample of PII_CALLS."""
    if len(frame) <= PII_CALLS:
        return frame
    return frame.sample(n=PII_CALLS, random_state=SEED).sort_index()


# --- the text checks -------------------------------------------------------------------------------


def _text_profile(frame: pd.DataFrame, as_of: date) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The prompts' and completions' text checks, the span id's uniqueness and the calls' freshness, in an
    in-memory DuckDB over the calls."""
    import ibis
    import pyarrow as pa

    starts = frame["start"].dt.tz_convert("UTC").dt.tz_localize(None)
    calls = (
        _texts_table(frame)
        .append_column("span_id", _strings(frame["span_id"]))
        .append_column("start", pa.array(starts))
    )
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("calls", calls)
    rel = Relation(con, "calls AS src", len(frame), False)
    try:
        columns = profile_columns(rel, ibis.schema({name: "string" for name in TEXT_COLUMNS}))
        return columns, key_profile(rel, "span_id"), freshness(rel, "start", "time", as_of)
    finally:
        con.close()


class _TextColumn(Sequence[str | None]):
    """A text column as a sequence of ``str`` (None for a missing text) made on demand, a batch at a time, from
    the frame's own Arrow data: the language mix classifies a sample of a few thousand texts, and a list of
    every prompt would hold them all in memory. A missing text is never sampled, so the mix is the one of
    the column's non-missing texts."""

    BATCH = 8_192

    def __init__(self, values: pd.Series):
        import pyarrow as pa

        self._texts = pa.array(values, from_pandas=True)  # no copy of the frame's texts

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, index: int) -> str | None: ...
    @overload
    def __getitem__(self, index: slice) -> list[str | None]: ...
    def __getitem__(self, index: int | slice) -> str | list[str | None] | None:
        if isinstance(index, slice):
            return self._texts[index].to_pylist()
        return self._texts[index].as_py()

    def __iter__(self) -> Iterator[str | None]:
        for start in range(0, len(self._texts), self.BATCH):
            yield from self._texts[start : start + self.BATCH].to_pylist()


def _language_mixes(texts: dict[str, Sequence[str | None]]) -> tuple[dict[str, Any], str | None]:
    """The language mix of the prompts and of the completions, and why not if not."""
    try:
        return {name: language.language_mix(values) for name, values in texts.items()}, None
    except Exception as exc:  # the language mix is a nice-to-have: never the reason a source fails
        return {}, f"language mix not told: {type(exc).__name__}: {exc}"


def _read_report(report: Any) -> dict[str, Any]:
    found = report.as_dict()
    unknown = found["unknown_attributes"]
    return {
        "format": found["format"],
        "lines_read": found["lines_read"],
        "lines_skipped": found["lines_skipped"],
        "skipped": found["skipped"][:MAX_LISTED],
        "spans_read": found["spans_read"],
        "spans_skipped": found["spans_skipped"],
        "not_llm_calls": found["not_llm_calls"],
        "without_parent": found["without_parent"],
        "orphans": found["orphans"],
        "unknown_attribute_names": len(unknown),
        "unknown_attributes": dict(list(unknown.items())[:MAX_LISTED]),
    }


# --- the source ------------------------------------------------------------------------------------


def _location(source: Source) -> str:
    # never a DSN: it may carry credentials; show the reference instead
    if source.kind in ("postgres", "ibis"):
        return f"{source.dsn} table {source.table}"
    if source.kind in ("sqlite", "duckdb"):
        return f"{source.location} table {source.table}"
    return source.location or ""


def source_entry(spec: Spec, source: Source) -> dict[str, Any]:
    """A source's picture entry before it is read, any kind of source: what the spec says of it."""
    allowed = set(spec.compliance.allowed_regions)
    return {
        "name": source.name,
        "kind": source.kind,
        "location": _location(source),
        "owner": source.owner.model_dump(mode="json") if source.owner else None,
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


def profile_traces(
    spec: Spec, source: Source, as_of: date | None = None, pii_region: str = "GB"
) -> dict[str, Any]:
    """Profile a ``kind: traces`` source: its picture entry, with the ``traces`` section (see the module)."""
    from ..traces import read_traces_with_report

    entry = source_entry(spec, source)
    language.preload()  # the prompts' language will be told: load the model while the file is read
    try:
        frame, report = read_traces_with_report(spec.path(source.location or ""), source.format or "auto")
    except SourceUnavailable as exc:
        entry["status"], entry["error"] = "unavailable", {"kind": exc.kind, "message": exc.reason}
        return entry
    except Exception as exc:  # a corrupt file (a cut .gz, bad bytes) is a finding in the picture, not a crash
        from .connect import classify_error, error_line

        entry["status"] = "unavailable"
        entry["error"] = {"kind": classify_error(exc), "message": error_line(exc)}
        return entry
    notes = entry["notes"]
    entry.update(engine=f"rescue.traces ({report.format}) + duckdb", rows=len(frame))
    if report.lines_skipped or report.spans_skipped:
        notes.append(
            f"{report.lines_skipped:,} lines and {report.spans_skipped:,} spans could not be read "
            "(see the reader's report)"
        )
    # the languages are Python work: told on a thread of their own while DuckDB and numpy do the rest
    texts = {name: _TextColumn(frame[name]) for name in TEXT_COLUMNS}
    languages = _THREADS.submit(_language_mixes, texts)
    columns, key, fresh = _text_profile(frame, as_of or date.today())
    scanned = _scanned_calls(frame)
    if len(scanned) < len(frame):
        notes.append(
            f"personal data counted in a seeded random sample of {len(scanned):,} of {len(frame):,} calls"
        )
    destinations, providers = _destinations(spec, frame, scanned, pii_region)
    pii = {
        name: {kind: sum(d[f"pii_in_{part}"][kind] for d in destinations) for kind in PII_KINDS}
        for name, part in (("input_text", "prompts"), ("output_text", "completions"))
    }
    tokens, cost = _tokens_and_cost(frame)
    latency = _latency(frame)
    mixes, problem = languages.result()
    for name, mix in mixes.items():
        columns[name]["language_mix"] = mix
    if problem:
        notes.append(problem)
    entry.update(
        profile=columns,
        key=key,
        freshness=fresh,
        pii=pii,
        pii_scanned_rows=len(scanned),
        pii_found=any(n > 0 for counts in pii.values() for n in counts.values()),
    )
    entry["traces"] = {
        "format": report.format,
        "calls": len(frame),
        "read": _read_report(report),
        "volume": _volume(frame),
        "latency": latency,
        "tokens": tokens,
        "cost": cost,
        "errors": _errors(frame),
        "destinations": destinations,
        "providers": providers,
        "sessions": _sessions(frame),
    }
    return entry


def production_observed(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What the traces sources observed in production, for the gap's latency, cost and residency checks: the
    worst p95 latency and cost per call over the traces sources, and the destinations outside the allowed
    regions or covered by no declared provider. None without a traces source that was read."""
    read = [e for e in entries if e.get("traces")]
    if not read:
        return None
    latency = [(e["traces"]["latency"]["overall"], e["name"]) for e in read]
    latency = [
        (g["p95"]["value"], g["measured"], name) for g, name in latency if g["p95"]["value"] is not None
    ]
    costs = [(e["traces"]["cost"], e["name"]) for e in read]
    slowest = max(latency, default=(None, 0, None))
    known = [
        (c["per_call_eur"], c["calls_priced"], name) for c, name in costs if c["per_call_eur"] is not None
    ]
    unknown = [f"{name}: {c['basis']}" for c, name in costs if c["per_call_eur"] is None]
    dearest = max(known, default=(None, 0, None))

    def listed(status: str) -> list[dict[str, Any]]:
        return [
            {
                "source": e["name"],
                "destination": d["destination"],
                "calls": d["calls"],
                "declared_as": d["declared_as"],
                "region": d["region"],
                "personal_data": d["personal_data"],
                "personal_data_declared": e["personal_data_declared"],
            }
            for e in read
            for d in e["traces"]["destinations"]
            if d["status"] == status
        ]

    return {
        "sources": [e["name"] for e in read],
        "calls": sum(e["traces"]["calls"] for e in read),
        "latency_p95_ms": slowest[0],
        "latency_calls": slowest[1],
        "latency_source": slowest[2],
        "cost_per_call_eur": None if unknown else dearest[0],
        "cost_calls": 0 if unknown else dearest[1],
        "cost_unknown_because": "; ".join(unknown) or None,
        "outside_allowed_regions": listed("outside"),
        "undeclared_destinations": listed("undeclared"),
    }
