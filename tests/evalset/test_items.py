"""The labeled items Day 4 scores: a labels file that cannot be used is named with its column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rescue.errors import InputFileError, RescueError
from rescue.evalset.items import load_eval_items
from rescue.spec import load_spec
from tests.conftest import copy_sample


def test_a_labels_file_without_the_label_column_names_file_and_column(tmp_path: Path) -> None:
    project = copy_sample(tmp_path)
    labels = project / "labels.csv"
    frame = pd.read_csv(labels, dtype=str, keep_default_na=False)
    column = load_spec(project).eval.label_column
    frame.rename(columns={column: "verdict"}).to_csv(labels, index=False)
    with pytest.raises(InputFileError) as info:
        load_eval_items(load_spec(project))
    err = info.value
    assert isinstance(err, RescueError)  # the CLI shows it without a traceback
    assert err.file == "labels.csv" and err.column == column
    assert str(err).startswith(f"labels.csv, column {column!r}: missing; expected the label column")
