"""Workbook parameters read one way everywhere: papermill's strings, rescue week's YAML scalars, JupyterLab's values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rescue.errors import RescueError
from rescue.params import ParameterError, check, parameters


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("false", False), ("False", False), ("0", False), (0, False), ("", False),
     ("no", False), ("true", True), ("1", True), (1, True), ("YES", True), (" on ", True)],
)  # fmt: skip
def test_booleans_from_words(value, expected) -> None:
    assert check("interactive", value) is expected


@pytest.mark.parametrize("value", ["maybe", 2, None, 0.5, "ture"])
def test_a_word_that_is_no_boolean_is_refused(value) -> None:
    with pytest.raises(ParameterError, match="'interactive' must be true or false"):
        check("interactive", value)


def test_dates() -> None:
    assert check("as_of", "2026-11-30") == date(2026, 11, 30)
    assert check("as_of", date(2026, 11, 30)) == date(2026, 11, 30)
    assert check("as_of", "") is None and check("as_of", None) is None
    for bad in ("2026-13-45", "30/11/2026", 20261130):
        with pytest.raises(
            ParameterError, match=r"'as_of' must be a date YYYY-MM-DD, or empty for today; got"
        ):
            check("as_of", bad)


def test_counts_and_text() -> None:
    assert check("probes", "15") == 15 and check("probes", 3) == 3
    for bad in ("abc", 0, -1, True, 2.5):
        with pytest.raises(ParameterError, match="'probes' must be a whole number"):
            check("probes", bad)
    assert check("project", Path("a/b")) == "a/b"
    with pytest.raises(ParameterError, match="'out' must be text; got int 3"):
        check("out", 3)


def test_the_first_cell_of_a_workbook() -> None:
    project, out, interactive, as_of = parameters(
        project="p", out="o", interactive="false", as_of="2026-11-30"
    )
    assert (project, out, interactive, as_of) == ("p", "o", False, date(2026, 11, 30))
    with pytest.raises(RescueError, match="no workbook parameter 'colour'"):
        parameters(colour="red")
