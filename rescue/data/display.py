"""How the Day 2 workbook shows the data picture: inventory, findings, heat map, latency chart, traces."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..tables import table
from ..units import quantity

ISSUES = [
    ("nulls", "null"),
    ("blanks", "blank"),
    ("placeholders", "placeholder"),
    ("cast_failures", "cast failure"),
    ("html_entities", "HTML entity"),
    ("markup", "markup"),
    ("mojibake", "mojibake"),
]


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "not stated"}[value]


def inventory_table(picture: dict[str, Any]) -> pd.DataFrame:
    """One row per source: where it is, who owns it, region, personal data, size, status."""
    rows = []
    for s in picture["sources"]:
        owner = s["owner"]
        owner_text = (
            "— none —"
            if owner is None
            else owner["name"] + (f" ({owner['team']})" if owner.get("team") else "")
        )
        if owner is not None:
            owner_text += f" · evidence: {owner['evidence']}" if owner.get("evidence") else " · no evidence"
        region = s["region"] or "not stated"
        if s["region_allowed"] is False:
            region += " ✘ outside allowed"
        found = s["pii_found"]
        hits = sum(n for counts in s["pii"].values() for n in counts.values())
        pii = f"declared {_yes_no(s['personal_data_declared'])}; found " + (
            "—" if found is None else f"{hits} hits" if found else "none"
        )
        scanned = s.get("pii_scanned_rows")
        if found is not None and scanned is not None and scanned < (s["sampled_rows"] or s["rows"] or 0):
            pii += f" in a random sample of {scanned:,} rows"
        status = "ok" if s["status"] == "ok" else f"✘ {s['error']['kind']}: {s['error']['message']}"
        rows.append(
            {
                "Source": s["name"],
                "Kind": s["kind"],
                "Where": s["location"],
                "Owner": owner_text,
                "Region": region,
                "Personal data": pii,
                "Rows": s["rows"] if s["rows"] is not None else "—",
                "Status": status,
            }
        )
    return pd.DataFrame(rows)


def findings_markdown(picture: dict[str, Any]) -> str:
    """The findings a manager should read, one line each."""
    lines = []
    summary = picture["summary"]
    lines.append(
        f"- **{summary['reachable']} of {summary['sources']} sources reachable** read-only; "
        f"{summary['rows_total']:,} rows profiled."
    )
    for s in picture["sources"]:
        if s["status"] != "ok":
            owner = s["owner"]["name"] if s["owner"] else "no owner"
            lines.append(
                f"- ✘ **{s['name']}** unavailable ({s['error']['kind']}): {s['error']['message']} — ask {owner}."
            )
    if summary["unowned_sources"]:
        lines.append(f"- ✘ No owner: {', '.join(summary['unowned_sources'])}.")
    if summary["owners_without_evidence"]:
        lines.append(f"- Owner claimed without evidence: {', '.join(summary['owners_without_evidence'])}.")
    bad_providers = [p for p in picture["residency"]["providers"] if p["region_allowed"] is False]
    for p in bad_providers:
        lines.append(
            f"- ✘ The PoC sends data to **{p['name']} in {p['region']}**, outside {', '.join(picture['residency']['allowed_regions'])}."
        )
    if summary["outside_allowed_regions"]:
        lines.append(
            f"- ✘ Stored outside the allowed regions: {', '.join(summary['outside_allowed_regions'])}."
        )
    for s in picture["sources"]:  # what production's own calls did (a traces source)
        outside = [d for d in (s.get("traces") or {}).get("destinations", []) if d["status"] == "outside"]
        if outside:
            pii = ", with personal data in them" if any(d["personal_data"] for d in outside) else ""
            lines.append(
                f"- ✘ **{sum(d['calls'] for d in outside):,} production calls** in {s['name']} went "
                f"outside the allowed regions{pii} (see Production traces)."
            )
    if summary["personal_data_found_in"]:
        lines.append(
            f"- Personal data found in: {', '.join(summary['personal_data_found_in'])} (counts only, values never read out)."
        )
    if summary["personal_data_undeclared_in"]:
        lines.append(
            f"- ✘ Personal data found where the spec says there is none: {', '.join(summary['personal_data_undeclared_in'])}."
        )
    for s in picture["sources"]:
        if s["status"] != "ok":
            continue
        text_cols = {n: c for n, c in s["profile"].items() if c["type"] == "text"}
        for name, c in text_cols.items():
            rows = c.get("checked_rows") or s["sampled_rows"] or s["rows"] or 1
            parts = []
            if c["html_entities"]:
                parts.append(f"{c['html_entities'] / rows:.0%} HTML entities")
            if c["markup"]:
                parts.append(f"{c['markup']} with markup residue")
            if c["mojibake"]:
                parts.append(f"{c['mojibake']} mojibake")
            if c["placeholders"]:
                parts.append(f"{c['placeholders']} placeholders")
            if c.get("cast_failures"):
                parts.append(f"{c['cast_failures']} values that do not parse as {c['inferred']}s")
            if parts:
                lines.append(f"- {s['name']}.{name}: " + ", ".join(parts) + ".")
            if c.get("language_mix"):
                lines.append(f"- {s['name']}.{name} language: {language_text(c['language_mix'])}.")
        if s["duplicate_rows"]:
            lines.append(f"- {s['name']}: {s['duplicate_rows']} exact duplicate rows.")
        if s["key"] and not s["key"]["unique"]:
            lines.append(
                f"- ✘ {s['name']}.{s['key']['column']} is not unique: {s['key']['duplicates']} duplicate ids, {s['key']['nulls']} empty."
            )
        drawn = [
            f"{check.replace('_', ' ')}: {r['method']}, {r['fraction']:.2%} of the rows"
            + (f" (seed {r['seed']})" if r.get("seed") is not None else "")
            for check, r in (s.get("sampling") or {}).items()
            if r["method"] != "all rows"
        ]
        if drawn:
            lines.append(f"- {s['name']}: random samples — " + "; ".join(drawn) + ".")
        if s.get("deviations"):
            lines.append(f"- {s['name']} on {s['engine']}: " + "; ".join(s["deviations"]) + ".")
        f = s["freshness"]
        if f and f.get("lag_days") is not None:
            lines.append(
                f"- {s['name']}: newest record {f['newest'][:10]}, {f['lag_days']:,} days before {picture['as_of']}; "
                f"arrivals on {f['days_with_arrivals']:,} of {f['span_days']:,} days, longest gap {f['longest_gap_days']} days."
            )
    for o in picture["cross_source"]["text_overlap"]:
        if o["shared_texts"]:
            lines.append(
                f"- The same text appears in {o['sources'][0]} and {o['sources'][1]}: {o['shared_texts']} record(s)"
                + (" (estimated from random samples)." if o.get("estimated") else ".")
            )
    dvp = picture["demo_vs_production"]
    if dvp:
        demo = dvp["demo"]
        lines.append(
            f"- **Demo vs production**: the {demo['rows']} demo texts have median length {demo['len_p50']} and "
            f"{demo['html_entities']:.0%} HTML entities; production: "
            + "; ".join(
                f"{p['source']} median {p['len_p50']}, {p['html_entities']:.0%} entities"
                for p in dvp["production"]
            )
            + f". Demo texts found in production: {dvp['demo_texts_found_in_production']} of {demo['rows']}."
        )
    return "\n".join(lines)


def _share(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 or share == 0 else "<1%"


def language_text(mix: dict[str, Any]) -> str:
    """A column's language mix in words: 'English 97%, German 3% of 1,950 texts told (...)'."""
    if not mix["sampled"]:
        return "no text to tell"
    told = ", ".join(f"{lang['name']} {_share(lang['share'])}" for lang in mix["languages"])
    if mix["other_languages"]:
        told += f", other {_share(mix['other_languages'] / mix['told'])}"
    text = f"{told} of {mix['told']:,} texts told" if mix["told"] else "none told"
    rest = [
        f"a seeded sample of {mix['sampled']:,} of {mix['texts']:,}" if mix["sampled"] < mix["texts"] else ""
    ]
    rest += [f"{mix['too_short']:,} too short to tell" if mix["too_short"] else ""]
    rest += [f"{mix['uncertain']:,} uncertain" if mix["uncertain"] else ""]
    rest = [r for r in rest if r]
    return text + (f" ({', '.join(rest)})" if rest else "")


