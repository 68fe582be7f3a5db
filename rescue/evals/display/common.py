"""What the eval position's page shows for either kind of PoC: number formats, interval panels, latency,
cost and the integration contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ... import tables
from ...units import quantity


@dataclass(frozen=True)
class Section:
    """One section of the page: a heading, an optional paragraph, and what it displays."""

    heading: str
    intro: str | None = None
    parts: list[Any] = field(default_factory=list)


def pct(interval: dict[str, Any]) -> str:
    """A rate with its 95% interval and n, as percentages."""
    if interval["value"] is None:
        return "—"
    return f"{interval['value']:.1%} (95% CI {interval['low']:.1%}–{interval['high']:.1%}, n={interval['n']})"


def pct_plain(iv: dict[str, Any]) -> str:
    """A rate with its 95% interval, as percentages (no n)."""
    return f"{iv['value']:.1%} (95% CI {iv['low']:.1%}–{iv['high']:.1%})"


def num(iv: dict[str, Any] | None, digits: int = 2) -> str:
    """A score with its 95% interval."""
    if not iv or iv.get("value") is None:
        return "—"
    return f"{iv['value']:.{digits}f} (95% CI {iv['low']:.{digits}f}–{iv['high']:.{digits}f})"


def p_text(p: float | None, named: bool = False) -> str:
    """A p-value as a reader needs it: two significant digits (``0.013``, ``0.70``), or ``< 0.001``; ``named``
    writes it as in a sentence (``p = 0.013``, ``p < 0.001``). The one p-value format of every page."""
    if p is None:
        return "p n/a" if named else "n/a"
    shown = "< 0.001" if p < 0.001 else f"{p:#.2g}".rstrip(".")
    if not named:
        return shown
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def errors_line(pos: dict[str, Any], how_scored: str) -> str:
    """Errors and timeouts, by kind, how the scores count them, the most frequent message and the likely cause."""
    e = pos["errors"]
    kinds = f" ({', '.join(f'{k} {v}' for k, v in e['by_kind'].items())})" if e["total"] else ""
    line = f"- Errors and timeouts: {e['total']} of {pos['n_items']} calls{kinds}; {how_scored}."
    top = e.get("top_messages") or []
    if top:
        line += f" Most frequent: `{top[0]['message']}` ({top[0]['count']})."
    if e["total"] and e.get("likely_cause"):
        line += f" Likely cause: {e['likely_cause']}."
    return line


def all_failed_lines(pos: dict[str, Any]) -> list[str]:
    """When no call of the PoC answered, the page says so first: the kinds, the three most frequent messages,
    the likely cause, and that the scores below measure the failures, not the PoC."""
    e = pos["errors"]
    if not pos["n_items"] or e["total"] < pos["n_items"]:
        return []
    kinds = ", ".join(f"{k} {v}" for k, v in e["by_kind"].items())
    lines = [f"- **No call of the PoC answered: all {e['total']:,} failed** ({kinds}). The scores below count "
             "every failure as a wrong answer, so they measure the failures, not the PoC."]  # fmt: skip
    lines += [f"  - `{m['message']}` ({m['count']:,})" for m in e.get("top_messages") or []]
    if e.get("likely_cause"):
        lines.append(f"  - Likely cause: {e['likely_cause']}.")
    return lines


def origin_line(pos: dict[str, Any], what: str) -> str:
    """Where the labels (or reference answers) come from."""
    origins = ", ".join(f"{k} ({v})" for k, v in pos["label_origin"].items())
    return f"- {what}: {origins}."


def network_lines(pos: dict[str, Any]) -> list[str]:
    """Where the PoC's calls went: every destination, its provider and region, and what was sent there."""
    net = pos.get("network")
    if not net:
        return []
    off = [d for d in net["destinations"] if not d["loopback"]]
    requests = requests_lines(net.get("requests"))
    if not off:
        return [f"- **Network**: none of the {net['calls_watched']:,} calls left this machine"
                + (" (they reached only loopback addresses)." if net["destinations"] else "."), *requests]  # fmt: skip
    lines = [f"- **Network**: {net['items_reaching_network']:,} of {net['calls_watched']:,} calls left this machine, "
             f"{net['connections_per_call']:g} connections a call; destinations:"]  # fmt: skip
    for d in off:
        who = (f"{d['provider']} ({d['region']}, {'allowed' if d['allowed'] else 'outside the allowed regions'})"
               if d["provider"] and d["allowed"] is not None else d["provider"] or "**undeclared**: no compliance "
               "provider lists this host")  # fmt: skip
        pii = ", ".join(f"{k} {v}" for k, v in d["personal_data_sent"].items())
        what = "requests sent" if d.get("personal_data_from") == "requests" else "inputs sent"
        sent = f", {d['requests']:,} HTTP requests" if d.get("requests") else ""
        lines.append(f"  - `{d['host']}:{d['port']}` — {d['items']:,} calls{sent}; {who}"
                     + (f"; personal data in the {what}: {pii}" if pii else "") + ".")  # fmt: skip
    return lines + requests


