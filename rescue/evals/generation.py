"""Free-text and RAG PoCs: reference scores, retrieval, and rubric grades by a judge calibrated against people.

The PoC's answers come through the ledger (dataset ``production``, the same calls Day 3 shows the graders).
People grade answers against the rubric in Day 3; each grade is an event in the ledger pinned to the
SHA-256 of the answer it was given for, so a grade never silently moves to a different answer. The
judge grades every answer through the same runner and ledger (its own dataset per criterion and PoC
config, cost counted apart from the PoC's). On the items people graded, the judge's agreement with
them is measured; under ``eval.judge.min_kappa`` its own pass rate is withheld. The pass rate is
estimated by prediction-powered inference (people's grades correct the judge's), shown next to the
people-only and judge-only intervals.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.connect import SourceError, read_texts
from ..data.pii import mask_pii
from ..errors import RescueError
from ..evalset.labels import current_labels, resolve
from ..spec import Criterion, PocSpec, Spec
from . import textscores
from .adapters import Adapter, _hash, make_poc_adapter, make_system_adapter
from .ledger import Call, Ledger
from .runner import RunPolicy, run

RUBRIC_PREFIX = "rubric:"
METRICS = ("exact_match", "token_f1", "rouge_l", "chrf")
METRIC_NAMES = {"exact_match": "exact match", "token_f1": "token F1", "rouge_l": "ROUGE-L", "chrf": "chrF"}


def rubric_dataset(criterion: str) -> str:
    """The ledger dataset holding people's grades for one criterion."""
    return RUBRIC_PREFIX + criterion


def answer_text(output: Any, field: str) -> str | None:
    """The answer in a PoC output (a dict with ``field``, or the output itself when it is text)."""
    if isinstance(output, dict):
        value = output.get(field)
        return None if value is None else str(value)
    return None if output is None else str(output)


def cited_documents(output: Any, field: str) -> list[str] | None:
    """The document ids a PoC output cites (None when it says nothing about documents)."""
    if not isinstance(output, dict) or output.get(field) is None:
        return None
    value = output[field]
    if isinstance(value, str):
        value = [v for v in re.split(r"[|,\s]+", value) if v]
    if not isinstance(value, list):
        return None
    return [str(v.get("id", v)) if isinstance(v, dict) else str(v) for v in value]


