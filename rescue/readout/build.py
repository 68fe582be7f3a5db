"""The readout: go / no-go / conditional, the stall diagnosis, the top gaps and a dated rebuild plan."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ..artifacts import read_artifact
from ..gap import assess_gap
from ..spec import Spec
from .diagnose import diagnose

PLAN = Path(__file__).parent / "plan.yaml"
SEVERITY = {"blocker": 0, "high": 1, "medium": 2, "low": 3}
STATUS = {"fail": 0, "unknown": 1, "attested": 2, "pass": 3}


@cache
def plan_rules() -> dict[str, Any]:
    return yaml.safe_load(PLAN.read_text(encoding="utf-8"))


def due_dates(gap: dict[str, Any], as_of: date | None = None) -> dict[str, str]:
    """When each open check's work is due: the end of its week in the rebuild plan."""
    plan = rebuild_plan(gap, _next_monday(as_of or date.today()))
    return {item["check"]: week["ends"] for week in plan for item in week["items"]}


def _next_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


def rebuild_plan(gap: dict[str, Any], start: date) -> list[dict[str, Any]]:
    """The work items that close each open gap, grouped into dated weeks with the role that owns them."""
    rules = plan_rules()["areas"]
    weeks: dict[int, list[dict[str, Any]]] = {}
    for c in gap["checks"]:
        if c["status"] in ("pass",):
            continue
        rule = rules.get(c["area"], {"week": 6, "role": "ML engineer"})
        weeks.setdefault(rule["week"], []).append(
            {
                "check": c["id"],
                "work": c["remedy"],
                "severity": c["severity"],
                "status": c["status"],
                "role": rule["role"],
            }
        )
    plan = []
    for n, (_week, items) in enumerate(sorted(weeks.items())):
        begins = start + timedelta(weeks=n)
        items.sort(key=lambda i: (SEVERITY[i["severity"]], STATUS[i["status"]]))
        plan.append(
            {
                "week": n + 1,
                "starts": begins.isoformat(),
                "ends": (begins + timedelta(days=4)).isoformat(),
                "items": items,
            }
        )
    return plan