def issue_matrix(picture: dict[str, Any]) -> pd.DataFrame:
    """Share of rows with each issue, per source column (rows) and issue kind (columns)."""
    records = {}
    for s in picture["sources"]:
        if s["status"] != "ok":
            continue
        rows = s["sampled_rows"] or s["rows"] or 1
        for name, c in s["profile"].items():
            checked = c.get("checked_rows") or rows  # nulls see every row; the text checks these rows
            records[f"{s['name']}.{name}"] = {
                label: round((c.get(key) or 0) / (rows if key == "nulls" else checked), 4)
                for key, label in ISSUES
            }
    return pd.DataFrame.from_dict(records, orient="index")


def plot_cleanliness(picture: dict[str, Any]):  # -> matplotlib.figure.Figure
    """Heat map of the issue matrix: darker is dirtier; the share is written in each cell."""
    import matplotlib.pyplot as plt

    matrix = issue_matrix(picture)
    fig, ax = plt.subplots(figsize=(8, 0.32 * max(len(matrix), 3) + 1.5), dpi=100)
    plt.close(fig)
    if matrix.empty:
        ax.text(0.5, 0.5, "no reachable source", ha="center")
        return fig
    from matplotlib.ticker import PercentFormatter

    image = ax.imshow(matrix.to_numpy(), cmap="Reds", vmin=0, vmax=1, aspect="auto")
    fig.colorbar(image, ax=ax, label="share of rows", format=PercentFormatter(1), fraction=0.04, pad=0.02)
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=30, ha="right")
    ax.set_yticks(range(len(matrix.index)), matrix.index, fontsize=8)
    for (i, j), v in pd.DataFrame(matrix.to_numpy()).stack().items():
        if v > 0:
            shown = f"{v:.0%}" if v >= 0.01 else f"{v:.1%}"
            ax.text(j, i, shown, ha="center", va="center", fontsize=7, color="white" if v > 0.5 else "black")
    ax.set_title("Cleanliness: share of rows with each issue", loc="left")
    fig.tight_layout()
    return fig


