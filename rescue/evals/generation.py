"""Day 4 for free-text and RAG PoCs: reference scores against a baseline system, retrieval, and the rubric
graded by a judge calibrated against people (see :mod:`rescue.evals.judge`).

The PoC's answers come through the ledger (dataset ``production``, the same calls Day 3 shows the graders).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from scipy import stats

from ..artifacts import read_artifact
from ..errors import RescueError
from ..evalset.grades import grading_frame, people_grades
from ..evalset.items import load_demo_items, load_eval_items
from ..ledger import Call, Ledger
from ..pii import mask_pii
from ..spec import PocSpec, Spec
from ..stats import bootstrap_mean
from ..systems import (
    Adapter,
    RunPolicy,
    cited_documents,
    make_poc_adapter,
    make_recorded,
    make_system_adapter,
    opened,
    output_field,
    run,
)
from . import textscores
from .judge import criterion_block, judge_run, make_judge
from .operations import (
    comparison_sentence,
    cost_summary,
    errors_summary,
    judge_cost,
    latency_summary,
    network_summary,
)
from .slices import compare_slices
from .traced import traces_block
from .weighting import design_summary, production_vs_replay

METRICS = ("exact_match", "token_f1", "rouge_l", "chrf")
METRIC_NAMES = {"exact_match": "exact match", "token_f1": "token F1", "rouge_l": "ROUGE-L", "chrf": "chrF"}


def relevant_ids(value: Any) -> set[str]:
    if value is None or (isinstance(value, float) and value != value):
        return set()
    return {v.strip() for v in str(value).split("|") if v.strip()}


def _budget(spec: Spec, out: Path, k: int) -> dict[str, Any] | None:
    """What fetching k documents from the corpus source costs in time, from the data picture's probes."""
    name = spec.eval.corpus_source
    picture = read_artifact(out, "data_picture", required=False) if name else None
    if picture is None:
        return None
    entry = next((s for s in picture.get("sources", []) if s.get("name") == name), None)
    p95 = ((entry or {}).get("latency") or {}).get("point_lookup_p95_ms")
    if p95 is None:
        return None
    target = spec.targets.latency_p95_ms
    fetch = round(p95 * k, 2)
    return {"source": name, "point_lookup_p95_ms": p95, "k": k, "sequential_fetch_ms": fetch, "target_p95_ms": target,
            "share_of_target": None if not target else round(fetch / target, 4)}  # fmt: skip


def _reference(
    answers: list[str | None], refs: list[str], base_answers: list[str | None] | None
) -> dict[str, Any]:
    poc = textscores.reference_scores(answers, refs)
    out: dict[str, Any] = {
        "poc": {m: poc[m] for m in METRICS},
        "missing": poc["missing"],
        "baseline": None,
        "comparison": None,
    }
    if base_answers is not None:
        base = textscores.reference_scores(base_answers, refs)
        out["baseline"] = {m: base[m] for m in METRICS}
        out["comparison"] = {
            m: textscores.paired_scores(poc["per_item"][m], base["per_item"][m]) for m in METRICS
        }
    out["per_item_token_f1"] = poc["per_item"]["token_f1"]
    out["per_item_baseline_token_f1"] = base["per_item"]["token_f1"] if base_answers is not None else None
    return out


def _comparison_sentence(reference: dict[str, Any], baseline: str) -> str | None:
    comparison = reference.get("comparison")
    if not comparison:
        return None
    d = comparison["token_f1"]
    claim = (f"the PoC's token F1 against the reference answers is {abs(d['value']) * 100:.1f} points "
             f"{'higher' if d['value'] > 0 else 'lower'} than the baseline system's, {baseline}")  # fmt: skip
    return comparison_sentence(d["n"], "questions", claim, d, "Wilcoxon", d["p_value"])