def design_lines(pos: dict[str, Any]) -> list[str]:
    """How the sample was drawn, in one line: the headline weighted back to production with its interval, the
    clusters and the design effect, and the unweighted figure when the two differ."""
    d = pos.get("design")
    if not d:
        return []
    e = d["estimate"]
    if not d["weighted"] and not d["cluster"]:
        return ["- **As sampled**: every item stands for itself (no weights, no clusters: a simple random sample, "
                "so the intervals above are the design's; set `eval.cluster` when items come in groups)."]  # fmt: skip

    def shown(value: float | None, low: float | None, high: float | None) -> str:
        interval = f" (95% CI {low:.2f}–{high:.2f})" if low is not None and high is not None else ""
        return f"{value:.2f}{interval}" if value is not None else "not estimated"

    parts = [f"- **As sampled**: {d['metric']} {shown(e['estimate'], e['low'], e['high'])} over production"]
    if d["weighted"]:
        parts.append(f"weighted by Day 3's {d['strata']:,} strata")
    if d["cluster"]:
        parts.append(f"{e['clusters']:,} clusters of `{d['cluster']}` (each counts as one unit)")
    if e["design_effect"] is not None:
        parts.append(f"design effect {e['design_effect']:.2f}, as precise as {e['effective_n']:,.0f} independent "
                     f"items of {e['n']:,}" if e["effective_n"] is not None else f"design effect {e['design_effect']:.2f}")  # fmt: skip
    line = "; ".join(parts)
    if d["differs"]:
        line += f"; unweighted {shown(e['unweighted'], e['unweighted_low'], e['unweighted_high'])}"
    diff = d.get("difference")
    if diff and diff["low"] is not None:
        line += (f"; against the baseline {diff['estimate'] * 100:+.1f} points (95% CI {diff['low'] * 100:+.1f} to "
                 f"{diff['high'] * 100:+.1f}, {'cluster' if d['cluster'] else 'item'} bootstrap)")  # fmt: skip
    note = f" ({e['note']})" if e.get("note") else ""
    return [line + note + "."]