def _summaries(artifacts: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    gap, pic, es, pos = (artifacts.get(k) for k in ("gap", "data_picture", "eval_set", "eval_position"))
    out: dict[str, Any] = {}
    if gap:
        out["production_gap"] = {"verdict": gap["verdict"], "headline_score": gap["headline_score"], "counts": gap["counts"],
                                 "weakest_areas": gap["weakest_areas"]}  # fmt: skip
    if pic:
        out["data_picture"] = {"sources": pic["summary"]["sources"], "reachable": pic["summary"]["reachable"],
                               "rows": pic["summary"]["rows_total"], "unowned": pic["summary"]["unowned_sources"],
                               "personal_data_in": pic["summary"]["personal_data_found_in"],
                               "worst_read_p95_ms": pic["latency"]["worst_p95_ms"]}  # fmt: skip
    if es:
        out["eval_set"] = {"sampled": es["sample"]["size"], "labeled": es["labels"]["labeled_items"],
                           "label_origin": es["labels"]["origin"], "agreement": es["agreement"]}  # fmt: skip
    if pos and pos.get("task") == "generation":
        g = pos["generation"]
        out["eval_position"] = {"task": "generation", "n": pos["n_items"], "token_f1": pos["scores"]["token_f1"],
                                "rubric": [{"name": c["name"], "pass_rate": c["pass_rate"]["per_question"],
                                            "judge_believed": c["calibrated"], "withheld_because": c["withheld_because"],
                                            "grades": c["graded"], "grades_by_people": c["graded_by_people"]} for c in g["rubric"]],
                                "retrieval_hit_rate": (g["retrieval"] or {}).get("hit_rate"),
                                "demo_token_f1": (pos["demo_vs_production"] or {}).get("accuracy"),
                                "baseline": (pos["comparison"] or {}).get("sentence"),
                                "latency_p95_ms": pos["latency"]["p95_ms"], "cost_per_month_eur": pos["cost"]["per_month_eur"],
                                "contract_valid_rate": (pos["contract"] or {}).get("valid_rate")}  # fmt: skip
    elif pos:
        out["eval_position"] = {"n": pos["n_items"], "accuracy": pos["scores"]["accuracy"], "macro_f1": pos["scores"]["macro_f1"],
                                "demo_accuracy": (pos["demo_vs_production"] or {}).get("accuracy"),
                                "baseline": (pos["comparison"] or {}).get("sentence"),
                                "latency_p95_ms": pos["latency"]["p95_ms"], "cost_per_month_eur": pos["cost"]["per_month_eur"],
                                "contract_valid_rate": (pos["contract"] or {}).get("valid_rate")}  # fmt: skip
    return out


def build_readout(
    spec: Spec, out: str | Path, owner: dict[str, Any] | None = None, as_of: date | None = None
) -> dict[str, Any]:
    """Assess the gap once more with every artifact present, diagnose the stall, and plan the rebuild."""
    as_of = as_of or date.today()
    gap = assess_gap(spec, out)  # fresh: the gap.json of the week's first day predates the later evidence
    artifacts: dict[str, Any] = {"gap": gap}
    for name in ("data_picture", "eval_set", "eval_position"):
        artifacts[name] = read_artifact(out, name, required=False)
    diagnosis = diagnose(artifacts)
    blockers = [b for b in gap["blockers"] if b["applies"]]
    decision = "no-go" if blockers else ("go" if gap["verdict"] == "ready" else "conditional")
    open_checks = [c for c in gap["checks"] if c["status"] in ("fail", "unknown")]
    open_checks.sort(key=lambda c: (SEVERITY[c["severity"]], STATUS[c["status"]], c["id"]))
    plan = rebuild_plan(gap, _next_monday(as_of))
    return {
        "as_of": as_of.isoformat(),
        "decision": decision,
        "because": [b["title"] + ": " + b["evidence"] for b in blockers]
        or ([f"{len(open_checks)} open checks"] if open_checks else ["every check passes"]),
        "diagnosis": diagnosis,
        "stall_reasons_applying": [d["id"] for d in diagnosis if d["verdict"] == "applies"],
        "top_gaps": [
            {
                "check": c["id"],
                "title": c["title"],
                "severity": c["severity"],
                "status": c["status"],
                "evidence": c["evidence"],
                "next": c["remedy"],
            }
            for c in open_checks[:10]
        ],
        "headline_score": gap["headline_score"],
        "summaries": _summaries(artifacts),
        "owner_checks": (owner or {}).get("checks", []),
        "plan": plan,
        "plan_weeks": len(plan),
    }


def readout_markdown(readout: dict[str, Any], project: str) -> str:
    """The short Markdown summary of the readout."""
    lines = [
        f"# Readout — {project} ({readout['as_of']})",
        "",
        f"**Decision: {readout['decision'].upper()}**",
        "",
    ]
    lines += [f"- {b}" for b in readout["because"]]
    lines += ["", "## Why it stalled", ""]
    for d in readout["diagnosis"]:
        lines.append(f"- **{d['title']}** — {d['verdict']}: {'; '.join(d['evidence'])}")
    lines += ["", "## Top gaps", ""]
    lines += [
        f"{i}. {g['title']} ({g['severity']}, {g['status']}) — next: {g['next']}"
        for i, g in enumerate(readout["top_gaps"], 1)
    ]
    lines += ["", f"## Rebuild plan ({readout['plan_weeks']} weeks)", ""]
    for w in readout["plan"]:
        lines.append(f"- Week {w['week']} ({w['starts']} to {w['ends']}): " + "; ".join(f"{i['work']} [{i['role']}]" for i in w["items"][:4])
                     + (f" (+{len(w['items']) - 4} more)" if len(w["items"]) > 4 else ""))  # fmt: skip
    return "\n".join(lines) + "\n"


def check_gate(spec: Spec | None, out: str | Path) -> list[str]:
    """Why a release must not go ahead (empty when it may): blockers and thresholds from rescue.yaml's gate."""
    reasons = []
    gap = read_artifact(out, "gap", required=True)
    if spec is not None:
        gap = assess_gap(spec, out)
    gate = spec.gate if spec is not None else None
    allow_blockers = gate.allow_blockers if gate else False
    for b in gap["blockers"]:
        if b["applies"] and not allow_blockers:
            reasons.append(f"blocker: {b['title']} ({b['check']} is {b['status']}: {b['evidence']})")
    if gate and gate.min_headline_score is not None and gap["headline_score"] < gate.min_headline_score:
        reasons.append(f"headline score {gap['headline_score']:.2f} is under gate.min_headline_score {gate.min_headline_score:.2f} "
                       f"(weakest: {', '.join(gap['weakest_areas'])})")  # fmt: skip
    pos = read_artifact(out, "eval_position", required=False)
    if gate and gate.min_macro_f1_low is not None:
        low = (pos or {}).get("scores", {}).get("macro_f1", {}).get("low")
        if low is None or low < gate.min_macro_f1_low:
            reasons.append(
                f"macro-F1 lower bound {low if low is not None else 'not measured'} is under gate.min_macro_f1_low {gate.min_macro_f1_low:.2f}"
            )
    if gate and gate.min_contract_valid_rate is not None:
        rate = ((pos or {}).get("contract") or {}).get("valid_rate")
        if rate is None or rate < gate.min_contract_valid_rate:
            reasons.append(
                f"contract valid rate {rate if rate is not None else 'not measured'} is under gate.min_contract_valid_rate {gate.min_contract_valid_rate:.2f}"
            )
    return reasons
