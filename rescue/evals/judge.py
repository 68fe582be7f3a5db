"""The judge: an LLM that grades the PoC's answers against each rubric criterion, believed only as far as it
agrees with people.

It runs through the same runner and ledger as the PoC (cached, resumable; its dataset names the criterion and
the PoC config, so a changed PoC is judged afresh). On the answers people graded in Day 3 its agreement with
them is measured (Cohen's kappa, sensitivity, specificity); under ``eval.judge.min_kappa``, or without enough
passes and fails to tell, its own pass rate is withheld. The pass rate is estimated by prediction-powered
inference: people's grades correct the judge's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ..ledger import Call, Ledger
from ..spec import Criterion, Spec
from ..stats import naive_intervals, ppi_mean
from ..systems import Adapter, RunPolicy, config_hash, make_system_adapter, run
from . import textscores


def judge_prompt(
    criterion: Criterion, question: str, answer: str, context: list[tuple[str, str]], reference: str | None
) -> str:
    """The judge's user message: one criterion, the question, the retrieved context, the answer, the reference."""
    scale = "pass/fail" if criterion.scale == "pass_fail" else "1-5 (5 best)"
    reply = (
        '{"verdict": "pass" or "fail", "reason": "<one sentence>"}'
        if criterion.scale == "pass_fail"
        else '{"score": 1 to 5, "reason": "<one sentence>"}'
    )
    parts = [
        f"### Criterion\n{criterion.name}: {criterion.description}",
        f"### Scale\n{scale}",
        f"### Question\n{question}",
    ]
    if context:
        parts.append("### Retrieved context\n" + "\n".join(f"[{i}] {t}" for i, t in context))
    parts.append(f"### Answer\n{answer}")
    if reference:
        parts.append(f"### Reference answer\n{reference}")
    parts.append(f"### Reply\nReply with JSON only: {reply}")
    return "\n".join(parts)


JUDGE_SYSTEM = (
    "You grade an AI assistant's answer against one criterion of a rubric. Judge only that criterion, "
    "use only the information given, and reply with the JSON asked for and nothing else."
)


def verdict(output: Any, criterion: Criterion) -> str | None:
    """``pass``/``fail`` from a judge's reply (None when the reply cannot be read)."""
    if not isinstance(output, dict):
        return None
    if criterion.scale == "pass_fail":
        value = str(output.get("verdict", output.get("answer", ""))).strip().lower()
        return value if value in ("pass", "fail") else None
    try:
        score = float(output.get("score", output.get("answer")))
    except (TypeError, ValueError, OverflowError):
        return None
    return ("pass" if score >= criterion.pass_at else "fail") if 1 <= score <= 5 else None


def make_judge(spec: Spec) -> Adapter:
    """The judge's adapter (with rescue's system prompt unless the spec gives one); one for every criterion."""
    assert spec.eval.judge is not None
    judge_spec = spec.eval.judge
    if not judge_spec.system_prompt:
        judge_spec = judge_spec.model_copy(update={"system_prompt": JUDGE_SYSTEM})
    return make_system_adapter(spec, judge_spec, "judge", "eval.judge")


def judge_run(
    judge: Adapter, ledger: Ledger, criterion: Criterion, poc: Adapter, frame: pd.DataFrame,
    policy: RunPolicy | None, progress: bool,
) -> list[Call]:  # fmt: skip
    # the criterion's scale and threshold are part of the judge's config for it
    judge = dataclasses.replace(judge, config=config_hash(judge.config, criterion.model_dump(mode="json")))
    items = [{"item_id": r["key"], "text": judge_prompt(criterion, r["question"], r["answer"], r["context"], r["reference"])}
             for r in frame.to_dict("records")]  # fmt: skip
    # the dataset names the PoC config: a changed PoC gets its answers judged afresh
    return run(judge, items, ledger, f"judge:{criterion.name}:{poc.config}", policy, progress=progress)


MIN_PER_CLASS = 5  # a judge is only checked against people who graded enough passes and enough fails


