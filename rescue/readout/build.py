"""The readout: go / no-go / conditional, the stall diagnosis, the top gaps and a dated rebuild plan."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from ..artifacts import read_artifact
from ..gap import closed
from ..gap.plan import SEVERITY, STATUS, plan_start, rebuild_plan
from ..spec import Spec
from .diagnose import diagnose


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
    spec: Spec,
    out: str | Path,
    owner: dict[str, Any] | None = None,
    as_of: date | None = None,
    gap: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Diagnose the stall from the artifacts in ``out``, decide, and plan the rebuild.

    The gap is ``gap.json`` as the week's closing step assessed it with every later day's evidence
    (:func:`rescue.gap.closed`), unless ``gap`` is given.
    """
    as_of = as_of or date.today()
    gap = gap if gap is not None else closed(spec, out)
    artifacts: dict[str, Any] = {"gap": gap}
    for name in ("data_picture", "eval_set", "eval_position"):
        artifacts[name] = read_artifact(out, name, required=False)
    diagnosis = diagnose(artifacts)
    blockers = [b for b in gap["blockers"] if b["applies"]]
    decision = "no-go" if blockers else ("go" if gap["verdict"] == "ready" else "conditional")
    open_checks = [c for c in gap["checks"] if c["status"] in ("fail", "unknown")]
    open_checks.sort(key=lambda c: (SEVERITY[c["severity"]], STATUS[c["status"]], c["id"]))
    plan = rebuild_plan(gap, plan_start(as_of))
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
        "evidence_missing": [
            name for name in ("data_picture", "eval_set", "eval_position") if artifacts[name] is None
        ],
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
