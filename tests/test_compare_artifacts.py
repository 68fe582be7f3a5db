"""scripts/compare_artifacts.py on tiny synthetic output folders."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "compare_artifacts.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_artifacts", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare = load_script()


def write_run(out: Path, when: str, version: str, project: str, **changes: Any) -> Path:
    """A two-artifact output folder whose run-dependent fields follow ``when``, ``version``, ``project``."""
    out.mkdir(parents=True)
    gap = {
        "artifact": "gap",
        "schema_version": "1.0",
        "rescue_version": version,
        "generated_at": f"{when}T10:00:00+00:00",
        "as_of": when,
        "artifacts_read": {"owner": f"{when}T09:59:00+00:00"},
        "log": f"{out.resolve()}/audit-log.jsonl",
        "project": f"{project}/sample_data/pharma-feedback",
        "checks": [
            {"id": "a.first", "produced_by": f"rescue {version} (computed from rescue.yaml)", "score": 1.0},
            {"id": "b.second", "evidence": "newest 2017-12-10T08:57:18", "score": 0.5},
        ],
        **changes,
    }
    (out / "gap.json").write_text(json.dumps(gap, indent=2), encoding="utf-8")
    (out / "eval_set.csv").write_text(
        f"item_id,label,labeled_at\n1,positive,{when}T10:00:00.123+00:00\n"
        f"2,negative,{when}T10:00:00.124+00:00\n",
        encoding="utf-8",
    )
    (out / "readout.md").write_text(f"not compared {when}\n", encoding="utf-8")
    return out


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    before = write_run(tmp_path / "before" / "p", "2026-12-01", "0.1.0", "/tmp/before-src")
    after = write_run(tmp_path / "after" / "p", "2026-12-02", "0.2.0", "/tmp/after-src")
    return before, after


def test_what_differs_between_runs_is_normalised(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    assert compare.main([str(p) for p in runs]) == 0
    out = capsys.readouterr().out
    assert "gap.json: identical" in out and "eval_set.csv: identical" in out
    assert "readout.md" not in out
    assert out.strip().endswith("summary: 2 of 2 artifacts identical")


def test_a_changed_value_is_reported(tmp_path: Path) -> None:
    before = write_run(tmp_path / "before", "2026-12-01", "0.1.0", "/tmp/x")
    checks = json.loads((before / "gap.json").read_text())["checks"]
    checks[1]["score"] = 0.75
    after = write_run(tmp_path / "after", "2026-12-01", "0.1.0", "/tmp/x", checks=checks, new_field="x" * 200)

    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(before), str(after)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "gap.json: 2 differences" in run.stdout
    assert "/checks/b.second/score: 0.5 -> 0.75" in run.stdout
    assert "/new_field: <absent> -> " in run.stdout and "x" * 200 not in run.stdout  # long values truncated
    assert "eval_set.csv: identical" in run.stdout
    assert "summary: 1 of 2 artifacts identical; differ: gap.json" in run.stdout

    ignore = ["--ignore", "gap.json:/checks/b.*", "--ignore", "/new_field"]
    assert compare.main([str(before), str(after), *ignore]) == 0


def test_a_missing_artifact_or_changed_csv_line_differs(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    before, after = runs
    (after / "gap.json").unlink()
    (after / "eval_set.csv").write_text(
        "item_id,label,labeled_at\n1,positive,2026-12-02T10:00:00+00:00\n"
        "2,neutral,2026-12-02T10:00:00+00:00\n"
    )
    assert compare.main([str(before), str(after)]) == 1
    out = capsys.readouterr().out
    assert "(file): <present> -> <absent>" in out
    assert 'line 3: "2,negative,<time>" -> "2,neutral,<time>"' in out


@pytest.mark.parametrize(
    ("before", "after", "paths"),
    [
        ({"n": 1}, {"n": 1.0}, ["/n"]),  # a changed JSON type is a change
        ({"b": True}, {"b": 1}, ["/b"]),
        ({"x": float("nan")}, {"x": float("nan")}, []),
        ({"l": [1, 2]}, {"l": [1, 2, 3]}, ["/l/2"]),
        ({"l": [{"id": "a", "v": 1}]}, {"l": [{"id": "b", "v": 1}]}, ["/l/0/id"]),
        ({"d": {"k": 1}}, {"d": [1]}, ["/d"]),
    ],
)
def test_differences(before: Any, after: Any, paths: list[str]) -> None:
    assert [p for p, _, _ in compare.differences(before, after)] == paths
