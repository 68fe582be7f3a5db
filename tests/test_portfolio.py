"""The portfolio: audits read from their own output folders, ranked on one page; the not started listed apart.

The fast tests build their output folders from artifacts written directly (Day 1's gap, the readout, the home
page: well under a second); one slow test runs three variants' Day 1 through the week runner in parallel.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from click.testing import CliRunner

from rescue.artifacts import write_artifact
from rescue.cli import main
from rescue.gap import assess_gap
from rescue.home import write_home
from rescue.portfolio import evidence_age, rank, summarise, write_portfolio
from rescue.readout import REASONS, build_readout
from rescue.spec import load_spec
from rescue.week import DAYS
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


@pytest.mark.slow
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
    assert page.count("<tr") == 4 and "triage-as-is" in page and "http" not in page.split("<body")[0]
    for p in projects:
        assert (out / p.name / "gap.json").exists()
    again = CliRunner().invoke(
        main, ["portfolio", *map(str, projects), "--out", str(out)]
    )  # --read: no re-run
    assert again.exit_code == 0 and "triage-owned-eu" in again.output.splitlines()[0]


HOSTILE_USE_CASE = "<script>alert(1)</script> routes patient feedback"
HOSTILE_BLOCKER = "<script>alert(2)</script> no owner"


class Audits:
    """Three audits whose artifacts live outside any portfolio folder: one with a readout (its output folder's
    name needs percent-encoding in a link), one with Day 1's gap only, written 3 days ago, one not started."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.decided = _project(base, "triage-decided", fixed=True, use_case=HOSTILE_USE_CASE)
        self.decided_out = base / "runs" / "decided #1"
        spec = load_spec(self.decided)
        write_artifact(self.decided_out, "gap", assess_gap(spec, self.decided_out), spec)
        write_artifact(self.decided_out, "readout", build_readout(spec, self.decided_out), spec)
        write_home(spec, self.decided_out, DAYS)

        self.provisional = _project(base, "triage-provisional", fixed=False)
        self.provisional_out = base / "runs" / "provisional"
        spec = load_spec(self.provisional)
        gap_file = write_artifact(self.provisional_out, "gap", assess_gap(spec, self.provisional_out), spec)
        gap = json.loads(gap_file.read_text())
        gap["generated_at"] = (datetime.now(UTC) - timedelta(days=3)).isoformat(timespec="seconds")
        next(b for b in gap["blockers"] if b["applies"])["title"] = HOSTILE_BLOCKER
        gap_file.write_text(json.dumps(gap))

        self.fresh = _project(base, "triage-fresh", fixed=True)
        self.fresh_out = base / "runs" / "fresh"  # never created: not started

    def args(self) -> list[str]:
        return [f"{self.decided}={self.decided_out}", f"{self.provisional}={self.provisional_out}",
                f"{self.fresh}={self.fresh_out}"]  # fmt: skip


