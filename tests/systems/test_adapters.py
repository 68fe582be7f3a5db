"""Adapters: the PoC's own notebook (definitions only), a module, a predictions file, the baselines."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from rescue.errors import RescueError
from rescue.spec import load_spec
from rescue.systems import CallFailed, dig, make_baseline, make_poc_adapter
from rescue.systems.function import load_function


def test_notebook_adapter_runs_definitions_not_demo_cells(sample_project: Path) -> None:
    nb_path = sample_project / "poc" / "triage_poc.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell("raise SystemExit('a demo cell ran')\nopen('/tmp/should-not-exist', 'w')")
    )
    nbformat.write(nb, str(nb_path))
    adapter = make_poc_adapter(load_spec(sample_project))
    answer = adapter.call({"item_id": "x", "text": "I developed an itching rash and went to hospital."})
    assert answer.output["team"] == "safety" and answer.output["sentiment"] in {"negative", "neutral"}


def test_changed_poc_is_a_new_config(sample_project: Path) -> None:
    before = make_poc_adapter(load_spec(sample_project)).config
    nb_path = sample_project / "poc" / "triage_poc.ipynb"
    nb_path.write_text(nb_path.read_text().replace("rash", "hives", 1))
    assert make_poc_adapter(load_spec(sample_project)).config != before


def test_python_module_adapter_and_its_failures(tmp_path: Path) -> None:
    module = tmp_path / "poc.py"
    module.write_text(
        "def predict(text):\n    if not text:\n        raise ValueError('empty')\n    return {'label': text.upper()}\n"
    )
    fn = load_function(module, "predict", notebook=False)
    assert fn("a") == {"label": "A"}
    with pytest.raises(RescueError, match="defines no function nope"):
        load_function(module, "nope", notebook=False)


def test_predictions_adapter(write_spec, sample_spec_data, tmp_path: Path) -> None:
    project = write_spec(sample_spec_data)
    (project / "preds.csv").write_text("source,item_id,sentiment\ncrm,1,positive\n")
    data = dict(sample_spec_data, poc={"kind": "predictions", "path": "preds.csv"})
    spec = load_spec(write_spec(data))
    adapter = make_poc_adapter(spec)
    assert adapter.call({"item_id": "crm:1", "source": "crm", "source_id": "1", "text": ""}).output == {
        "sentiment": "positive"
    }
    with pytest.raises(CallFailed) as info:
        adapter.call({"item_id": "crm:2", "source": "crm", "source_id": "2", "text": ""})
    assert info.value.kind == "missing"


def test_baselines() -> None:
    labels = ["positive"] * 6 + ["negative"] * 3 + ["neutral"]
    majority = make_baseline("majority", labels, "sentiment")
    assert majority.call({"item_id": 1, "text": ""}).output == {"sentiment": "positive"}
    stratified = make_baseline("stratified", labels, "sentiment")
    outs = [stratified.call({"item_id": i, "text": ""}).output["sentiment"] for i in range(2000)]
    assert outs == [
        stratified.call({"item_id": i, "text": ""}).output["sentiment"] for i in range(2000)
    ]  # repeatable
    assert 0.55 < outs.count("positive") / 2000 < 0.65


def test_dig() -> None:
    doc = {"choices": [{"message": {"content": "x"}}]}
    assert dig(doc, "choices.0.message.content") == "x"
    with pytest.raises(KeyError):
        dig(doc, "choices.1")


def test_what_does_not_change_answers_does_not_change_the_config(sample_project: Path) -> None:
    """Concurrency, the timeout and fields left at their defaults (setup_cells, inputs…) re-ask nothing; a field
    that changes what the PoC is given does."""
    spec = load_spec(sample_project)
    before = make_poc_adapter(spec).config
    same = spec.model_copy(
        update={"poc": spec.poc.model_copy(update={"concurrency": 16, "timeout_s": 5.0, "setup_cells": []})}
    )
    assert make_poc_adapter(same).config == before
    other = spec.model_copy(update={"poc": spec.poc.model_copy(update={"inputs": {"text": "text"}})})
    assert make_poc_adapter(other).config != before