def plot_latency(picture: dict[str, Any]):  # -> matplotlib.figure.Figure
    """Read latency per source (ms, log scale) against the PoC's p95 target."""
    import matplotlib.pyplot as plt
    import numpy as np

    measured = [s for s in picture["sources"] if s["latency"]]
    fig, ax = plt.subplots(figsize=(8, 0.6 * max(len(measured), 2) + 1.4), dpi=100)
    plt.close(fig)
    series = [
        ("first_row_ms", "first row"),
        ("point_lookup_p95_ms", "point lookup p95"),
        ("aggregate_p95_ms", "count(*) p95"),
    ]
    y = np.arange(len(measured))
    height = 0.8 / len(series)
    for k, (key, label) in enumerate(series):
        values = [max(s["latency"].get(key) or 0, 0.01) for s in measured]
        ax.barh(y + k * height, values, height, label=label)
    ax.set_yticks(y + height, [s["name"] for s in measured])
    ax.set_xscale("log")
    target = picture["latency"]["target_p95_ms"]
    if target:
        ax.axvline(target, color="#c0392b", linestyle="--", label=f"PoC p95 target {target:g} ms")
    ax.set_xlabel("milliseconds (log scale)")
    ax.set_title("Read latency per source", loc="left")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def demo_table(picture: dict[str, Any]) -> pd.DataFrame | None:
    """The demo examples' text next to each production source's text."""
    dvp = picture["demo_vs_production"]
    if not dvp:
        return None
    frame = pd.DataFrame([dvp["demo"], *dvp["production"]])
    return frame.rename(
        columns={
            "source": "Text from",
            "rows": "Rows",
            "len_p50": "Median length",
            "len_p95": "p95 length",
            "html_entities": "HTML entities",
            "markup": "Markup",
            "mojibake": "Mojibake",
            "line_breaks": "Line breaks",
            "empty": "Empty",
        }
    )


