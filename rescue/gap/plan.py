"""The rebuild plan: the work that closes each open check of the gap, in dated weeks with the role that owns it.

A pure function of the gap and a start date (``plan.yaml`` says which week and role each area's work falls to).
The owner's handover dates and the readout's plan both come from it.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PLAN = Path(__file__).parent / "plan.yaml"
SEVERITY = {"blocker": 0, "high": 1, "medium": 2, "low": 3}
STATUS = {"fail": 0, "unknown": 1, "attested": 2, "pass": 3}


@cache
def plan_rules() -> dict[str, Any]:
    """``plan.yaml``: the week and the role each area's work falls to."""
    return yaml.safe_load(PLAN.read_text(encoding="utf-8"))


def plan_start(as_of: date | None = None) -> date:
    """The plan starts the Monday after ``as_of`` (today when None)."""
    day = as_of or date.today()
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


def due_dates(plan: list[dict[str, Any]]) -> dict[str, str]:
    """When each open check's work is due: the end of its week in the plan."""
    return {item["check"]: week["ends"] for week in plan for item in week["items"]}


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
