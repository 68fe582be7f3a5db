"""How the Day 2 workbook shows the data picture: inventory, findings, heat map, latency chart."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..tables import table

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
            pii += f" in the first {scanned:,} rows"
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
        f = s["freshness"]
        if f and f.get("lag_days") is not None:
            lines.append(
                f"- {s['name']}: newest record {f['newest'][:10]}, {f['lag_days']:,} days before {picture['as_of']}; "
                f"arrivals on {f['days_with_arrivals']:,} of {f['span_days']:,} days, longest gap {f['longest_gap_days']} days."
            )
    for o in picture["cross_source"]["text_overlap"]:
        if o["shared_texts"]:
            lines.append(
                f"- The same text appears in {o['sources'][0]} and {o['sources'][1]}: {o['shared_texts']} record(s)."
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
