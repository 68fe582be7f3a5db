"""The project's input files read in one place: a contract that cannot be used is named, with what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.errors import InputFileError
from rescue.gap import assess_gap
from rescue.inputs import read_contract
from rescue.spec import load_spec

CONTRACT = "contracts/crm_case.schema.json"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (json.dumps({"type": "object"}).encode("utf-16"), "is not UTF-8 text"),
        (b"[1, 2]", "holds a JSON list; expected a JSON Schema object"),
        (b"{not json", "is not JSON"),
        (json.dumps({"type": "objekt"}).encode(), "is not a valid JSON Schema"),
        (json.dumps({"$ref": "https://schemas.example.com/case.json"}).encode(), "refers outside itself"),
    ],
)
def test_an_unusable_contract_is_named_on_day_1(sample_project: Path, content: bytes, words: str) -> None:
    (sample_project / CONTRACT).write_bytes(content)
    spec = load_spec(sample_project)
    with pytest.raises(InputFileError, match=words) as info:
        read_contract(spec, spec.integration[0])
    assert info.value.file == CONTRACT
    check = next(c for c in assess_gap(spec)["checks"] if c["id"] == "integration.contract_declared")
    assert check["status"] == "fail" and CONTRACT in check["evidence"] and words in check["evidence"]


def test_a_local_ref_is_fine(sample_project: Path) -> None:
    schema = {
        "$defs": {"id": {"type": "string"}},
        "type": "object",
        "properties": {"case_id": {"$ref": "#/$defs/id"}},
    }
    (sample_project / CONTRACT).write_text(json.dumps(schema))
    spec = load_spec(sample_project)
    assert read_contract(spec, spec.integration[0]) == schema


def test_day_4_names_an_unusable_contract_and_still_scores(sample_project: Path, tmp_path: Path) -> None:
    from rescue.evals import build_eval_position

    (sample_project / CONTRACT).write_text(json.dumps({"$ref": "https://schemas.example.com/case.json"}))
    spec = load_spec(sample_project)
    position = build_eval_position(spec, tmp_path / "out", progress=False)
    (contract,) = position["contract"]["contracts"]
    assert "refers outside itself" in contract["unusable"] and position["contract"]["valid_rate"] is None
    assert position["scores"]["accuracy"]["value"] is not None


def test_the_page_shows_an_unusable_contract(sample_project: Path, tmp_path: Path) -> None:
    from rescue.evals import build_eval_position, display

    (sample_project / CONTRACT).write_bytes(b"[1]")
    spec = load_spec(sample_project)
    position = build_eval_position(spec, tmp_path / "out", progress=False)
    assert "not checked — crm-case could not be used" in display.operations_markdown(position)
    from rescue.evals.display.common import contract_table

    table = contract_table(position)
    assert "holds a JSON list" in table["Violation"].iloc[-1]
