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
from tests.systems.test_spans import SDK_POC, provider  # noqa: F401 - the fixture is used below

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
    check = next(c for c in gap["checks"] if c["id"] == "compliance.observed_destinations")
    blocker = next(b for b in gap["blockers"] if b["id"] == "undeclared_destination")
    assert blocker["applies"] == (check["status"] == "fail")  # the failing check blocks the gap
    return pos, check


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


def test_an_sdk_poc_is_seen_on_the_wire_through_its_proxy(tmp_path: Path, monkeypatch, provider: int) -> None:  # noqa: F811
    """The real openai SDK through an egress proxy: Day 4 lists the hosts its HTTP requests named (not only the
    proxy it connected to), the provider calls per item, the tokens the responses reported and the cost priced
    from them; the telemetry host nobody declared fails the gap's check, and the DPA check cites what was seen."""
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{provider}")
    monkeypatch.setenv("NO_PROXY", "")
    project = copy_sample(tmp_path / "sdk")
    (project / "poc" / "sdk.py").write_text(SDK_POC)
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data["poc"] = {"kind": "python", "path": "poc/sdk.py", "function": "classify", "concurrency": 4}
    data["compliance"]["providers"] = [{"name": "example-llm-eu", "region": "eu-west-1", "dpa_signed": True,
                                        "hosts": ["eu.example-llm.test"], "receives_personal_data": True}]  # fmt: skip
    (project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(project)
    out = tmp_path / "sdk" / "out"
    pos = evals.build(spec, out, progress=False)
    write_artifact(out, "eval_position", pos, spec)
    net = pos["network"]
    hosts = {d["host"]: d for d in net["destinations"]}
    eu, ping, proxy = (
        hosts["eu.example-llm.test"],
        hosts["telemetry.example-analytics.test"],
        hosts["127.0.0.1"],
    )
    n = pos["n_items"]
    assert (eu["requests"], eu["provider"], eu["allowed"], eu["loopback"]) == (
        n,
        "example-llm-eu",
        True,
        False,
    )
    assert (
        ping["requests"] == n and ping["provider"] is None and proxy["loopback"] and proxy["connections"] >= 1
    )
    assert net["undeclared"] == ["telemetry.example-analytics.test:80"]
    assert net["items_reaching_network"] == n  # through the proxy on loopback, to hosts off this machine
    req = net["requests"]
    assert (req["calls"], req["per_call"], req["per_call_counts"]) == (n, 2.0, {"2": n})
    assert req["tokens"]["requests_reporting"] == n and req["models"] == {"gpt-4o-mini-2024-07-18": n}
    assert req["provider_ms"]["p50"]["value"] > 0 and req["own_ms"]["p50"]["value"] >= 0
    assert (
        pos["cost"]["price"]["model"].startswith("gpt-4o-mini")
        and "genai-prices" in pos["cost"]["price"]["source"]
    )
    assert "tokens the provider's HTTP responses reported" in pos["cost"]["basis"]
    page = show.operations_markdown(pos)
    assert "**Provider calls**" in page and "`gpt-4o-mini-2024-07-18`" in page
    gap = {c["id"]: c for c in assess_gap(spec, out)["checks"]}
    observed = gap["compliance.observed_destinations"]
    assert (
        observed["status"] == "fail"
        and "telemetry.example-analytics.test:80 is undeclared" in observed["evidence"]
    )
    dpa = gap["compliance.processor_agreements"]
    assert (
        dpa["status"] == "pass"
        and "observed on Day 4: eu.example-llm.test (example-llm-eu" in dpa["evidence"]
    )
