"""The audit's home page: what the audit is, the decision, each day's status, links that lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from rescue.artifacts import write_artifact
from rescue.evals import build_eval_position
from rescue.gap import assess_gap
from rescue.home import write_home
from rescue.spec import load_spec
from rescue.week import DAYS
from tests.conftest import copy_sample


def _links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_the_home_page_says_what_ran_and_every_link_leads_to_a_file(tmp_path: Path) -> None:
    project = copy_sample(tmp_path / "p")
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data["use_case"] = "<script>window.__pwned=1</script> triage"
    (project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(project)
    out = tmp_path / "out"
    write_artifact(out, "gap", assess_gap(spec, out), spec)
    html = write_home(spec, out, DAYS).read_text()
    assert "<script>" not in html and "&lt;script&gt;window.__pwned=1&lt;/script&gt; triage" in html
    assert "No readout yet" in html and "The audit log verifies: 1 records" in html
    assert re.search(r'Day 1 · Production gap</td>\s*<td class="run">run', html)
    assert re.search(r'Day 4 · Eval position</td>\s*<td class="missing">missing', html)
    assert all((out / link).exists() for link in _links(html))

    write_artifact(out, "eval_position", build_eval_position(spec, out, progress=False), spec)
    html = write_home(spec, out, DAYS).read_text()
    assert re.search(r'<td class="stale">stale — assessed before eval_position.json', html)
    assert all((out / link).exists() for link in _links(html))
