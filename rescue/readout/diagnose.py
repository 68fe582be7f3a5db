"""The stall diagnosis: for each of the seven stall reasons, a verdict derived from the artifacts' evidence.

A reason applies when a check it rests on fails; when none fails but one is unknown (not measured yet, not
attested), the reason is unknown too: missing evidence never becomes "does not apply". Each verdict cites only
the artifacts that exist.
"""

from __future__ import annotations

from typing import Any

REASONS = {
    "sales_artifact": "Sales artifact: built to demo, not to run",
    "no_eval_harness": "No eval harness",
    "no_latency_cost_target": "No latency or cost target",
    "data_only_in_demo": "Data only in the demo",
    "integration_hand_waved": "Integration hand-waved",
    "compliance_deferred": "Compliance deferred",
    "no_owner": "No owner",
}

DEMO_GAP = 0.15  # demo accuracy this far above production means the demo was hand-picked


def _check(gap: dict[str, Any] | None, check_id: str) -> dict[str, Any] | None:
    if gap is None:
        return None
    return next((c for c in gap["checks"] if c["id"] == check_id), None)


def _verdict(reason: str, verdict: str, evidence: list[str], sources: list[str]) -> dict[str, Any]:
    return {"id": reason, "title": REASONS[reason], "verdict": verdict, "evidence": evidence, "from": sources}


def _from_checks(checks: list[dict[str, Any]], failing: list[dict[str, Any]]) -> str:
    """applies when a check fails, unknown when none fails but one is unknown, else does not apply."""
    if failing:
        return "applies"
    return "unknown" if any(c["status"] == "unknown" for c in checks) else "does not apply"


def diagnose(artifacts: dict[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
    """A verdict — applies / does not apply / unknown — for each stall reason, with the evidence cited."""
    gap, picture, position = (
        artifacts.get("gap"),
        artifacts.get("data_picture"),
        artifacts.get("eval_position"),
    )
    out = []

    # 1. sales artifact: the demo scores far above production
    dvp = (position or {}).get("demo_vs_production")
    if dvp and dvp.get("gap") is not None:
        applies = dvp["gap"] >= DEMO_GAP
        metric = dvp.get("metric", "accuracy")
        ev = [f"{metric} {dvp['accuracy']['value']:.0%} on {dvp['n']} demo examples vs {dvp['production_accuracy']['value']:.0%} "
              f"on {dvp['production_accuracy']['n']} production items (gap {dvp['gap'] * 100:.0f} points)"]  # fmt: skip
        out.append(
            _verdict("sales_artifact", "applies" if applies else "does not apply", ev, ["eval_position.json"])
        )
    else:
        out.append(_verdict("sales_artifact", "unknown", ["no demo-vs-production score yet (Day 4)"], []))

    # 2. no eval harness: no labeled production set, no acceptance threshold or no baseline on production
    needed = ["eval.labeled_production_set", "eval.quality_target_set", "eval.baseline_on_production"]
    checks = [c for c in (_check(gap, i) for i in needed) if c]
    if checks:
        failing = [c for c in checks if c["status"] == "fail"]
        ev = [f"{c.get('title') or c['id']}: {c['status']} — {c['evidence']}" for c in checks]
        out.append(_verdict("no_eval_harness", _from_checks(checks, failing), ev, ["gap.json"]))
    else:
        out.append(_verdict("no_eval_harness", "unknown", ["no production gap yet (Day 1)"], []))

    # 3. no latency/cost target
    checks = [c for c in (_check(gap, i) for i in ("latency.target_set", "cost.target_set")) if c]
    if checks:
        failing = [c for c in checks if c["status"] == "fail"]
        out.append(_verdict("no_latency_cost_target", _from_checks(checks, failing),
                            [f"{c.get('title') or c['id']}: {c['evidence']}" for c in checks], ["gap.json"]))  # fmt: skip
    else:
        out.append(_verdict("no_latency_cost_target", "unknown", ["no production gap yet (Day 1)"], []))

    # 4. data only in the demo: no reachable production source, or demo text unlike production text
    if picture:
        ev, applies = [], False
        s = picture["summary"]
        if s["reachable"] == 0:
            applies = True
            ev.append(f"none of {s['sources']} declared production sources could be read")
        d = picture.get("demo_vs_production")
        if d and d["production"]:
            demo_len = d["demo"]["len_p50"] or 0
            prod_len = sorted(p["len_p50"] or 0 for p in d["production"])[len(d["production"]) // 2]
            entities = max(p["html_entities"] for p in d["production"])
            unlike = prod_len > 3 * max(demo_len, 1) or (entities > 0.2 and d["demo"]["html_entities"] == 0)
            applies = applies or unlike
            ev.append(f"demo texts: median {demo_len} characters, {d['demo']['html_entities']:.0%} with HTML entities; "
                      f"production: median {prod_len}, up to {entities:.0%} with HTML entities; "
                      f"{d['demo_texts_found_in_production']} of {d['demo']['rows']} demo texts found in production")  # fmt: skip
        out.append(
            _verdict(
                "data_only_in_demo",
                "applies" if applies else "does not apply",
                ev or ["production sources read"],
                ["data_picture.json"],
            )
        )
    else:
        out.append(_verdict("data_only_in_demo", "unknown", ["no data picture yet (Day 2)"], []))

    # 5. integration hand-waved: no contract, PoC not callable, or outputs the downstream system rejects
    ids = ("integration.contract_declared", "integration.poc_callable", "integration.output_conforms")
    checks = [c for c in (_check(gap, i) for i in ids) if c]
    contract = (position or {}).get("contract")
    if checks:
        failing = [c for c in checks if c["status"] == "fail"]
        ev = [f"{c.get('title') or c['id']}: {c['status']} — {c['evidence']}" for c in checks]
        if contract and contract.get("valid_rate") is not None:
            ev.append(f"{contract['valid_rate']:.0%} of PoC outputs validate against the downstream contract")
        cited = ["gap.json", "eval_position.json"] if position else ["gap.json"]
        out.append(_verdict("integration_hand_waved", _from_checks(checks, failing), ev, cited))
    else:
        out.append(_verdict("integration_hand_waved", "unknown", ["no production gap yet (Day 1)"], []))

    # 6. compliance deferred: residency, processor agreements, DPIA, undeclared personal data
    ids = (
        "compliance.residency",
        "compliance.observed_destinations",
        "compliance.processor_agreements",
        "compliance.dpia",
        "compliance.personal_data_as_declared",
    )
    checks = [c for c in (_check(gap, i) for i in ids) if c]
    if checks:
        failing = [
            c
            for c in checks
            if c["status"] == "fail" or (c["id"] == "compliance.dpia" and c["status"] == "unknown")
        ]
        out.append(_verdict("compliance_deferred", _from_checks(checks, failing),
                            [f"{c.get('title') or c['id']}: {c['status']} — {c['evidence']}" for c in checks], ["gap.json"]))  # fmt: skip
    else:
        out.append(_verdict("compliance_deferred", "unknown", ["no production gap yet (Day 1)"], []))

    # 7. no owner
    c = _check(gap, "ownership.owner_named")
    if c:
        verdict = {"fail": "applies", "pass": "does not apply"}.get(c["status"], "unknown")
        out.append(_verdict("no_owner", verdict, [c["evidence"]], ["gap.json"]))
    else:
        out.append(_verdict("no_owner", "unknown", ["no production gap yet (Day 1)"], []))
    return out
