"""Day 4 renders whatever happened: when no call of the PoC answers, every display function still renders, and
the page and the artifact say so — the error kinds with counts, the most frequent messages, the likely cause."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import yaml

from rescue import charts, evals
from rescue.artifacts import read_artifact, write_artifact
from rescue.evals import display as show
from rescue.models import EvalPositionArtifact
from rescue.spec import load_spec
from tests.conftest import copy_rag_sample, copy_sample


def _render_everything(pos: dict[str, Any]) -> str:
    """Every display function on the position, as the Day 4 workbook calls them; the text they show."""
    shown = [show.quality_markdown(pos), show.operations_markdown(pos), show.summary_markdown(pos)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a chart that warns (an empty legend) is a chart that went wrong
        for section in show.sections(pos):
            shown.append(section.heading + (section.intro or ""))
            for part in section.parts:
                shown.append(str(getattr(charts.captioned(part), "metadata", part)))
    return "\n".join(shown)


def _check_said(pos: dict[str, Any], text: str, message: str, cause: str) -> None:
    e = pos["errors"]
    assert e["total"] == pos["n_items"] > 0
    assert e["top_messages"][0]["message"].startswith(message) and e["likely_cause"].startswith(cause)
    assert f"No call of the PoC answered: all {e['total']:,} failed" in text
    assert message in text and cause in text
    assert "no call answered: no latency to show" in text  # the latency chart's own caption says so


def test_a_classifier_whose_every_call_fails(tmp_path: Path) -> None:
    project = copy_sample(tmp_path)
    (project / "poc" / "broken.py").write_text(
        "def predict(text):\n    raise ConnectionError('provider unreachable: api.example-llm.com')\n"
    )
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data["poc"] = {"kind": "python", "path": "poc/broken.py", "function": "predict", "model": "example-llm"}
    (project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    spec, out = load_spec(project), tmp_path / "out"
    pos = evals.build(spec, out, progress=False)
    write_artifact(out, "eval_position", pos, spec)  # the artifact holds it too, schema-valid
    saved = read_artifact(out, EvalPositionArtifact)
    assert saved.root.errors.top_messages[0].count == pos["n_items"] and saved.root.errors.likely_cause
    _check_said(pos, _render_everything(pos), "ConnectionError: provider unreachable", "the PoC cannot reach")
    assert "Cost: not measured — no call answered" in _render_everything(pos)


def test_a_generator_whose_every_call_fails(tmp_path: Path) -> None:
    project = copy_rag_sample(tmp_path)
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data["poc"]["model"] = "rag-poc-v9"  # the endpoint does not serve it: every call is refused
    (project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(project)
    evals_out = tmp_path / "out"
    from rescue.evalset import build as build_eval_set

    build_eval_set(spec, evals_out, import_existing=True)
    pos = evals.build(spec, evals_out, progress=False)
    _check_said(pos, _render_everything(pos), "HTTP 404", "the endpoint refuses the requests")