def inventory(picture: dict[str, Any]):  # -> IPython.display.HTML
    """The inventory as a stable HTML table (no memory addresses or random ids in the output)."""
    from IPython.display import HTML

    return HTML(table(inventory_table(picture), uuid="inventory").to_html())


# --- production traces ------------------------------------------------------------------------------


def _chart_text(value: Any) -> str:
    """A value from the traces as a chart label: matplotlib would read ``$…$`` as mathematics."""
    return str(value).replace("$", r"\$")


def _ms_interval(interval: dict[str, Any]) -> str:
    if interval["value"] is None:
        return "—"
    shown = quantity(interval["value"], "ms")
    if interval["low"] is None:
        return shown
    return f"{shown} ({quantity(interval['low'], 'ms')}–{quantity(interval['high'], 'ms')})"


def _rate(interval: dict[str, Any]) -> str:
    if interval["value"] is None:
        return "—"
    return (
        f"{quantity(interval['value'], 'share')} "
        f"({quantity(interval['low'], 'share')}–{quantity(interval['high'], 'share')})"
    )


def _eur(value: float | None) -> str:
    return "unknown" if value is None else quantity(value, "eur")


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def _time(iso: str | None) -> str:
    return "—" if not iso else iso[:16].replace("T", " ")


def _pii_text(counts: dict[str, int]) -> str:
    found = [f"{n:,} {kind}" for kind, n in counts.items() if n]
    return ", ".join(found) if found else "none"


# counts in the traces' tables, with thousands separators (a column a table does not have is passed over)
COUNTS = {
    "Calls": "{:,}",
    "Successful": "{:,}",
    "Calls with usage": "{:,}",
    "Prompts": "{:,}",
    "Completions": "{:,}",
}

DESTINATION_STATUS = {
    "allowed": "✔ in an allowed region",
    "outside": "✘ outside the allowed regions",
    "declared": "declared (no region restriction set)",
    "undeclared": "✘ undeclared: no compliance.providers entry covers it",
    "loopback": "this machine (loopback)",
    "not recorded": "not recorded in the traces",
}


