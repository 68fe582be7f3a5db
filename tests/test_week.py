"""The week runner: parameters checked before anything runs, failures name day, cell and error."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from rescue import week
from rescue.auditlog import read_log, verify_log
from rescue.errors import RescueError, SpecError, WorkbookFailed
from rescue.week import DAYS, Day, check_parameters, close_the_gap, run_week, select_days, workbooks_dir

from .conftest import FIXTURES

FIXTURE_DAYS = (
    Day(1, "Succeeds", "ok.ipynb", "ok"),
    Day(2, "Fails", "fails.ipynb", "fails"),
    Day(3, "After", "after.ipynb", "after"),
)


@pytest.fixture
def fixture_week(monkeypatch):
    monkeypatch.setattr(week, "DAYS", FIXTURE_DAYS)
    monkeypatch.setattr(week, "workbooks_dir", lambda: FIXTURES / "workbooks")


def test_failure_names_day_cell_and_error_and_keeps_the_notebook(
    fixture_week, sample_project, tmp_path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(WorkbookFailed) as info:
        run_week(sample_project, out, progress=False)
    err = info.value
    assert err.day == 2 and err.workbook == "fails.ipynb"
    assert err.cell_index == 3  # the index in the workbook as written (papermill's injected cell not counted)
    assert err.error_name == "ValueError" and err.error_value == "planted failure"
    assert "day 2 (fails.ipynb) failed in cell 3" in str(err) and "planted failure" in str(err)
    kept = Path(err.notebook)
    assert kept.exists()
    executed = nbformat.read(str(kept), as_version=4)
    assert any(o.get("ename") == "ValueError" for c in executed.cells for o in c.get("outputs", []))
    # day 1 ran, day 3 did not: the week stops at the failing day
    assert (out / "ok.txt").read_text() == str(sample_project.resolve())
    assert not (out / "after.txt").exists()
    statuses = [(r["day"], r["status"]) for r in read_log(out) if r["event"] == "workbook"]
    assert statuses == [(1, "ok"), (2, "failed")]
    assert verify_log(out) == 2


@pytest.mark.parametrize(
    ("days", "expected", "closing"),
    [
        (
            [1, 2, 3, 4, 5],
            [1, 2, 3, 4, 1, 5],
            4,
        ),  # the gap is assessed again after day 4, before day 5 reads it
        ([1, 3], [1, 3, 1], 2),
        ([1, 5], [1, 5], None),  # no later evidence to pick up
        ([2, 4, 5], [2, 4, 5], None),  # day 1 does not run: day 5 reads the gap.json there is
        ([1], [1], None),
    ],
)
def test_the_gap_closes_the_evidence_days(days: list[int], expected: list[int], closing: int | None) -> None:
    plans = [(day, {}) for day in DAYS if day.number in days]
    ran, at = close_the_gap(plans)
    assert [day.number for day, _ in ran] == expected and at == closing


def test_days_subset_runs_only_those(fixture_week, sample_project, tmp_path) -> None:
    out = tmp_path / "out"
    pages = run_week(sample_project, out, days=[3, 1], progress=False)
    assert [p.name for p in pages] == ["ok.html", "after.html"]
    assert (out / "after.txt").exists()
    assert (out / "notebooks" / "ok.ipynb").exists()


def test_unknown_day_is_refused() -> None:
    with pytest.raises(RescueError, match=r"no workbook for day\(s\) \[9\]"):
        select_days([1, 9])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"nope": 1}, "no selected workbook declares parameter"),
        ({"interactive": "yes please"}, "'interactive' must be true or false"),
        ({"interactive": 2}, "'interactive' must be true or false"),
        ({"probes": 0}, "'probes' must be a whole number of at least 1"),
        ({"as_of": "2026-13-45"}, "'as_of' must be a date YYYY-MM-DD"),
    ],
)
def test_bad_parameters_are_refused_before_anything_runs(sample_project, tmp_path, extra, message) -> None:
    out = tmp_path / "out"
    with pytest.raises(RescueError, match=message):
        run_week(sample_project, out, extra_parameters=extra, progress=False)
    assert not out.exists()


def test_check_parameters_against_the_real_workbook() -> None:
    day1 = workbooks_dir() / "day1_production_gap.ipynb"
    checked = check_parameters(day1, {"project": "p", "out": "o", "interactive": "false"})
    assert checked == {"project": "p", "out": "o", "interactive": False}
    with pytest.raises(RescueError, match="'project' must be text"):
        check_parameters(day1, {"project": 3})
    with pytest.raises(RescueError, match="has no parameter 'projet'"):
        check_parameters(day1, {"projet": "p"})


def test_parameters_are_read_as_the_workbooks_read_them() -> None:
    day2 = workbooks_dir() / "day2_data_picture.ipynb"
    from datetime import date

    # `rescue week -p as_of 2026-11-30` arrives as a YAML date: injected as the workbook's YYYY-MM-DD text
    assert check_parameters(day2, {"as_of": date(2026, 11, 30), "probes": "3"}) == {
        "as_of": "2026-11-30",
        "probes": 3,
    }
    with pytest.raises(
        RescueError, match=r"day2_data_picture.ipynb: parameter 'as_of' must be a date YYYY-MM-DD"
    ):
        check_parameters(day2, {"as_of": "2026-13-45"})
    with pytest.raises(RescueError, match="'probes' must be a whole number of at least 1; got 'abc'"):
        check_parameters(day2, {"probes": "abc"})


def test_bad_spec_stops_before_any_workbook(write_spec, tmp_path) -> None:
    project = write_spec("project: x\nuse_case: y\npoc: {kind: python}\n")
    with pytest.raises(SpecError, match="poc.path"):
        run_week(project, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_workbook_runs_alone_with_plain_papermill(sample_project, tmp_path) -> None:
    """Plain `papermill day1 -p project P -p out O` runs without the runner; `rescue render` pages it."""
    import subprocess
    import sys

    from click.testing import CliRunner

    from rescue.artifacts import read_artifact
    from rescue.cli import main

    out = tmp_path / "out"
    executed = tmp_path / "day1.ipynb"
    cmd = [
        sys.executable,
        "-m",
        "papermill",
        str(workbooks_dir() / "day1_production_gap.ipynb"),
        str(executed),
    ]
    cmd += [
        "-p",
        "project",
        str(sample_project),
        "-p",
        "out",
        str(out),
        "-p",
        "interactive",
        "False",
        "-k",
        "python3",
    ]
    subprocess.run(cmd, check=True, capture_output=True, cwd=tmp_path)
    assert read_artifact(out, "gap")["verdict"] == "blocked"
    result = CliRunner().invoke(main, ["render", str(executed), str(tmp_path / "gap.html")])
    assert result.exit_code == 0 and (tmp_path / "gap.html").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("where", "words"),
    [
        (".", "holds rescue.yaml, an input of the audit"),
        ("sources", "holds crm.sqlite, an input of the audit"),
        ("sources/nested/deeper", "the folder of source"),
        ("poc", "holds triage_poc.ipynb, an input of the audit"),
    ],
)
def test_an_out_folder_over_the_inputs_is_refused_before_anything_runs(
    sample_project: Path, where: str, words: str
) -> None:
    before = sorted(p.relative_to(sample_project) for p in sample_project.rglob("*"))
    with pytest.raises(RescueError, match=words):
        run_week(sample_project, sample_project / where, progress=False)
    assert sorted(p.relative_to(sample_project) for p in sample_project.rglob("*")) == before


@pytest.mark.parametrize("name", ["out", "project"])
def test_the_runners_own_parameters_cannot_be_overridden(
    sample_project: Path, tmp_path: Path, name: str
) -> None:
    with pytest.raises(RescueError, match=f"-p {name} is refused"):
        run_week(
            sample_project,
            tmp_path / "out",
            extra_parameters={name: str(tmp_path / "elsewhere")},
            progress=False,
        )
    assert not (tmp_path / "out").exists() and not (tmp_path / "elsewhere").exists()


def test_a_run_killed_halfway_leaves_no_secret_in_the_output_folder(
    sample_project: Path, tmp_path: Path
) -> None:
    """Killed after the day printed the key, before its redaction: no file in the output folder holds the key,
    nor a copy of the notebook in the week's private folder (papermill writes it only when the run ends)."""
    import glob
    import os
    import signal
    import subprocess
    import sys
    import tempfile
    import time

    secret = "leak-" + os.urandom(8).hex()
    out = tmp_path / "out"
    marker = tmp_path / "printed"
    script = (
        "import sys\nfrom rescue import week\n"
        f"week.DAYS = (week.Day(1, 'Leaks', 'leaks.ipynb', 'leaks'),)\n"
        f"week.workbooks_dir = lambda: __import__('pathlib').Path({str(FIXTURES / 'workbooks')!r})\n"
        f"week.run_week({str(sample_project)!r}, {str(out)!r}, progress=False)\n"
    )
    env = {**os.environ, "RESCUE_LEAK_KEY": secret, "RESCUE_LEAK_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():  # the kernel has printed the key and hangs in the next cell
            if time.monotonic() > deadline:
                pytest.fail("the fixture day never printed the key")
            time.sleep(0.2)
        time.sleep(0.5)  # the printed output has reached the runner
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    leaked = [p for p in out.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    drafts = [p for p in glob.glob(f"{tempfile.gettempdir()}/rescue-run-*/leaks.ipynb")
              if secret in Path(p).read_text(errors="replace")]  # fmt: skip
    for p in drafts:  # this test's to clean, were there one
        Path(p).unlink()
    assert leaked == [] and drafts == []


def test_the_kernels_exit_hook_leaves_no_trace(fixture_week, sample_project, tmp_path) -> None:
    """The week's kernels register gc.freeze at exit (KERNEL_ARGUMENTS) before the notebook runs: its cells
    are still numbered from 1 and their outputs are the workbook's own."""
    out = tmp_path / "out"
    run_week(sample_project, out, days=[1], progress=False)
    executed = nbformat.read(str(out / "notebooks" / "ok.ipynb"), as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert [o.get("text") for c in code for o in c.outputs] == ["done\n"]
    assert week.KERNEL_ARGUMENTS and all("exec_lines" in a for a in week.KERNEL_ARGUMENTS)


def test_forked_workers_never_share_a_kernel_socket() -> None:
    """The portfolio runs weeks in forked workers: each must name its kernels' sockets apart from the others'."""
    import multiprocessing

    from rescue.week import LocalKernelManager

    parent = LocalKernelManager().ip  # the parent has made its folder before forking, as a test run has
    with multiprocessing.get_context("fork").Pool(2) as pool:
        children = pool.map(_socket_prefix, range(4))
    folders = {str(Path(p).parent) for p in children}
    assert len(set(children)) == 4 and str(Path(parent).parent) not in folders


def _socket_prefix(_: int) -> str:
    from rescue.week import LocalKernelManager

    return LocalKernelManager().ip