def replay_lines(pos: dict[str, Any]) -> list[str]:
    """Production against the replay (``baseline: recorded``): agreement, latency and tokens on both sides."""
    r = pos.get("production_vs_replay")
    if not r:
        return []
    a = r["agreement"]
    # a label agrees or not; free text is compared word for word, which it rarely is: the judged criteria say more
    same = ("gives production's answer word for word" if pos.get("task") == "generation"
            else "agrees with what production answered")  # fmt: skip
    agree = (f"the replay {same} on {quantity(a['value'], 'share')} of the "
             f"{r['both_answered']:,} inputs both answered (95% CI {quantity(a['low'], 'share')}–"
             f"{quantity(a['high'], 'share')})") if a["value"] is not None else "no input was answered by both"  # fmt: skip
    parts = [f"- **Production against replay** ({r['items']:,} traced production inputs): {agree}"]
    if r["recorded_missing"]:
        parts.append(
            f"{r['recorded_missing']:,} traced calls recorded no output (counted as wrong for production)"
        )
    lat = r["latency_ms"]
    if lat["production"]["p95"]["value"] is not None and lat["replay"]["p95"]["value"] is not None:
        parts.append(f"p95 latency {quantity(lat['production']['p95']['value'], 'ms')} in production (its traces), "
                     f"{quantity(lat['replay']['p95']['value'], 'ms')} on replay")  # fmt: skip
    t = r["tokens_per_call"]
    if t["production"]["input"] is not None and t["replay"]["input"] is not None:
        parts.append(
            f"input tokens a call {t['production']['input']:g} in production, {t['replay']['input']:g} on replay"
        )
    return ["; ".join(parts) + "."]


def requests_lines(req: dict[str, Any] | None) -> list[str]:
    """The provider calls: HTTP requests a call, the time spent waiting on them against the PoC's own time, the
    tokens the responses reported and the models they named."""
    if not req:
        return []
    counts = ", ".join(f"{n:,} sent {k}" for k, n in req["per_call_counts"].items())
    line = (f"- **Provider calls** (HTTP requests the PoC sent, captured inside its process): {req['per_call']:g} a "
            f"call over {req['calls']:,} calls ({counts})")  # fmt: skip
    waited, own = req["provider_ms"]["p50"], req["own_ms"]["p50"]
    if waited["value"] is not None and own["value"] is not None:
        share = (
            f", {quantity(req['provider_share'], 'share')} of the time"
            if req["provider_share"] is not None
            else ""
        )
        line += (f"; a call waits p50 {quantity(waited['value'], 'ms')} on them{share}, and spends p50 "
                 f"{quantity(own['value'], 'ms')} in the PoC's own code")  # fmt: skip
    tokens = req["tokens"]
    if tokens["requests_reporting"]:
        line += (f"; the responses reported {quantity(tokens['input'], 'input tokens')} and "
                 f"{quantity(tokens['output'], 'output tokens')} over {tokens['requests_reporting']:,} requests")  # fmt: skip
    if req["models"]:
        line += "; models: " + ", ".join(f"`{m}` ({n:,})" for m, n in req["models"].items())
    return [line + "."]


def operations_lines(pos: dict[str, Any]) -> list[str]:
    """Latency of live calls, cost at production volume, and the integration contract."""
    lines = []
    lat = pos["latency"]
    if lat["p95_ms"] is not None:
        target = (
            f" against a target of {quantity(lat['target_p95_ms'], 'ms')}" if lat["target_p95_ms"] else ""
        )
        lines.append(f"- Latency of live calls: p50 {quantity(lat['p50']['value'], 'ms')}, "
                     f"p95 {quantity(lat['p95_ms'], 'ms')}{target}.")  # fmt: skip
    c = pos["cost"]
    if c["per_call_eur"] is not None:
        month = (
            f", {quantity(c['per_month_eur'], 'eur')} a month at {quantity(c['monthly_volume'], 'calls')}"
            if c["per_month_eur"] is not None
            else ""
        )
        lines.append(f"- Cost: {quantity(c['per_call_eur'], 'eur')} a call{month} ({c['basis']}).")
    elif pos["errors"]["total"] and pos["errors"]["total"] == pos["n_items"]:
        lines.append("- Cost: not measured — no call answered.")
    else:
        lines.append(f"- Cost: {c['basis']}.")
    lines += network_lines(pos)
    if pos["contract"]:
        rate = pos["contract"]["valid_rate"]
        unusable = [c["name"] for c in pos["contract"]["contracts"] if c.get("unusable")]
        if rate is not None:
            lines.append(f"- **Integration contract**: {rate:.0%} of outputs would be accepted downstream.")
        elif unusable:
            lines.append(
                f"- **Integration contract**: not checked — {', '.join(unusable)} could not be used (see below)."
            )
        else:
            lines.append("- **Integration contract**: not checked — the PoC gave no output to check.")
    return lines