def _slices(items: list[dict[str, Any]], per_item_f1: list[float], slice_fields: list[str]) -> dict[str, Any]:
    """Token F1 per slice against the rest (Mann-Whitney U, Holm-corrected)."""

    def mann_whitney(inside: list[float], rest: list[float]) -> float:
        return float(stats.mannwhitneyu(inside, rest, alternative="two-sided").pvalue)

    found = compare_slices(
        items, per_item_f1, slice_fields, "token_f1", bootstrap_mean, mann_whitney, max_groups=50
    )
    return {"count": found["count"], "metric": "token F1", "rows": found["rows"]}


def _examples(
    items: list[dict[str, Any]], calls: list[Call], per_item_f1: list[float], field: str, limit: int = 6
) -> list[dict[str, Any]]:
    order = sorted(range(len(items)), key=lambda i: (per_item_f1[i], items[i]["item_id"]))
    out = []
    for i in order[:limit]:
        c = calls[i]
        answer = output_field(c.output, field) if c.ok else None
        out.append({"item": items[i]["item_id"], "question": items[i]["text"], "reference": mask_pii(str(items[i]["label"]))[:280],
                    "answer": None if answer is None else mask_pii(answer)[:280], "token_f1": per_item_f1[i], "error": c.error_kind})  # fmt: skip
    return out


