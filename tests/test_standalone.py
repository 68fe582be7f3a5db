"""A workbook run alone with papermill's own command line, then `rescue render`: what the README promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rescue.artifacts import read_artifact
from rescue.cli import main
from tests.conftest import REPO


def _papermill(workbook: str, executed: Path, *parameters: str, cwd: Path) -> subprocess.CompletedProcess:
    args = [a for pair in zip(["-p"] * (len(parameters) // 2), parameters[::2], parameters[1::2], strict=True)
            for a in pair]  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "papermill", str(REPO / "workbooks" / workbook), str(executed), *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_papermill_interactive_false_imports_the_labels_and_render_writes_the_page(
    sample_project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    # papermill's -p passes `false` as the string "false": the workbook reads it as False, as rescue week does
    run = _papermill("day3_eval_set.ipynb", tmp_path / "day3.ipynb", "project", str(sample_project), "out", str(out),
                     "interactive", "false", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    eval_set = read_artifact(out, "eval_set")
    assert eval_set["labels"]["labeled_items"] == eval_set["sample"]["size"] > 0  # the labels were imported
    result = CliRunner().invoke(main, ["render", str(tmp_path / "day3.ipynb"), str(out / "eval_set.html")])
    assert result.exit_code == 0, result.output
    page = (out / "eval_set.html").read_text()
    assert "pharma-feedback-triage" in page and "Day 3 · Eval set" in page and 'href="index.html"' in page
    assert (out / "index.html").exists()  # the page's link home leads somewhere


def test_a_bad_parameter_stops_the_first_cell_naming_it(sample_project: Path, tmp_path: Path) -> None:
    run = _papermill("day2_data_picture.ipynb", tmp_path / "day2.ipynb", "project", str(sample_project),
                     "out", str(tmp_path / "out"), "probes", "abc", cwd=tmp_path)  # fmt: skip
    assert run.returncode != 0
    assert "parameter 'probes' must be a whole number of at least 1; got 'abc'" in run.stderr
    assert not (tmp_path / "out" / "data_picture.json").exists()  # nothing was done
