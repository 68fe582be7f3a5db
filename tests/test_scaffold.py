"""rescue init: a commented spec that validates as is, and never overwrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from rescue.errors import RescueError
from rescue.scaffold import init_project
from rescue.spec import load_spec


def test_scaffold_validates_and_is_commented(tmp_path: Path) -> None:
    spec_file = init_project(tmp_path / "acme", name="ACME Triage!")
    spec = load_spec(spec_file.parent)
    assert spec.project == "acme-triage"
    text = spec_file.read_text()
    assert text.count("#") > 20  # every section explained
    assert "${WAREHOUSE_DSN}" in text  # secrets shown as references


def test_scaffold_refuses_to_overwrite(tmp_path: Path) -> None:
    init_project(tmp_path)
    with pytest.raises(RescueError, match="already exists"):
        init_project(tmp_path)