def build_position(
    spec: Spec, out: str | Path, progress: bool = True, policy: RunPolicy | None = None
) -> dict[str, Any]:
    """Day 4 for free-text answers: reference scores vs the baseline, retrieval, the calibrated judge, PPI."""
    out = Path(out)
    ev = spec.eval
    items = load_eval_items(spec)
    if not items:
        raise RescueError(f"no question in {ev.labels} has a reference answer ({ev.label_column})")
    demo = load_demo_items(spec)
    refs = [str(it["label"]) for it in items]
    poc = make_poc_adapter(spec)  # closed when its calls are made: its workers stop, poc.env is put back
    baseline: Adapter | None = None
    criteria: list[dict[str, Any]] = []
    judge_calls_all: list[Call] = []
    with opened(poc), Ledger(out) as ledger:
        poc_calls = run(poc, items, ledger, "production", policy, progress=progress)
        demo_calls = run(poc, demo, ledger, "demo", policy, progress=progress) if demo else []
        base_calls: list[Call] = []
        if ev.baseline == "recorded":  # production's own answers to the same inputs: nothing is called
            baseline = make_recorded()
            base_calls = run(baseline, items, ledger, "production", policy, progress=progress)
        elif ev.baseline_system is not None:
            baseline = make_system_adapter(
                spec, ev.baseline_system, "baseline:system", "eval.baseline_system"
            )
            base_calls = run(baseline, items, ledger, "production", policy, progress=progress)
        frame = grading_frame(spec, items, poc_calls)
        hashes = dict(zip(frame["key"], frame["item_hash"], strict=True))
        judge = make_judge(spec) if ev.rubric else None
        for criterion in ev.rubric:
            assert judge is not None
            judge_calls = judge_run(judge, ledger, criterion, poc, frame, policy, progress)
            judge_calls_all += judge_calls
            people = people_grades(ledger, criterion, hashes)
            criteria.append(criterion_block(spec, criterion, frame, judge_calls, people, len(items)))
        traced = traces_block(spec, out, poc, judge, ledger, criteria, policy, progress)
        ledger_calls = ledger.count()

    answers = [output_field(c.output, ev.answer_field) if c.ok else None for c in poc_calls]
    base_answers = (
        [output_field(c.output, ev.answer_field) if c.ok else None for c in base_calls] if baseline else None
    )
    reference = _reference(answers, refs, base_answers)
    per_item_f1 = reference.pop("per_item_token_f1")
    per_item_base_f1 = reference.pop("per_item_baseline_token_f1")
    retrieval = None
    if ev.relevant_column:
        docs = [cited_documents(c.output, ev.documents_field) if c.ok else None for c in poc_calls]
        retrieval = textscores.retrieval(
            docs, [relevant_ids(it.get(ev.relevant_column)) for it in items], ev.k
        )
        retrieval.pop("per_item", None)
        retrieval["budget"] = _budget(spec, out, ev.k)
    demo_block = None
    if demo:
        demo_answers = [output_field(c.output, ev.answer_field) if c.ok else None for c in demo_calls]
        d = textscores.reference_scores(demo_answers, [str(it["label"]) for it in demo])
        gap = None
        if d["token_f1"]["value"] is not None and reference["poc"]["token_f1"]["value"] is not None:
            gap = round(d["token_f1"]["value"] - reference["poc"]["token_f1"]["value"], 4)
        demo_block = {"n": len(demo), "metric": "token F1", "accuracy": d["token_f1"],
                      "production_accuracy": reference["poc"]["token_f1"], "gap": gap, "labels": []}  # fmt: skip
    judge_spend = judge_cost(spec, judge_calls_all)
    return {
        "task": "generation",
        "n_items": len(items),
        "classes": [],
        "label_field": ev.label_column,
        "label_origin": dict(
            Counter(str(it.get("reference_origin", it.get("label_origin", "unstated"))) for it in items)
        ),
        "systems": {
            "poc": {"name": poc.name, "config": poc.config, "kind": spec.poc.kind},
            "baseline": None
            if baseline is None
            else {
                "name": baseline.name,
                "config": baseline.config,
                "model": ev.baseline_system.model if ev.baseline_system else None,
            },
            "judge": None if ev.judge is None else {"model": ev.judge.model, "url": ev.judge.url},
        },
        "scores": reference["poc"],
        "target": _target(spec, criteria),
        "errors": errors_summary(poc_calls),
        "comparison": None
        if baseline is None
        else {
            "baseline": baseline.name,
            "n_paired": len(items),
            "sentence": _comparison_sentence(reference, _system_label(ev.baseline_system)),
        },
        "generation": {
            "reference": reference,
            "retrieval": retrieval,
            "rubric": criteria,
            "judge_cost": judge_spend,
        },
        "demo_vs_production": demo_block,
        "latency": latency_summary(poc_calls, spec.targets.latency_p95_ms),
        "cost": cost_summary(spec, poc_calls, items),
        "network": network_summary(spec, poc_calls, items),
        "design": design_summary(spec, items, "token F1", per_item_f1, per_item_base_f1),
        "traces": traced,
        "production_vs_replay": production_vs_replay(items, poc_calls, base_calls, ev.answer_field)
        if ev.baseline == "recorded"
        else None,
        "contract": None,
        "slices": _slices(items, per_item_f1, ev.slices),
        "failure_modes": {
            "confusions": [],
            "examples": _examples(items, poc_calls, per_item_f1, ev.answer_field),
        },
        "ledger": {
            "calls": ledger_calls,
            "cached_this_run": sum(c.cached for c in poc_calls + base_calls + demo_calls + judge_calls_all),
        },
    }


def _target(spec: Spec, criteria: list[dict[str, Any]]) -> dict[str, Any]:
    """The weakest criterion's pass-rate lower bound (PPI, else people alone) against targets.min_pass_rate."""
    lows = []
    for c in criteria:
        rate = c["pass_rate"]["per_question"]  # a failed call is a fail: the threshold is per question asked
        if rate and rate.get("low") is not None:
            lows.append((rate["low"], c["name"]))
    lowest = min(lows) if lows else None
    bound = spec.targets.min_pass_rate
    return {"min_macro_f1": None, "min_pass_rate": bound, "lowest_pass_rate_low": None if lowest is None else lowest[0],
            "weakest_criterion": None if lowest is None else lowest[1],
            "meets": None if bound is None or lowest is None else lowest[0] >= bound}  # fmt: skip


def _system_label(system: PocSpec | None) -> str:
    if system is None:
        return "baseline"
    return f"`{system.model}`" if system.model else system.kind
