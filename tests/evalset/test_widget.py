"""The widgets with the keyboard alone, the labeler's name asked once, per-stratum progress, errors in the widget."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rescue.evalset import labeling_widget
from rescue.evalset.classification import prepare_sample
from rescue.evalset.labels import DATASET
from rescue.evalset.rubric import RubricWidget
from rescue.evalset.widget import AskLabeler, KeyField, LabelingWidget, remember_labeler, remembered_labeler
from rescue.ledger import Ledger
from rescue.spec import load_spec
from tests.conftest import REPO
from tests.evalset.test_rubric import _frame


def _type(field: KeyField, *values: str) -> None:
    for value in values:  # each value is what the browser sends after a keystroke
        field.field.value = value


def test_keys_act_once_each_even_when_typed_fast() -> None:
    seen: list[str] = []
    keys = KeyField({k: (lambda k=k: seen.append(k)) for k in "12su"}, "hint")
    _type(
        keys, "1", "11", "112", "112s"
    )  # what the browser sends after each key: the field holds the keys typed
    assert seen == ["1", "1", "2", "s"]
    _type(keys, "112")  # a backspace: nothing happens
    assert seen == ["1", "1", "2", "s"]
    _type(keys, "112x", "112xU")  # an unknown key does nothing; upper case works
    assert seen == ["1", "1", "2", "s", "u"]
    long = "112xU" + "x" * 40
    _type(keys, long)
    assert keys.field.value == ""  # emptied once long
    _type(keys, long + "1")  # a key sent before the emptied field reached the browser counts once
    _type(keys, "1", "12")  # and keys typed into the emptied field
    assert seen == ["1", "1", "2", "s", "u", "1", "1", "2"]


def test_label_with_the_keyboard_and_see_each_stratum(sample_project: Path, tmp_path: Path) -> None:
    spec = load_spec(sample_project)
    sample, _ = prepare_sample(spec, tmp_path)
    widget = LabelingWidget(spec, tmp_path, sample, labeler="ana")
    assert [b.description for b in widget.buttons][:1] == ["1 · positive"]
    assert (widget.skip_button.description, widget.flag_button.description) == ("Skip (s)", "Flag (f)")
    shown = [widget.current["key"]]
    _type(widget.keys, "1", "13", "13s", "13s2")
    with Ledger(tmp_path) as ledger:
        events = [(e["action"], e["label"]) for e in ledger.label_events(DATASET)]
    assert events == [
        ("label", "positive"),
        ("label", widget.classes[2]),
        ("skip", None),
        ("label", "neutral"),
    ]
    assert "3</b> of" in widget.progress.value
    strata = sorted(sample["stratum"].unique())
    counts = re.findall(r"([\w-]+) (\d+)/(\d+)", widget.strata.value)
    assert [c[0] for c in counts] == strata and sum(int(c[1]) for c in counts) == 3
    assert sum(int(c[2]) for c in counts) == len(sample)
    _type(widget.keys, "13s2x")
    assert "the key x does nothing here: 1–3 label" in widget.status.value
    _type(widget.keys, "13s2xu")  # undo: the last item comes back
    assert widget.current["key"] != shown[0]
    widget.ledger.close()  # a locked ledger: the key's failure shows in the widget
    _type(widget.keys, "13s2xu1")
    assert "Not saved" in widget.status.value


def test_the_name_is_asked_once_and_remembered_for_the_folder(sample_project: Path, tmp_path: Path) -> None:
    spec = load_spec(sample_project)
    sample, _ = prepare_sample(spec, tmp_path)
    ask = labeling_widget(spec, tmp_path, sample)
    assert isinstance(ask, AskLabeler) and ask.widget is None  # the question first, no item yet
    ask.name.value = "   "
    assert "type your name" in ask.error.value and ask.widget is None
    ask.name.value = "Ana  Lima"
    assert ask.widget.labeler == "Ana Lima" and remembered_labeler(tmp_path) == "Ana Lima"
    again = labeling_widget(spec, tmp_path, sample)  # a new kernel: not asked again
    assert again.widget.labeler == "Ana Lima" and "remembered" in again.box.children[0].value
    assert labeling_widget(spec, tmp_path, sample, "adjudicator:kim").widget.labeler == "adjudicator:kim"
    assert remembered_labeler(tmp_path / "elsewhere") is None  # per output folder
    with pytest.raises(ValueError, match="at most 100"):
        remember_labeler(tmp_path, "x" * 101)


def test_grade_with_the_keyboard(tmp_path: Path) -> None:
    spec = load_spec(REPO / "sample_data" / "drug-answers")
    w = RubricWidget(spec, tmp_path, _frame(), labeler="ana")
    assert "▶" in w.labels[w.criteria[0].name].value
    _type(w.keys, "p", "pf")  # the first two criteria of q0
    assert w.current["key"] == "q0" and "▶" in w.labels[w.criteria[2].name].value
    _type(w.keys, "pfp")  # the last one: on to q1
    assert w.current["key"] == "q1" and "1</b> of 3" in w.progress.value and w.bar.value == 1
    _type(w.keys, "pfp3")  # not a grade of a pass/fail criterion: said, nothing saved
    assert "the key 3 does nothing here: p/f grade" in w.status.value
    _type(w.keys, "pfp3s")
    assert w.current["key"] == "q2"
    w.ledger.close()
    _type(w.keys, "pfp3sp")
    assert "Not saved" in w.status.value


def test_a_summary_computed_before_labeling_says_so_and_how_to_refresh() -> None:
    from datetime import datetime

    from rescue.evalset import freshness_note

    report = {"labels": {"labeled_items": 12}, "sample": {"size": 300}}
    note = freshness_note(report, interactive=True, now=datetime(2026, 12, 2, 14, 5))
    assert (
        "Computed at 14:05 with 12 of 300 items labeled" in note and "Run Selected Cell and All Below" in note
    )
    assert freshness_note(report, interactive=False) == ""  # a batch run imports labels: nothing to refresh
    assert freshness_note({"labels": {"labeled_items": 300}, "sample": {"size": 300}}, interactive=True) == ""
