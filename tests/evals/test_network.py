"""Where the PoC's calls go: Day 4 lists every destination, matched to the declared providers and regions, and
the gap's compliance check reads it — an undeclared or out-of-region destination is a blocker."""

from __future__ import annotations

from pathlib import Path

import yaml

from rescue import evals
from rescue.artifacts import write_artifact
from rescue.evals import display as show
from rescue.gap import assess_gap
from rescue.spec import load_spec
from tests.conftest import copy_sample

CALLS_A_PROVIDER = """
import socket

def predict(text):
    try:
        with socket.create_connection(("192.0.2.10", 443), timeout=0.01):  # TEST-NET-1: never answers
            pass
    except OSError:
        pass
    return {"sentiment": "positive", "team": "none"}
"""


def _project(tmp_path: Path, providers: list[dict], name: str) -> Path:
    project = copy_sample(tmp_path / name)
    (project / "poc" / "caller.py").write_text(CALLS_A_PROVIDER)
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data["poc"] = {"kind": "python", "path": "poc/caller.py", "function": "predict", "concurrency": 8}
    data["compliance"]["providers"] = providers
    (project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return project


def _check(tmp_path: Path, providers: list[dict], name: str) -> tuple[dict, dict]:
    spec = load_spec(_project(tmp_path, providers, name))
    out = tmp_path / name / "out"
    pos = evals.build(spec, out, progress=False)
    write_artifact(out, "eval_position", pos, spec)
    gap = assess_gap(spec, out)
    return pos, next(c for c in gap["checks"] if c["id"] == "compliance.observed_destinations")


def test_an_undeclared_destination_is_found_and_blocks(tmp_path: Path) -> None:
    pos, check = _check(tmp_path, [], "undeclared")
    [dest] = pos["network"]["destinations"]
    assert (dest["host"], dest["port"], dest["loopback"], dest["provider"]) == (
        "192.0.2.10",
        443,
        False,
        None,
    )
    assert dest["items"] == pos["n_items"] and pos["network"]["undeclared"] == ["192.0.2.10:443"]
    assert check["status"] == "fail" and "192.0.2.10:443 is undeclared" in check["evidence"]
    assert "**undeclared**" in show.operations_markdown(pos)


def test_a_declared_provider_is_judged_by_its_region(tmp_path: Path) -> None:
    us = [
        {"name": "acme-llm", "region": "us-east-1", "hosts": ["192.0.2.10"], "receives_personal_data": True}
    ]
    pos, check = _check(tmp_path, us, "us")
    assert pos["network"]["outside_allowed"] == ["192.0.2.10:443 (acme-llm, us-east-1)"]
    assert check["status"] == "fail" and "outside the allowed regions" in check["evidence"]
    eu = [{**us[0], "region": "eu-west-1"}]
    pos, check = _check(tmp_path, eu, "eu")
    assert pos["network"]["destinations"][0]["allowed"] is True
    assert check["status"] == "pass" and "192.0.2.10 (acme-llm, eu-west-1)" in check["evidence"]
