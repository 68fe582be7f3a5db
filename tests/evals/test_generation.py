"""Free-text PoCs: the judge's prompt and verdicts, grades pinned to answers, calibration that withholds a
poor judge, and Day 3 + Day 4 on the drug-answers sample through its local OpenAI-compatible stub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rescue.errors import RescueError
from rescue.evals.generation import build_position as build_generation_position
from rescue.evals.judge import criterion_block, judge_prompt, verdict
from rescue.evalset import build as build_eval_set
from rescue.evalset.grades import graded_hash, import_grades, people_grades, rubric_dataset
from rescue.ledger import Call, Ledger
from rescue.spec import Criterion, load_spec
from rescue.systems import cited_documents
from tests.conftest import REPO, copy_rag_sample

PASS_FAIL = Criterion(name="grounded", description="cites only relevant reviews")
FIVE = Criterion(name="helpful", description="useful to an agent", scale="1-5", pass_at=4)


def answer_hash(answer: str) -> str:
    return graded_hash("Q", answer, [])


def test_judge_prompt_has_every_section_and_skips_empty_ones() -> None:
    prompt = judge_prompt(PASS_FAIL, "Q?", "A.", [("r1", "text one"), ("r2", "text two")], "R.")
    for heading in ("### Criterion\ngrounded: cites only relevant reviews", "### Scale\npass/fail", "### Question\nQ?",
                    "### Retrieved context\n[r1] text one\n[r2] text two", "### Answer\nA.", "### Reference answer\nR."):  # fmt: skip
        assert heading in prompt
    bare = judge_prompt(FIVE, "Q?", "A.", [], None)
    assert "Retrieved context" not in bare and "Reference answer" not in bare and '"score": 1 to 5' in bare


def test_verdicts_and_cited_documents() -> None:
    assert verdict({"verdict": "PASS"}, PASS_FAIL) == "pass"
    assert verdict({"verdict": "maybe"}, PASS_FAIL) is None
    assert verdict("pass", PASS_FAIL) is None
    assert verdict({"score": 4}, FIVE) == "pass" and verdict({"score": "3"}, FIVE) == "fail"
    assert verdict({"score": 9}, FIVE) is None
    assert cited_documents({"documents": ["a", {"id": "b"}, 3]}, "documents") == ["a", "b", "3"]
    assert cited_documents({"documents": "a|b c"}, "documents") == ["a", "b", "c"]
    assert cited_documents({"answer": "x"}, "documents") is None


def _frame(n: int) -> pd.DataFrame:
    rows = [{"key": f"q{i}", "item_hash": answer_hash(f"a{i}"), "question": "Q", "answer": f"a{i}", "reference": "R",
             "context": []} for i in range(n)]  # fmt: skip
    return pd.DataFrame(rows)


def _judge(frame: pd.DataFrame, verdicts: list[str]) -> list[Call]:
    return [Call("j", k, "judge", "c", 0, "h", {"verdict": v}, None, None, 1.0, 1) for k, v in zip(frame["key"], verdicts, strict=True)]  # fmt: skip


def test_a_judge_that_disagrees_with_people_is_withheld_and_ppi_still_reported() -> None:
    spec = load_spec(REPO / "sample_data" / "drug-answers")
    frame = _frame(100)
    truth = ["pass" if i % 2 else "fail" for i in range(100)]
    people = {"grades": {f"q{i}": truth[i] for i in range(40)}, "stale": 0, "origin": {"human": 40}}
    # a judge that passes everything: kappa 0 against people
    poor = criterion_block(spec, PASS_FAIL, frame, _judge(frame, ["pass"] * 100), people)
    assert not poor["calibrated"] and poor["calibration"]["kappa"]["value"] == 0.0
    assert (
        poor["pass_rate"]["judge_only"] is None and "under eval.judge.min_kappa" in poor["withheld_because"]
    )
    ppi = poor["pass_rate"]["ppi"]
    assert ppi["n_labeled"] == 40 and ppi["n_unlabeled"] == 60 and ppi["low"] <= 0.5 <= ppi["high"]
    # a judge that agrees with people: believed, its own rate shown
    good = criterion_block(spec, PASS_FAIL, frame, _judge(frame, truth), people)
    assert (
        good["calibrated"]
        and good["withheld_because"] is None
        and good["calibration"]["kappa"]["value"] == 1.0
    )
    assert good["pass_rate"]["judge_only"]["value"] == 0.5
    # too few graded answers: withheld, whatever the agreement
    few = {"grades": {f"q{i}": truth[i] for i in range(10)}, "stale": 0, "origin": {"human": 10}}
    small = criterion_block(spec, PASS_FAIL, frame, _judge(frame, truth), few)
    assert not small["calibrated"] and "min_calibration_items" in small["withheld_because"]


def test_grades_are_pinned_to_the_answer_they_were_given_for(tmp_path: Path) -> None:
    with Ledger(tmp_path) as ledger:
        for key, graded in (("q1", "a1"), ("q2", "an older answer")):
            ledger.add_label_event(
                rubric_dataset("grounded"), key, answer_hash(graded), "ana", "label", "pass"
            )
        found = people_grades(ledger, PASS_FAIL, {"q1": answer_hash("a1"), "q2": answer_hash("a2")})
    assert found["grades"] == {"q1": "pass"} and found["stale"] == 1 and found["origin"] == {"human": 1}


def test_import_grades_keeps_origin_and_refuses_unpinned_or_unknown(tmp_path: Path) -> None:
    spec = load_spec(REPO / "sample_data" / "drug-answers")
    good = tmp_path / "g.csv"
    good.write_text(
        "item_id,criterion,grade,labeler,label_origin,graded_sha256\nq1,grounded,pass,rule:x,derived,abc\n"
    )
    with Ledger(tmp_path) as ledger:
        assert import_grades(ledger, spec, good) == 1
        assert import_grades(ledger, spec, good) == 0  # not twice
        found = people_grades(ledger, spec.eval.rubric[1], {"q1": "abc"})
    assert found["origin"] == {"derived": 1}  # never passed off as human
    unpinned = tmp_path / "u.csv"
    unpinned.write_text("item_id,criterion,grade\nq1,grounded,pass\n")
    unknown = tmp_path / "k.csv"
    unknown.write_text("item_id,criterion,grade,graded_sha256\nq1,tone,pass,abc\n")
    with Ledger(tmp_path) as ledger:
        with pytest.raises(RescueError, match="graded_sha256"):
            import_grades(ledger, spec, unpinned)
        with pytest.raises(RescueError, match="criteria the rubric does not have: tone"):
            import_grades(ledger, spec, unknown)


def test_day3_and_day4_on_the_rag_sample_through_the_stub(tmp_path: Path) -> None:
    spec = load_spec(copy_rag_sample(tmp_path))
    out = tmp_path / "out"
    day3 = build_eval_set(spec, out, import_existing=True)
    assert day3["labels"]["labeled_items"] == 60 and day3["labels"]["origin"] == {
        "derived: rule over gold relevance, not a person": 180
    }
    pos = build_generation_position(spec, out, progress=False)
    g = pos["generation"]
    assert pos["n_items"] == 158 and pos["errors"]["by_kind"] == {"http_5xx": 4}
    assert 0.3 < pos["scores"]["token_f1"]["value"] < 0.8
    assert (
        g["reference"]["comparison"]["token_f1"]["value"] > 0
    )  # retrieval helps against the no-RAG baseline
    crit = {c["name"]: c for c in g["rubric"]}
    assert crit["answers_question"]["calibrated"] and not crit["grounded"]["calibrated"]
    assert (
        crit["grounded"]["pass_rate"]["judge_only"] is None
        and crit["grounded"]["pass_rate"]["ppi"]["n_labeled"] == 60
    )
    assert g["retrieval"]["k"] == 3 and 0 < g["retrieval"]["hit_rate"]["value"] < 1
    assert g["judge_cost"]["calls"] == 3 * 154 and g["judge_cost"]["tokens_in"] > 0
    with Ledger(out) as ledger:
        calls = ledger.count()
    again = build_generation_position(spec, out, progress=False)
    assert again["ledger"]["calls"] == calls  # a re-run asks nothing again
    assert again["generation"]["rubric"] == g["rubric"]


def _people(grades: dict[str, str], origin: str = "human") -> dict[str, Any]:
    return {"grades": grades, "stale": 0, "origin": {origin: len(grades)} if grades else {}}


def test_a_judge_is_not_believed_on_one_sided_grades_and_ppi_needs_enough() -> None:
    spec = load_spec(REPO / "sample_data" / "drug-answers")
    frame = _frame(100)
    # people passed every answer they graded and the judge passes everything: kappa is 1 but says nothing
    block = criterion_block(
        spec, PASS_FAIL, frame, _judge(frame, ["pass"] * 100), _people({f"q{i}": "pass" for i in range(30)})
    )
    assert not block["calibrated"] and "30 passes and 0 fails" in block["withheld_because"]
    assert block["pass_rate"]["judge_only"] is None and block["pass_rate"]["ppi"] is None
    assert block["pass_rate"]["human_only"]["low"] < 1.0  # Wilson, not a zero-width interval
    # two graded answers: no PPI, the people-only interval is the finding
    few = criterion_block(
        spec, PASS_FAIL, frame, _judge(frame, ["pass"] * 100), _people({"q0": "pass", "q1": "fail"})
    )
    assert few["pass_rate"]["ppi"] is None and few["pass_rate"]["per_question"]["value"] == 0.5


def test_failed_calls_count_as_fails_per_question_and_derived_grades_are_counted_apart() -> None:
    spec = load_spec(REPO / "sample_data" / "drug-answers")
    frame = _frame(100)
    truth = ["pass" if i % 2 else "fail" for i in range(100)]
    people = _people({f"q{i}": truth[i] for i in range(40)}, origin="derived: rule")
    block = criterion_block(spec, PASS_FAIL, frame, _judge(frame, truth), people, questions=125)
    per_q = block["pass_rate"]["per_question"]
    assert per_q["answered"] == 100 and per_q["questions"] == 125
    assert per_q["value"] == pytest.approx(block["pass_rate"]["ppi"]["value"] * 0.8, abs=1e-4)
    assert block["calibrated"] and not block["calibrated_against_people"] and block["graded_by_people"] == 0
    from rescue.evals.display.generation import rubric_sentence

    sentence = rubric_sentence(block)
    assert (
        "40 of 40 grades were not given by a person" in sentence
        and "25 the PoC did not answer as fails" in sentence
    )


def test_stale_grades_never_count_and_updated_grades_import(tmp_path: Path) -> None:
    spec = load_spec(REPO / "sample_data" / "drug-answers")
    now = {"q1": answer_hash("new")}
    with Ledger(tmp_path) as ledger:
        ledger.add_label_event(rubric_dataset("grounded"), "q1", answer_hash("old"), "alice", "label", "pass")
        ledger.add_label_event(rubric_dataset("grounded"), "q1", answer_hash("new"), "bob", "label", "fail")
        found = people_grades(ledger, PASS_FAIL, now)
    assert (
        found["grades"] == {"q1": "fail"} and found["stale"] == 1
    )  # bob's grade is not lost to alice's stale one
    grades = tmp_path / "g.csv"
    grades.write_text(
        f"item_id,criterion,grade,labeler,graded_sha256\nq1,grounded,pass,carl,{answer_hash('old')}\n"
    )
    with Ledger(tmp_path / "b") as ledger:
        assert import_grades(ledger, spec, grades) == 1
        grades.write_text(
            f"item_id,criterion,grade,labeler,graded_sha256\nq1,grounded,fail,carl,{answer_hash('new')}\n"
        )
        assert import_grades(ledger, spec, grades) == 1  # the regraded answer comes in
        assert people_grades(ledger, PASS_FAIL, now)["grades"] == {"q1": "fail"}
    bad = tmp_path / "bad.csv"
    bad.write_text("item_id,criterion,grade,graded_sha256\nq1,grounded,yes,abc\n")
    with (
        Ledger(tmp_path / "c") as ledger,
        pytest.raises(RescueError, match="line 2, column 'grade': 'yes' for grounded; expected pass or fail"),
    ):
        import_grades(ledger, spec, bad)


def test_five_point_grades_agree_as_pass_fail_and_odd_scores_do_not_crash(tmp_path: Path) -> None:
    now = {"q1": answer_hash("a")}
    with Ledger(tmp_path) as ledger:
        for who, grade in (("alice", "4"), ("bob", "5")):
            ledger.add_label_event(rubric_dataset("helpful"), "q1", answer_hash("a"), who, "label", grade)
        assert people_grades(ledger, FIVE, now)["grades"] == {
            "q1": "pass"
        }  # 4 and 5 both pass: no disagreement
    assert verdict({"score": float("inf")}, FIVE) is None and verdict({"score": 3.99}, FIVE) == "fail"


def test_readout_summary_without_any_grade() -> None:
    from rescue.readout.display import summaries_markdown

    rubric = [{"name": "grounded", "pass_rate": None, "judge_believed": False, "withheld_because": "no grades",
               "grades": 0, "grades_by_people": 0}]  # fmt: skip
    summary = {"task": "generation", "n": 3, "token_f1": {"value": 0.5}, "rubric": rubric, "retrieval_hit_rate": None,
               "demo_token_f1": None, "baseline": None, "latency_p95_ms": 10.0, "cost_per_month_eur": None,
               "contract_valid_rate": None}  # fmt: skip
    assert "`grounded` passes not graded yet" in summaries_markdown({"summaries": {"eval_position": summary}})