def criterion_block(
    spec: Spec, criterion: Criterion, frame: pd.DataFrame, judge_calls: list[Call], people: dict[str, Any],
    questions: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One criterion: the judge against the Day 3 grades, and the pass rate with its intervals.

    ``questions`` is the number of questions asked (answered or not): the per-question pass rate counts a
    failed call as a fail.
    """
    judge = spec.eval.judge
    assert judge is not None
    verdicts = {r["key"]: (verdict(c.output, criterion) if c.ok else None)
                for r, c in zip(frame.to_dict("records"), judge_calls, strict=True)}  # fmt: skip
    grades = people["grades"]
    both = [k for k in frame["key"] if k in grades and verdicts.get(k) is not None]
    y_l = [1.0 if grades[k] == "pass" else 0.0 for k in both]
    yhat_l = [1.0 if verdicts[k] == "pass" else 0.0 for k in both]
    yhat_u = [1.0 if v == "pass" else 0.0 for k, v in verdicts.items() if v is not None and k not in grades]
    calibration = (
        textscores.judge_agreement([grades[k] for k in both], [verdicts[k] for k in both]) if both else None
    )
    kappa = (calibration or {}).get("kappa", {}).get("value")
    passes, fails = int(sum(y_l)), len(y_l) - int(sum(y_l))
    if len(both) < judge.min_calibration_items:
        why = (f"only {len(both)} answers have a Day 3 grade and a judge verdict "
               f"(eval.judge.min_calibration_items is {judge.min_calibration_items})")  # fmt: skip
    elif min(passes, fails) < MIN_PER_CLASS:
        why = (f"the Day 3 grades hold {passes} passes and {fails} fails: agreement cannot be judged "
               f"without at least {MIN_PER_CLASS} of each")  # fmt: skip
    elif kappa is None or kappa < judge.min_kappa:
        why = f"the judge agrees with the Day 3 grades at kappa {kappa:.2f}, under eval.judge.min_kappa {judge.min_kappa:g}"
    else:
        why = None
    calibrated = why is None
    judged = [v for v in verdicts.values() if v is not None]
    graded_values = [1.0 if g == "pass" else 0.0 for k, g in grades.items() if k in set(frame["key"])]
    naive = naive_intervals(graded_values, [1.0 if v == "pass" else 0.0 for v in judged])
    # PPI needs enough graded answers of both kinds; otherwise its rectifier variance is not estimable
    ppi = (
        _clip(ppi_mean(y_l, yhat_l, yhat_u))
        if yhat_u and len(both) >= judge.min_calibration_items and min(passes, fails) >= 1
        else None
    )
    best = ppi if ppi is not None else naive["human_only"]
    by_people = sum(n for origin, n in people["origin"].items() if origin == "human")
    return {
        "name": criterion.name,
        "description": criterion.description,
        "scale": criterion.scale,
        "answers": len(frame),
        "judged": len(judged),
        "judge_unreadable": sum(1 for c in judge_calls if c.ok and verdict(c.output, criterion) is None),
        "judge_failed": sum(1 for c in judge_calls if not c.ok),
        "graded": len(grades),
        "graded_by_people": by_people,
        "grade_origin": people["origin"],
        "stale_grades": people["stale"],
        "calibration_items": len(both),
        "calibration": calibration,
        "min_kappa": judge.min_kappa,
        "calibrated": calibrated,
        "calibrated_against_people": calibrated and by_people == len(grades),
        "withheld_because": why,
        "pass_rate": {
            "ppi": ppi,
            "human_only": naive["human_only"],
            # a judge that disagrees with the graders is not presented as a finding
            "judge_only": naive["judge_only"] if calibrated else None,
            "per_question": _per_question(best, len(frame), questions or len(frame)),
        },
    }


def _clip(interval: dict[str, Any]) -> dict[str, Any]:
    """A rate's interval kept within [0, 1]."""
    out = dict(interval)
    for key in ("value", "low", "high"):
        if out.get(key) is not None:
            out[key] = min(1.0, max(0.0, out[key]))
    return out


def _per_question(rate: dict[str, Any], answered: int, questions: int) -> dict[str, Any] | None:
    """The pass rate over every question asked: a failed call (no answer) is a fail. The answered share is
    known exactly for this set, so the interval scales with it."""
    if rate.get("value") is None or not questions:
        return None
    share = answered / questions
    return {"value": round(rate["value"] * share, 4), "low": round(rate["low"] * share, 4),
            "high": round(rate["high"] * share, 4), "answered": answered, "questions": questions}  # fmt: skip
