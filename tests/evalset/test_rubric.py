"""The rubric widget: each grade is a ledger event pinned to the answer; grading resumes after a restart."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rescue.evalset.grades import graded_hash, people_grades, rubric_dataset
from rescue.evalset.rubric import RubricWidget
from rescue.ledger import Ledger
from rescue.spec import load_spec
from tests.conftest import REPO


def answer_hash(answer: str) -> str:
    return graded_hash("Q", answer, [])


def _frame() -> pd.DataFrame:
    rows = [{"key": f"q{i}", "item_hash": answer_hash(f"answer {i}"), "question": f"question {i}?", "answer": f"answer {i}",
             "reference": "ref", "context": [("r1", "a review <b>with markup</b>")]} for i in range(3)]  # fmt: skip
    return pd.DataFrame(rows)


def test_grading_undo_skip_and_resume(tmp_path: Path) -> None:
    spec = load_spec(REPO / "sample_data" / "drug-answers")
    frame = _frame()
    w = RubricWidget(spec, tmp_path, frame, labeler="ana")
    assert w.current["key"] == "q0" and "0</b> of 3" in w.progress.value
    assert "&lt;b&gt;with markup" in w.item_box.value  # texts are escaped, never rendered as HTML
    w.grade("answers_question", "pass")
    w.grade("grounded", "fail")
    assert w.current["key"] == "q0"  # one criterion left on this answer
    w.grade("faithful", "pass")
    assert w.current["key"] == "q1" and "1</b> of 3" in w.progress.value
    w.grade("answers_question", "fail")
    w.undo()  # takes back the last grade and shows q1 again
    assert w.current["key"] == "q1"
    w.skip()
    assert w.current["key"] == "q2"
    restarted = RubricWidget(spec, tmp_path, frame, labeler="ana")
    assert restarted.current["key"] == "q2" and "1</b> of 3" in restarted.progress.value
    other = RubricWidget(spec, tmp_path, frame, labeler="ben")  # blind: another labeler starts at the top
    assert other.current["key"] == "q0"
    with Ledger(tmp_path) as ledger:
        hashes = dict(zip(frame["key"], frame["item_hash"], strict=True))
        grounded = people_grades(ledger, spec.eval.rubric[1], hashes)
        answers = people_grades(ledger, spec.eval.rubric[0], hashes)
        events = ledger.label_events(rubric_dataset("answers_question"))
    assert grounded["grades"] == {"q0": "fail"} and grounded["origin"] == {"human": 1}
    assert answers["grades"] == {"q0": "pass"}  # q1's grade was undone
    assert {e["item_hash"] for e in events if e["item"] == "q0"} == {answer_hash("answer 0")}