def interval_panel(ax: Any, title: str, intervals: list[Any], colors: list[str] | None = None) -> None:
    """One panel of rates on [0, 1]: row y gets a dot with its 95% interval (rows without a value stay empty)."""
    for y, iv in enumerate(intervals):
        if iv is None or iv.get("value") is None:
            continue
        style = {"color": colors[y]} if colors else {}
        ax.errorbar(iv["value"], y, xerr=[[iv["value"] - iv["low"]], [iv["high"] - iv["value"]]], fmt="o",
                    capsize=4, **style)  # fmt: skip
    ax.set_xlim(-0.03, 1.03)  # a rate of 0 or 1 is drawn whole, not cut at the edge
    ax.set_title(title, loc="left")
    ax.grid(axis="x", alpha=0.3)


def draw_matrix(ax: Any, labels: list[str], matrix: list[list[int]], xlabel: str, ylabel: str,
                rotate: bool = False) -> None:  # fmt: skip
    """A confusion matrix as a heat map with its counts written in the cells."""
    ax.imshow(matrix, cmap="Blues")
    if rotate:
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    else:
        ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    top = max(max(r) for r in matrix) or 1
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center", color="white" if v > top / 2 else "black")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def plot_latency(pos: dict[str, Any]):  # -> matplotlib.figure.Figure
    """The latency of the live calls: a histogram with p50, p95, p99 and the target."""
    import matplotlib.pyplot as plt

    lat = pos["latency"]
    fig, ax = plt.subplots(figsize=(8, 2.8), dpi=100)
    plt.close(fig)
    values = lat["histogram_ms"]
    if values:
        ax.hist(values, bins=40, color="#5b8db8")
        for q, style in (("p50", ":"), ("p95", "--"), ("p99", "-.")):
            ax.axvline(
                lat[q]["value"], color="#333", linestyle=style, label=f"{q} {quantity(lat[q]['value'], 'ms')}"
            )
        target = lat["target_p95_ms"]
        if target and target <= 1.5 * max(values):  # the axis fits the data: a far target is said, not drawn
            ax.axvline(target, color="#c0392b", label=f"target p95 {quantity(target, 'ms')}")
        elif target:
            ax.plot([], [], " ", label=f"target p95 {quantity(target, 'ms')}: beyond every call")
        ax.legend(fontsize=8)
    else:
        ax.text(
            0.5, 0.5, "no call answered: no latency to show", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_yticks([])
    ax.set_xlabel("milliseconds per live call")
    ax.set_title(f"Latency of {lat['n']} live calls", loc="left")
    fig.tight_layout()
    return fig


def contract_table(pos: dict[str, Any]) -> pd.DataFrame | None:
    """The most common contract violations (None without a contract)."""
    if not pos["contract"]:
        return None
    rows = [{"Contract": c["name"], "Violation": v["violation"], "Outputs": v["count"]}
            for c in pos["contract"]["contracts"] for v in c["top_violations"]]  # fmt: skip
    rows += [{"Contract": c["name"], "Violation": f"not checked: {c['unusable']}", "Outputs": "—"}
             for c in pos["contract"]["contracts"] if c.get("unusable")]  # fmt: skip
    return pd.DataFrame(rows, columns=["Contract", "Violation", "Outputs"])


def table(frame: pd.DataFrame) -> Any:
    """A table as the page shows it: without its index, every value escaped (:func:`rescue.tables.table`)."""
    return tables.table(frame)


def operations_sections(pos: dict[str, Any]) -> list[Section]:
    """The latency section, and the contract's when one is declared."""
    sections = [Section("Latency", parts=[plot_latency(pos)])]
    contract = contract_table(pos)
    if contract is not None:
        sections.append(Section("The integration contract", "The most common reasons the downstream system would "
                                "reject the PoC's output.", [table(contract)]))  # fmt: skip
    return sections