def _project(base: Path, name: str, fixed: bool, **changes: Any) -> Path:
    project = base / "projects" / name
    shutil.copytree(SAMPLE, project)
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data.update(project=name, **changes)
    if fixed:  # an owner on the customer team and an EU provider: fewer blockers, ranked higher
        data["owner"] = {"name": "Sam Example", "team": "customer-care", "on_customer_team": True,
                         "backup": "Kim Example"}  # fmt: skip
        data["compliance"]["providers"][0]["region"] = "eu-west-1"
    (project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return project


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> Audits:
    return Audits(tmp_path_factory.mktemp("audits"))


def _portfolio(args: list[str], out: Path) -> tuple[list[str], str, list[dict[str, Any]]]:
    result = CliRunner().invoke(main, ["portfolio", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "portfolio.json").read_text())["audits"]
    return result.output.splitlines(), (out / "portfolio.html").read_text(), rows


def _row_of(page: str, project: str) -> str:
    return next(row for row in page.split("<tr>")[1:] if f">{project}<" in row or f">{project}\n" in row)


def test_project_eq_out_reads_audits_run_elsewhere(audits: Audits, tmp_path: Path) -> None:
    lines, page, rows = _portfolio(audits.args(), tmp_path / "pf")
    assert re.fullmatch(r"1\. triage-decided: (no-go|conditional|go), headline \d\.\d\d, \d+ blocker\(s\), \d+ weeks",
                        lines[0])  # fmt: skip
    assert lines[1].startswith("2. triage-provisional: no-go (provisional: no readout yet), headline ")
    assert lines[2] == "-. triage-fresh: not started"
    assert [r["out"] for r in rows] == [str(p.resolve()) for p in (audits.decided_out, audits.provisional_out,
                                                                  audits.fresh_out)]  # fmt: skip
    assert [r["status"] for r in rows] == ["readout", "provisional", "not started"]
    assert page.count("<tr") == 4 and "Portfolio — 3 audits" in page and 'class="rescue-page' in page
    assert "provisional: no readout yet" in _row_of(page, "triage-provisional")


def test_a_portfolio_file_lists_audits_relative_to_its_folder(
    audits: Audits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = audits.base / "lists" / "portfolio.yaml"
    listing.parent.mkdir(exist_ok=True)
    entries = [(audits.decided, audits.decided_out), (audits.provisional, audits.provisional_out)]
    listing.write_text(yaml.safe_dump({"audits": [
        {"project": f"../projects/{p.name}", "out": f"../runs/{o.name}"} for p, o in entries]}))  # fmt: skip
    monkeypatch.chdir(tmp_path)  # relative to the file, not to where rescue runs
    lines, _, rows = _portfolio(
        [f"{audits.fresh}={audits.fresh_out}", "--file", str(listing)], tmp_path / "pf"
    )
    assert [line.split(":")[0] for line in lines[:3]] == ["1. triage-decided", "2. triage-provisional",
                                                          "-. triage-fresh"]  # fmt: skip
    assert rows[0]["out"] == str(audits.decided_out.resolve())


@pytest.mark.parametrize(
    ("listing", "expected"),
    [
        ({"audits": [{"project": "../projects/triage-fresh", "out": "x"}, {"project": "x"}]}, "audits[1].out: got (missing)"),
        ({"audits": [{"project": "../projects/triage-fresh", "output": "x"}]}, "audits[0].output: got 'x'; expected a known field; did you mean 'out'?"),
        ({"audits": [{"project": 3, "out": "x"}]}, "audits[0].project: got 3; expected text"),
        ({"audits": [{"project": "../projects/nowhere", "out": "x"}]}, "audits[0].project: got '../projects/nowhere'; expected an audit project folder holding rescue.yaml"),
        ({"audits": []}, "audits: got []"),
        (["../projects/triage-fresh"], "(top level)"),
    ],
)  # fmt: skip
def test_a_bad_portfolio_file_names_the_entry_and_the_field(
    audits: Audits, tmp_path: Path, listing: Any, expected: str
) -> None:
    file = audits.base / "lists" / f"bad-{abs(hash(expected))}.yaml"
    file.parent.mkdir(exist_ok=True)
    file.write_text(yaml.safe_dump(listing))
    result = CliRunner().invoke(main, ["portfolio", "--file", str(file), "--out", str(tmp_path / "pf")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"error: {file} is invalid" in result.output and expected in result.output, result.output


def test_a_not_started_audit_is_listed_unranked_with_no_verdict(audits: Audits, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for out in (audits.fresh_out, tmp_path / "empty"):
        row = summarise(audits.fresh, out)
        assert row["status"] == "not started" and row["decision"] is None and row["headline"] is None
        assert row["blockers"] == [] and row["stall_reasons"] == [] and row["evidence_at"] is None
    rows = rank([summarise(audits.fresh, audits.fresh_out), summarise(audits.decided, audits.decided_out)])
    assert [(r["project"], r["rank"]) for r in rows] == [("triage-decided", 1), ("triage-fresh", None)]
    shown = _row_of(write_portfolio(rows, tmp_path / "pf").read_text(), "triage-fresh")
    assert '<td class="rank">—</td>' in shown and "not started" in shown
    assert "rescue-badge" not in shown and "NO-GO" not in shown and "href" not in shown


def test_stall_reasons_read_in_words_and_keep_their_ids_in_the_json(audits: Audits, tmp_path: Path) -> None:
    _, page, rows = _portfolio(audits.args(), tmp_path / "pf")
    provisional = next(r for r in rows if r["project"] == "triage-provisional")
    assert "no_owner" in provisional["stall_reasons"]
    assert f"<li>{REASONS['no_owner']}</li>" in _row_of(page, "triage-provisional")
    assert not any(reason_id in page for reason_id in REASONS)


def test_each_row_links_to_its_audit_home_page(audits: Audits, tmp_path: Path) -> None:
    pf = tmp_path / "deep" / "pf"
    _, page, rows = _portfolio(audits.args(), pf)
    links = re.findall(r'href="([^"]+)"', page)
    assert len(links) == 1 and not links[0].startswith("/") and "%23" in links[0]  # '#' in the folder's name
    assert (pf / unquote(links[0])).resolve() == (audits.decided_out / "index.html").resolve()
    assert links[0] in _row_of(page, "triage-decided")
    assert [r["link"] for r in rows] == [links[0], None, None]  # no home page, no link


def test_the_evidence_age_is_said_in_words(audits: Audits, tmp_path: Path) -> None:
    _, page, rows = _portfolio(audits.args(), tmp_path / "pf")
    ages = {r["project"]: r["evidence_age_days"] for r in rows}
    assert ages == {"triage-decided": 0, "triage-provisional": 3, "triage-fresh": None}
    assert "3 days ago" in _row_of(page, "triage-provisional") and "today" in _row_of(page, "triage-decided")
    now = datetime.now(UTC)
    assert evidence_age(now) == "today" and evidence_age(now - timedelta(days=1)) == "yesterday"
    assert evidence_age(now, date.today() + timedelta(days=10)) == "10 days ago"


def test_every_value_from_a_spec_or_an_artifact_is_escaped(audits: Audits, tmp_path: Path) -> None:
    _, page, rows = _portfolio(audits.args(), tmp_path / "pf")
    assert "<script" not in page
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; routes" in page
        and "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    )
    assert HOSTILE_BLOCKER in rows[1]["blockers"] and rows[0]["use_case"] == HOSTILE_USE_CASE


def test_artifacts_of_another_project_make_the_row_unreadable(audits: Audits, tmp_path: Path) -> None:
    lines, page, _ = _portfolio([f"{audits.provisional}={audits.decided_out}"], tmp_path / "pf")
    assert lines[0].startswith("-. triage-provisional: unreadable (")
    assert "holds the artifacts of triage-decided, not of triage-provisional" in lines[0]
    assert 'class="broken"' in page


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "name the audits"),
        (["triage="], "expected PROJECT or PROJECT=OUT"),
    ],
)
def test_the_command_line_says_what_is_wrong(tmp_path: Path, args: list[str], expected: str) -> None:
    result = CliRunner().invoke(main, ["portfolio", *args, "--out", str(tmp_path / "pf")])
    assert result.exit_code == 2 and expected in result.output, result.output


def test_run_refuses_two_audits_writing_one_folder(audits: Audits, tmp_path: Path) -> None:
    out = tmp_path / "one"
    result = CliRunner().invoke(
        main,
        ["portfolio", f"{audits.fresh}={out}", f"{audits.decided}={out}", "--out", str(tmp_path), "--run"],
    )
    assert result.exit_code == 2 and "would both run into" in result.output, result.output
    assert not out.exists()