def traces_summary_markdown(source: dict[str, Any], picture: dict[str, Any]) -> str:
    """A traces source in a few lines: volume, latency against the target, errors, cost, sessions, regions.

    Only numbers and rescue's own words: every name the traces carry (models, hosts, error kinds) is shown in
    the tables, escaped."""
    t = source["traces"]
    volume, overall, errors = t["volume"], t["latency"]["overall"], t["errors"]
    lines = []
    if volume["first"]:
        busiest = ", ".join(f"{h['hour']:02d}:00 ({h['calls']:,})" for h in volume["busiest_hours"])
        per_day = t["calls"] / volume["days"] if volume["days"] else 0
        gap = volume["longest_gap"]
        lines.append(
            f"- **Volume**: {t['calls']:,} LLM calls from {_time(volume['first'])} to "
            f"{_time(volume['last'])} "
            f"UTC, {volume['days']:,} days ({per_day:,.0f} a day); busiest hours (UTC) {busiest}"
            + (
                f"; longest gap between two calls {_duration(gap['seconds'])}, from {_time(gap['start'])}"
                if gap
                else ""
            )
            + "."
        )
    else:
        lines.append(f"- **Volume**: {t['calls']:,} LLM calls, none with a start time.")
    target = picture["latency"]["target_p95_ms"]
    p95 = overall["p95"]["value"]
    verdict = ""
    if target and p95 is not None:
        verdict = f", {'meets' if p95 <= target else '✘ misses'} the target ≤ {quantity(target, 'ms')}"
    lines.append(
        f"- **Latency observed in production** ({overall['measured']:,} successful calls): p50 "
        f"{_ms_interval(overall['p50'])}, p95 {_ms_interval(overall['p95'])}{verdict}, p99 "
        f"{_ms_interval(overall['p99'])} (95% intervals)."
    )
    lines.append(
        f"- **Errors**: {errors['errors']:,} of {errors['calls']:,} calls failed, {_rate(errors['rate'])} "
        "(95% interval)."
    )
    cost, tokens = t["cost"], t["tokens"]
    lines.append(
        f"- **Cost observed in production**: {_eur(cost['per_call_eur'])} per request "
        f"({tokens['calls_with_usage']:,} calls report their usage: on average "
        f"{tokens['tokens_in']['mean'] or 0:,.0f} tokens in, {tokens['tokens_out']['mean'] or 0:,.0f} out)"
        + ("" if cost["per_call_eur"] is not None else ": a model has no price (see the table)")
        + "."
    )
    s = t["sessions"]
    if s["sessions"]:
        lines.append(
            f"- **Sessions**: {s['sessions']:,}, {s['turns_mean']:g} turns on average (p95 "
            f"{s['turns_p95']:g}, at most {s['turns_max']:,})"
            + (
                f"; {s['calls_without_session']:,} calls belong to none."
                if s["calls_without_session"]
                else "."
            )
        )
    else:
        lines.append("- **Sessions**: the calls carry no session id.")
    outside = [d for d in t["destinations"] if d["status"] == "outside"]
    undeclared = [d for d in t["destinations"] if d["status"] == "undeclared"]
    if outside:
        calls = sum(d["calls"] for d in outside)
        found = {
            kind: sum(d[part][kind] for d in outside for part in ("pii_in_prompts", "pii_in_completions"))
            for kind in outside[0]["pii_in_prompts"]
        }
        lines.append(
            f"- ✘ **{calls:,} calls ({quantity(calls / t['calls'], 'share')}) went to "
            f"{len(outside)} destination{'s' if len(outside) > 1 else ''} outside the allowed regions**"
            + (f", personal data in them: {_pii_text(found)}" if any(found.values()) else "")
            + "."
        )
    if undeclared:
        calls = sum(d["calls"] for d in undeclared)
        lines.append(
            f"- ✘ {calls:,} calls went to {len(undeclared)} destination{'s' if len(undeclared) > 1 else ''} "
            "no `compliance.providers` entry covers: their region is unknown."
        )
    found = {
        part: sum(source["pii"].get(column, {}).values())
        for part, column in (("prompts", "input_text"), ("completions", "output_text"))
    }
    scanned = source.get("pii_scanned_rows") or t["calls"]
    lines.append(
        f"- **Personal data** (counts only, never shown): {found['prompts']:,} hits in prompts, "
        f"{found['completions']:,} in completions, over {scanned:,} calls."
    )
    read = t["read"]
    skipped = read["lines_skipped"] + read["spans_skipped"]
    lines.append(
        f"- **Read**: {read['spans_read']:,} spans on {read['lines_read']:,} lines, "
        f"{sum(read['not_llm_calls'].values()):,} of them not LLM calls; "
        + (
            f"✘ {read['lines_skipped']:,} lines and {read['spans_skipped']:,} spans skipped; "
            if skipped
            else "nothing skipped; "
        )
        + f"{read['without_parent']:,} calls without a parent span, {read['orphans']:,} whose parent is "
        f"not in the file; {read['unknown_attribute_names']:,} unknown attribute names."
    )
    return "\n".join(lines)


def trace_latency_table(source: dict[str, Any]) -> pd.DataFrame:
    """Latency of successful calls per model and per operation (ms, 95% intervals), with their first call."""
    rows = []
    latency = source["traces"]["latency"]
    for by, groups in (("model", latency["by_model"]), ("operation", latency["by_operation"])):
        for g in groups:
            rows.append(
                {
                    "By": by,
                    "Name": g["name"],
                    "Calls": g["calls"],
                    "Successful": g["measured"],
                    "p50": _ms_interval(g["p50"]),
                    "p95": _ms_interval(g["p95"]),
                    "p99": _ms_interval(g["p99"]),
                    "First call": _time(g["first"]),
                    "Last call": _time(g["last"]),
                }
            )
    return pd.DataFrame(rows)


