"""Day 4 on production's own traffic: Day 3's random sample of traced calls, answered twice — by what production
recorded, and by the PoC replayed on the same inputs — and each answer judged on every rubric criterion.

Two systems from one trace: the recorded output is scored without calling anything (:func:`make_recorded`), the
replay is the PoC called as on the labeled questions. Each criterion's pass rate is weighted back to the traces'
population with the sample's weights, sessions are clusters (cluster-robust intervals; a cluster bootstrap for
the replay minus production), and the design effect is given (:mod:`rescue.evals.design`). Nobody graded these
calls: the pass rates are the judge's, shown only for the criteria where the judge agrees with people on the
labeled questions (the same rule as there), and withheld with the reason for the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..evalset.grades import grading_frame
from ..evalset.traced import prepare_traces_sample, traced_items
from ..ledger import Call, Ledger
from ..spec import Spec
from ..systems import Adapter, RunPolicy, make_recorded, run
from .design import paired_difference, weighted_mean
from .judge import judge_run, verdict
from .weighting import production_vs_replay

DATASET = "traces"


def _passes(spec: Spec, items: list[dict[str, Any]], calls: list[Call], judge: Adapter, ledger: Ledger,
            criterion: Any, system: Adapter, policy: RunPolicy | None, progress: bool) -> list[float]:  # fmt: skip
    """1 where the judge passes the system's answer to the item on ``criterion``, else 0 (no answer, a judge
    that failed or said nothing readable: a fail, as for the labeled questions)."""
    frame = grading_frame(spec, items, calls)
    judged = judge_run(judge, ledger, criterion, system, frame, policy, progress)
    verdicts = {r["key"]: (verdict(c.output, criterion) if c.ok else None)
                for r, c in zip(frame.to_dict("records"), judged, strict=True)}  # fmt: skip
    return [1.0 if verdicts.get(it["item_id"]) == "pass" else 0.0 for it in items]


def traces_block(spec: Spec, out: str | Path, poc: Adapter, judge: Adapter | None, ledger: Ledger,
                 criteria: list[dict[str, Any]], policy: RunPolicy | None = None,
                 progress: bool = True) -> dict[str, Any] | None:  # fmt: skip
    """Production's recorded answers and the PoC's replay on Day 3's traces sample, judged per criterion and
    weighted as sampled; None without a traces sample (no traces source, or none of its calls has an input)."""
    drawn = prepare_traces_sample(spec, out)
    if drawn is None:
        return None
    frame, info = drawn
    items = traced_items(frame)
    recorded = make_recorded()
    replay_calls = run(poc, items, ledger, DATASET, policy, progress=progress)
    recorded_calls = run(recorded, items, ledger, DATASET, policy, progress=progress)
    weights = [float(it.get("weight") or 1.0) for it in items]
    strata = [str(it.get("stratum") or "all") for it in items]
    sessions = [str(it.get("session_id") or it["item_id"]) for it in items]  # a call without one is its own
    out_criteria = []
    for criterion, block in zip(spec.eval.rubric, criteria, strict=True):
        entry: dict[str, Any] = {"criterion": criterion.name, "judge_trusted": bool(block["calibrated"]),
                                 "withheld_because": block["withheld_because"]}  # fmt: skip
        if judge is not None and block["calibrated"]:
            production = _passes(
                spec, items, recorded_calls, judge, ledger, criterion, recorded, policy, progress
            )
            replayed = _passes(spec, items, replay_calls, judge, ledger, criterion, poc, policy, progress)
            entry["production"] = weighted_mean(production, weights, strata, sessions, fpc=False).to_dict()
            entry["replay"] = weighted_mean(replayed, weights, strata, sessions, fpc=False).to_dict()
            entry["difference"] = paired_difference(replayed, production, weights, strata, sessions).to_dict()
        else:
            entry.update({"production": None, "replay": None, "difference": None})
        out_criteria.append(entry)
    return {
        "sample": {k: info[k] for k in ("size", "population", "generalises_to", "sessions", "stratified_by")},
        "cluster": "session_id",
        "criteria": out_criteria,
        "replay_failed": sum(1 for c in replay_calls if not c.ok),
        "production_vs_replay": production_vs_replay(
            items, replay_calls, recorded_calls, spec.eval.answer_field
        ),
    }