def graded_hash(question: str, answer: str, documents: list[str] | None) -> str:
    """SHA-256 of what a person grades: the question, the answer and the cited document ids. A grade is
    pinned to it, so it never moves to a different question, answer or set of documents."""
    return hashlib.sha256(
        json.dumps([question, answer, documents or []], ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def relevant_ids(value: Any) -> set[str]:
    if value is None or (isinstance(value, float) and value != value):
        return set()
    return {v.strip() for v in str(value).split("|") if v.strip()}


def load_contexts(spec: Spec, ids: set[str]) -> dict[str, str]:
    """The corpus text of the cited documents (read-only through the Day 2 connection)."""
    name = spec.eval.corpus_source
    if not name or not ids:
        return {}
    source = next(s for s in spec.sources if s.name == name)
    try:
        texts = read_texts(spec, source, ids=ids)
    except SourceError as exc:
        raise RescueError(f"cannot read the cited documents from {name}: {exc}") from None
    texts = texts[texts["item_id"].astype(str).isin(ids)]
    return dict(zip(texts["item_id"].astype(str), texts["text"].astype(str), strict=True))


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


def grade_value(grade: str, criterion: Criterion) -> str | None:
    """A person's grade as pass/fail (a 1-5 grade passes at ``criterion.pass_at``)."""
    g = str(grade).strip().lower()
    if criterion.scale == "pass_fail":
        return g if g in ("pass", "fail") else None
    return ("pass" if int(g) >= criterion.pass_at else "fail") if g in ("1", "2", "3", "4", "5") else None


# --- Day 3: answers to grade, grades in the ledger -----------------------------------------------


def poc_answers(
    spec: Spec,
    out: str | Path,
    items: list[dict[str, Any]],
    progress: bool = True,
    policy: RunPolicy | None = None,
) -> tuple[Adapter, list[Call]]:
    """The PoC's answers to the eval questions, through the ledger (Day 4 reuses them; nothing is asked twice)."""
    poc = make_poc_adapter(spec)
    with Ledger(out) as ledger:
        return poc, run(poc, items, ledger, "production", policy, progress=progress)


def grading_frame(spec: Spec, items: list[dict[str, Any]], calls: list[Call]) -> pd.DataFrame:
    """One row per answered item, for the rubric widget: question, answer, cited context, reference."""
    ev = spec.eval
    docs = [cited_documents(c.output, ev.documents_field) if c.ok else None for c in calls]
    contexts = load_contexts(spec, {d for ds in docs if ds for d in ds})
    missing = (
        "(not found in the corpus)" if ev.corpus_source else "(set eval.corpus_source to show the document)"
    )
    rows = []
    for it, c, ds in zip(items, calls, docs, strict=True):
        answer = answer_text(c.output, ev.answer_field) if c.ok else None
        if answer is None:
            continue
        rows.append({"key": it["item_id"], "item_hash": graded_hash(it["text"], answer, ds), "question": it["text"],
                     "answer": answer, "reference": it.get("label", ""), "context": [(d, contexts.get(d, missing)) for d in ds or []]})  # fmt: skip
    return pd.DataFrame(rows, columns=["key", "item_hash", "question", "answer", "reference", "context"])


def import_grades(ledger: Ledger, spec: Spec, path: Path) -> int:
    """Import rubric grades (item_id, criterion, grade, graded_sha256, [labeler, label_origin]) as events.

    A grade without ``graded_sha256`` (see :func:`graded_hash`) cannot be pinned to what was graded and is
    refused, as is a grade outside the criterion's scale. A grade already imported (same labeler, criterion,
    item, pinned hash and grade) is not imported twice; an updated one is.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"item_id", "criterion", "grade", "graded_sha256"} - set(frame.columns)
    if missing:
        raise RescueError(f"{path.name} needs columns {', '.join(sorted(missing))} (eval.grades)")
    criteria = {c.name: c for c in spec.eval.rubric}
    unknown = sorted(set(frame["criterion"]) - set(criteria))
    if unknown:
        raise RescueError(f"{path.name} grades criteria the rubric does not have: {', '.join(unknown)}")
    for i, row in enumerate(frame.to_dict("records"), start=2):
        if row["grade"].strip() and grade_value(row["grade"], criteria[row["criterion"]]) is None:
            scale = "pass or fail" if criteria[row["criterion"]].scale == "pass_fail" else "1 to 5"
            raise RescueError(
                f"{path.name} line {i}: grade {row['grade']!r} for {row['criterion']}; expected {scale}"
            )
    imported = 0
    for criterion, group in frame.groupby("criterion"):
        dataset = rubric_dataset(str(criterion))
        existing = current_labels(ledger.label_events(dataset))
        have = set(zip(existing["item"], existing["labeler"], existing["item_hash"], existing["label"], strict=True)) if len(existing) else set()  # fmt: skip
        for row in group.to_dict("records"):
            who = row.get("labeler") or f"import:{path.name}"
            grade = row["grade"].strip()
            if not grade or (row["item_id"], who, row["graded_sha256"], grade) in have:
                continue
            origin = row.get("label_origin") or "imported"
            ledger.add_label_event(dataset, row["item_id"], row["graded_sha256"], who, "label", grade,
                                   comment=f"label_origin={origin}")  # fmt: skip
            imported += 1
    return imported


def current_grades(ledger: Ledger, criterion: Criterion, hashes: dict[str, str]) -> tuple[pd.DataFrame, int]:
    """Everyone's current grades for one criterion that were given for what is graded now (as pass/fail),
    and how many were given for something else (stale)."""
    labels = current_labels(ledger.label_events(rubric_dataset(criterion.name)))
    if not len(labels):
        return labels, 0
    graded = labels[labels["label"].notna()]
    fresh = graded[graded["item"].map(hashes.get) == graded["item_hash"]].copy()
    fresh["label"] = [grade_value(g, criterion) for g in fresh["label"]]
    return fresh[fresh["label"].notna()], len(graded) - len(fresh)


def people_grades(ledger: Ledger, criterion: Criterion, hashes: dict[str, str]) -> dict[str, Any]:
    """The resolved grade per item for one criterion (pass/fail), from the grades given for what is graded
    now; grades given for a different question, answer or documents are counted as stale, never used."""
    fresh, stale = current_grades(ledger, criterion, hashes)
    resolved = resolve(fresh) if len(fresh) else pd.DataFrame(columns=["item", "label", "label_origin"])
    rows = resolved.to_dict("records")
    return {
        "grades": {row["item"]: row["label"] for row in rows},
        "stale": stale,
        "origin": dict(Counter(row["label_origin"] or "unstated" for row in rows)),
    }


# --- Day 4 ---------------------------------------------------------------------------------------


def _judge(spec: Spec) -> Adapter:
    """The judge's adapter (with rescue's system prompt unless the spec gives one); one for every criterion."""
    assert spec.eval.judge is not None
    judge_spec = spec.eval.judge
    if not judge_spec.system_prompt:
        judge_spec = judge_spec.model_copy(update={"system_prompt": JUDGE_SYSTEM})
    return make_system_adapter(spec, judge_spec, "judge", "eval.judge")


def _judge_run(
    judge: Adapter, ledger: Ledger, criterion: Criterion, poc: Adapter, frame: pd.DataFrame,
    policy: RunPolicy | None, progress: bool,
) -> list[Call]:  # fmt: skip
    # the criterion's scale and threshold are part of the judge's config for it
    judge = dataclasses.replace(judge, config=_hash(judge.config, criterion.model_dump(mode="json")))
    items = [{"item_id": r["key"], "text": judge_prompt(criterion, r["question"], r["answer"], r["context"], r["reference"])}
             for r in frame.to_dict("records")]  # fmt: skip
    # the dataset names the PoC config: a changed PoC gets its answers judged afresh
    return run(judge, items, ledger, f"judge:{criterion.name}:{poc.config}", policy, progress=progress)


MIN_PER_CLASS = 5  # a judge is only checked against people who graded enough passes and enough fails


def _criterion_block(
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
    naive = textscores.naive_intervals(graded_values, [1.0 if v == "pass" else 0.0 for v in judged])
    # PPI needs enough graded answers of both kinds; otherwise its rectifier variance is not estimable
    ppi = (
        _clip(textscores.ppi_mean(y_l, yhat_l, yhat_u))
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


def _budget(spec: Spec, out: Path, k: int) -> dict[str, Any] | None:
    """What fetching k documents from the corpus source costs in time, from the data picture's probes."""
    name = spec.eval.corpus_source
    path = out / "data_picture.json"
    if not name or not path.exists():
        return None
    picture = json.loads(path.read_text(encoding="utf-8"))
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
    return out


def _comparison_sentence(reference: dict[str, Any], baseline: str) -> str | None:
    comparison = reference.get("comparison")
    if not comparison:
        return None
    d = comparison["token_f1"]
    p = d["p_value"]
    shown_p = "p < 0.001" if p is not None and p < 0.001 else f"p = {p:.3g}" if p is not None else "p n/a"
    direction = "higher" if d["value"] > 0 else "lower"
    verdict_text = "a real difference" if p is not None and p < 0.05 else "no difference this sample can show"
    return (f"On the same {d['n']} production questions the PoC's token F1 against the reference answers is "
            f"{abs(d['value']) * 100:.1f} points {direction} than the baseline system's, {baseline} (95% CI "
            f"{d['low'] * 100:+.1f} to {d['high'] * 100:+.1f}; Wilcoxon {shown_p}): {verdict_text}.")  # fmt: skip


def _slices(items: list[dict[str, Any]], per_item_f1: list[float], slice_fields: list[str]) -> dict[str, Any]:
    """Token F1 per slice against the rest (Mann-Whitney U, Holm-corrected)."""
    from scipy import stats

    from . import scores

    overall = sum(per_item_f1) / len(per_item_f1) if per_item_f1 else 0.0
    rows = []
    for f in slice_fields:
        groups: dict[str, list[int]] = {}
        for i, it in enumerate(items):
            groups.setdefault(str(it.get(f, "")), []).append(i)
        if len(groups) < 2 or len(groups) > 50:
            continue  # one group is no slice; more than 50 are identifiers, not slices
        for value, idx in sorted(groups.items()):
            inside = [per_item_f1[i] for i in idx]
            chosen = set(idx)
            rest = [per_item_f1[i] for i in range(len(items)) if i not in chosen]
            p = (
                float(stats.mannwhitneyu(inside, rest, alternative="two-sided").pvalue)
                if rest and inside
                else 1.0
            )
            rows.append(
                {
                    "field": f,
                    "value": value,
                    "token_f1": scores.bootstrap_mean(inside),
                    "p_value_vs_rest": round(p, 6),
                }
            )
    for row, p in zip(rows, scores.holm([r["p_value_vs_rest"] for r in rows]) if rows else [], strict=True):
        row["p_holm"] = p
        row["significantly_worse"] = p < 0.05 and (row["token_f1"]["value"] or 0) < overall
    return {
        "count": len(rows),
        "metric": "token F1",
        "rows": sorted(rows, key=lambda r: r["token_f1"]["value"] or 0),
    }


def _examples(
    items: list[dict[str, Any]], calls: list[Call], per_item_f1: list[float], field: str, limit: int = 6
) -> list[dict[str, Any]]:
    order = sorted(range(len(items)), key=lambda i: (per_item_f1[i], items[i]["item_id"]))
    out = []
    for i in order[:limit]:
        c = calls[i]
        answer = answer_text(c.output, field) if c.ok else None
        out.append({"item": items[i]["item_id"], "question": items[i]["text"], "reference": mask_pii(str(items[i]["label"]))[:280],
                    "answer": None if answer is None else mask_pii(answer)[:280], "token_f1": per_item_f1[i], "error": c.error_kind})  # fmt: skip
    return out


def build_generation_position(
    spec: Spec, out: str | Path, progress: bool = True, policy: RunPolicy | None = None
) -> dict[str, Any]:
    """Day 4 for free-text answers: reference scores vs the baseline, retrieval, the calibrated judge, PPI."""
    from .position import _cost, _errors, _latency, load_demo_items, load_eval_items

    out = Path(out)
    ev = spec.eval
    items = load_eval_items(spec)
    if not items:
        raise RescueError(f"no question in {ev.labels} has a reference answer ({ev.label_column})")
    demo = load_demo_items(spec)
    refs = [str(it["label"]) for it in items]
    poc = make_poc_adapter(spec)
    baseline: Adapter | None = None
    criteria: list[dict[str, Any]] = []
    judge_calls_all: list[Call] = []
    with Ledger(out) as ledger:
        poc_calls = run(poc, items, ledger, "production", policy, progress=progress)
        demo_calls = run(poc, demo, ledger, "demo", policy, progress=progress) if demo else []
        base_calls: list[Call] = []
        if ev.baseline_system is not None:
            baseline = make_system_adapter(
                spec, ev.baseline_system, "baseline:system", "eval.baseline_system"
            )
            base_calls = run(baseline, items, ledger, "production", policy, progress=progress)
        frame = grading_frame(spec, items, poc_calls)
        hashes = dict(zip(frame["key"], frame["item_hash"], strict=True))
        judge = _judge(spec) if ev.rubric else None
        for criterion in ev.rubric:
            assert judge is not None
            judge_calls = _judge_run(judge, ledger, criterion, poc, frame, policy, progress)
            judge_calls_all += judge_calls
            people = people_grades(ledger, criterion, hashes)
            criteria.append(_criterion_block(spec, criterion, frame, judge_calls, people, len(items)))
        ledger_calls = ledger.count()

    answers = [answer_text(c.output, ev.answer_field) if c.ok else None for c in poc_calls]
    base_answers = (
        [answer_text(c.output, ev.answer_field) if c.ok else None for c in base_calls] if baseline else None
    )
    reference = _reference(answers, refs, base_answers)
    per_item_f1 = reference.pop("per_item_token_f1")
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
        demo_answers = [answer_text(c.output, ev.answer_field) if c.ok else None for c in demo_calls]
        d = textscores.reference_scores(demo_answers, [str(it["label"]) for it in demo])
        gap = None
        if d["token_f1"]["value"] is not None and reference["poc"]["token_f1"]["value"] is not None:
            gap = round(d["token_f1"]["value"] - reference["poc"]["token_f1"]["value"], 4)
        demo_block = {"n": len(demo), "metric": "token F1", "accuracy": d["token_f1"],
                      "production_accuracy": reference["poc"]["token_f1"], "gap": gap, "labels": []}  # fmt: skip
    judge_cost = _judge_cost(spec, judge_calls_all)
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
        "errors": _errors(poc_calls),
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
            "judge_cost": judge_cost,
        },
        "demo_vs_production": demo_block,
        "latency": _latency(poc_calls, spec.targets.latency_p95_ms),
        "cost": _cost(spec, poc_calls, items),
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


def _judge_cost(spec: Spec, calls: list[Call]) -> dict[str, Any]:
    from .position import price_table

    judge: PocSpec | None = spec.eval.judge
    live = [c for c in calls if c.ok]
    out: dict[str, Any] = {"calls": len(calls), "tokens_in": sum(c.tokens_in or 0 for c in live),
                           "tokens_out": sum(c.tokens_out or 0 for c in live), "total_eur": None, "basis": None}  # fmt: skip
    if judge is None or not live:
        return out
    model = price_table()["models"].get(judge.model or "")
    if model:
        out["total_eur"] = round(
            (out["tokens_in"] * model["input_per_mtok"] + out["tokens_out"] * model["output_per_mtok"]) / 1e6,
            4,
        )
        out["basis"] = f"{judge.model} prices × tokens the judge reported"
    elif judge.cost_per_call_eur is not None:
        out["total_eur"] = round(judge.cost_per_call_eur * len(live), 4)
        out["basis"] = "fixed price per call (eval.judge.cost_per_call_eur)"
    else:
        out["basis"] = "unknown: set eval.judge.cost_per_call_eur or a priced model"
    return out