def trace_cost_table(source: dict[str, Any]) -> pd.DataFrame:
    """Tokens and cost per request, per model, with the price and its source."""
    rows = [
        {
            "Model": m["model"],
            "Calls with usage": m["calls_with_usage"],
            "Tokens in (mean)": f"{m['tokens_in_mean']:,.0f}",
            "Tokens out (mean)": f"{m['tokens_out_mean']:,.0f}",
            "Cost per request": _eur(m["per_call_eur"]),
            "Price": m["basis"],
        }
        for m in source["traces"]["cost"]["by_model"]
    ]
    columns = [
        "Model",
        "Calls with usage",
        "Tokens in (mean)",
        "Tokens out (mean)",
        "Cost per request",
        "Price",
    ]
    return pd.DataFrame(rows, columns=columns)


def trace_errors_table(source: dict[str, Any]) -> pd.DataFrame:
    """Failed calls by kind, each as a share of all calls with its Wilson 95% interval."""
    rows = [
        {"Kind": k["kind"], "Calls": k["calls"], "Share of calls (95% CI)": _rate(k["rate"])}
        for k in source["traces"]["errors"]["by_kind"]
    ]
    return pd.DataFrame(rows, columns=["Kind", "Calls", "Share of calls (95% CI)"])


def trace_destinations_table(source: dict[str, Any], picture: dict[str, Any]) -> pd.DataFrame:
    """Where the calls went, who covers each destination and whether its region is allowed, with the personal
    data counted in its calls."""
    allowed = ", ".join(picture["residency"]["allowed_regions"]) or "none set"
    rows = [
        {
            "Destination": d["destination"],
            "Calls": d["calls"],
            "Share": quantity(d["share"], "share"),
            "Provider (traces)": ", ".join(d["providers"]) or "—",
            "Declared as": d["declared_as"] or "— none —",
            "Region": d["region"] or "unknown",
            f"Against the allowed regions ({allowed})": DESTINATION_STATUS[d["status"]],
            "Personal data in prompts": _pii_text(d["pii_in_prompts"]),
            "in completions": _pii_text(d["pii_in_completions"]),
        }
        for d in source["traces"]["destinations"]
    ]
    return pd.DataFrame(rows)


def trace_pii_table(source: dict[str, Any]) -> pd.DataFrame:
    """Personal data counted in the prompts and in the completions, per kind (counts only)."""
    prompts, completions = source["pii"].get("input_text", {}), source["pii"].get("output_text", {})
    kinds = list(dict.fromkeys([*prompts, *completions]))
    return pd.DataFrame(
        [
            {"Kind": kind, "Prompts": prompts.get(kind, 0), "Completions": completions.get(kind, 0)}
            for kind in kinds
        ],
        columns=["Kind", "Prompts", "Completions"],
    )


