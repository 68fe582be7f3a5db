"""The portfolio: three variants of the sample project, run in parallel and ranked on one page."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from rescue.cli import main
from tests.conftest import SAMPLE


def _variant(tmp_path: Path, name: str, fix_owner: bool, fix_region: bool) -> Path:
    project = tmp_path / name
    shutil.copytree(SAMPLE, project)
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data = copy.deepcopy(data)
    data["project"] = name
    if fix_owner:
        data["owner"] = {
            "name": "Sam Example",
            "team": "customer-care",
            "on_customer_team": True,
            "backup": "Kim Example",
        }
    if fix_region:
        data["compliance"]["providers"][0]["region"] = "eu-west-1"
    (project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return project


def test_portfolio_runs_three_projects_and_ranks_them(tmp_path: Path) -> None:
    projects = [
        _variant(tmp_path, "triage-as-is", fix_owner=False, fix_region=False),
        _variant(tmp_path, "triage-owned", fix_owner=True, fix_region=False),
        _variant(tmp_path, "triage-owned-eu", fix_owner=True, fix_region=True),
    ]
    out = tmp_path / "portfolio"
    result = CliRunner().invoke(
        main, ["portfolio", *map(str, projects), "--out", str(out), "--run", "--days", "1", "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    order = [
        line.split(".", 1)[1].split(":")[0].strip()
        for line in result.output.splitlines()
        if line[:1].isdigit()
    ]
    assert order == ["triage-owned-eu", "triage-owned", "triage-as-is"]  # fewer blockers rank higher
    page = (out / "portfolio.html").read_text()
    assert page.count("<tr") == 4 and "triage-as-is" in page and "http" not in page.split("<body>")[0]
    for p in projects:
        assert (out / p.name / "gap.json").exists()
    again = CliRunner().invoke(
        main, ["portfolio", *map(str, projects), "--out", str(out)]
    )  # --read: no re-run
    assert again.exit_code == 0 and "triage-owned-eu" in again.output.splitlines()[0]