def plot_trace_volume(source: dict[str, Any]):  # -> matplotlib.figure.Figure
    """Calls per UTC day, with the day each model's calls start when a model comes in midway."""
    import matplotlib.pyplot as plt

    t = source["traces"]
    fig, ax = plt.subplots(figsize=(8, 2.8), dpi=100)
    plt.close(fig)
    days = [pd.Timestamp(d["day"]) for d in t["volume"]["per_day"]]
    if not days:
        ax.text(0.5, 0.5, "no call has a start time", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    else:
        ax.bar(days, [d["calls"] for d in t["volume"]["per_day"]], width=0.8, color="#5b8db8")
        for g in t["latency"]["by_model"]:
            first = pd.Timestamp(g["first"]).tz_localize(None).normalize() if g["first"] else None
            if first is not None and first > days[0]:
                ax.axvline(
                    first - pd.Timedelta(hours=12),  # the left edge of the first day's bar
                    color="#c0392b",
                    linestyle="--",
                    label=f"{_chart_text(g['name'])} from {first:%d %b}",
                )
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
        fig.autofmt_xdate()
    ax.set_ylabel("LLM calls per day")
    ax.set_title(f"Production volume of {source['name']}: {t['calls']:,} calls", loc="left")
    fig.tight_layout()
    return fig


def plot_trace_latency(source: dict[str, Any], picture: dict[str, Any]):  # -> matplotlib.figure.Figure
    """p50, p95 and p99 latency per model with their 95% intervals, against the PoC's p95 target."""
    import matplotlib.pyplot as plt
    import numpy as np

    groups = [g for g in source["traces"]["latency"]["by_model"] if g["p50"]["value"] is not None]
    fig, ax = plt.subplots(figsize=(8, 0.7 * max(len(groups), 2) + 1.4), dpi=100)
    plt.close(fig)
    if not groups:
        ax.text(
            0.5,
            0.5,
            "no successful call: no latency to show",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_yticks([])
    else:
        y = np.arange(len(groups))
        for k, (q, colour) in enumerate((("p50", "#5b8db8"), ("p95", "#e08e45"), ("p99", "#8e5ba8"))):
            values = [g[q]["value"] for g in groups]
            low = [
                g[q]["value"] - (g[q]["low"] if g[q]["low"] is not None else g[q]["value"]) for g in groups
            ]
            high = [
                (g[q]["high"] if g[q]["high"] is not None else g[q]["value"]) - g[q]["value"] for g in groups
            ]
            ax.errorbar(
                values, y + (k - 1) * 0.22, xerr=[low, high], fmt="o", color=colour, capsize=3, label=q
            )
        ax.set_yticks(y, [_chart_text(g["name"]) for g in groups])
        ax.set_ylim(len(groups) - 0.5, -0.5)  # the busiest model on top, p50 above p95 above p99
        target = picture["latency"]["target_p95_ms"]
        if target:
            ax.axvline(
                target, color="#c0392b", linestyle="--", label=f"PoC p95 target {quantity(target, 'ms')}"
            )
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    ax.set_xlabel("milliseconds per successful call (95% intervals)")
    ax.set_title("Latency observed in production, per model", loc="left")
    fig.tight_layout()
    return fig


def traces_sections(picture: dict[str, Any]) -> list[Any]:
    """The production traces part of the page, in order: per traces source a summary, the volume and latency
    charts and the tables (latency, tokens and cost, errors, destinations, personal data). Markdown, tables
    (:func:`rescue.tables.table`, escaped) and figures, for ``display(charts.captioned(part))``."""
    from IPython.display import Markdown

    traced = [s for s in picture["sources"] if s["kind"] == "traces"]
    if not traced:
        return [
            Markdown(
                "_No source of `kind: traces` is declared: production's own LLM calls are not in the "
                "picture._"
            )
        ]
    parts: list[Any] = []
    for s in traced:
        if not s.get("traces"):
            parts.append(
                Markdown(
                    f"### {s['name']}\n\n✘ Not read ({s['error']['kind'] if s['error'] else 'error'}): "
                    "see the findings above."
                )
            )
            continue
        parts += [
            Markdown(f"### Source {s['name']}"),
            Markdown(traces_summary_markdown(s, picture)),
            plot_trace_volume(s),
            Markdown(
                "#### Latency per model and operation\n\nSuccessful calls only, as Day 4 times only live "
                "answers; milliseconds with 95% bootstrap intervals."
            ),
            plot_trace_latency(s, picture),
            table(trace_latency_table(s), COUNTS),
            Markdown(
                "#### Tokens and cost per request\n\nPriced as Day 4 prices its calls: `rescue/prices.yaml`, "
                "then the genai-prices database."
            ),
            table(trace_cost_table(s), COUNTS, left=True),
            Markdown("#### Errors by kind"),
            table(trace_errors_table(s), COUNTS),
            Markdown(
                "#### Destinations against the allowed regions\n\nA `compliance.providers` entry covers a "
                "destination when its `hosts` cover the destination's host (else when its name is the "
                "provider the calls name)."
            ),
            table(trace_destinations_table(s, picture), COUNTS, left=True),
            Markdown(
                "#### Personal data in prompts and completions\n\nValues holding each kind, counted; none is "
                "shown or kept."
            ),
            table(trace_pii_table(s), COUNTS),
        ]
    return parts
