"""The artifact models (``rescue.models``) and the JSON Schemas generated from them (``rescue/schemas/``).

- the committed schema files are what ``scripts/generate_schemas.py`` writes from the models now (drift);
- real artifacts (``tests/fixtures/artifacts/<run>/<name>.json``, copied from runs of the week) validate against
  the generated schema, as ``rescue.artifacts`` validates them, and against the model, and survive a round
  trip through the model;
- the hand-written schemas the models replace accepted the same documents;
- the models keep their teeth: an unknown key, a wrong enum value, a missing key, a value out of range are
  refused by the schema and by the model alike.
"""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from rescue.artifacts import validate_artifact
from rescue.errors import ArtifactError
from rescue.models import MODELS, json_schema, schema_text

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "rescue" / "schemas"
FIXTURES = Path(__file__).parent / "fixtures" / "artifacts"
# the last commit whose schemas were written by hand (the models replaced them)
HANDWRITTEN = "2f44d450427bf981d3d134cc30ee57befc6f99e6"

DOCUMENTS = sorted(FIXTURES.glob("*/*.json"))
TITLES = {
    "gap": "rescue production gap (Day 1)",
    "data_picture": "rescue data picture (Day 2)",
    "eval_set": "rescue eval set (Day 3)",
    "eval_position": "rescue eval position (Day 4)",
    "owner": "rescue owner (Day 5)",
    "readout": "rescue readout (Day 5)",
}


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def fixture(run: str, name: str) -> dict[str, Any]:
    return load(FIXTURES / run / f"{name}.json")


def doc_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@cache
def committed_schema(name: str) -> dict[str, Any]:
    return load(SCHEMAS / f"{name}.schema.json")


def schema_errors(name: str, document: Any, schema: dict[str, Any] | None = None) -> list[str]:
    """Where and why ``document`` breaks the schema (the committed one unless given), as rescue validates."""
    validator = jsonschema.Draft202012Validator(schema or committed_schema(name))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return ["/".join(str(p) for p in e.absolute_path) + ": " + e.message for e in errors]


def model_errors(name: str, document: Any) -> list[str]:
    try:
        MODELS[name].model_validate(document)
    except ValidationError as exc:
        return [".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors()]
    return []


@cache
def handwritten_schema(name: str) -> dict[str, Any] | None:
    """The hand-written schema the model replaced, from git (None outside a full clone)."""
    try:
        text = subprocess.run(
            ["git", "show", f"{HANDWRITTEN}:rescue/schemas/{name}.schema.json"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return json.loads(text)


# --- the schema files are generated -------------------------------------------------------------------------


def test_every_artifact_has_a_model_and_a_schema_file() -> None:
    assert set(MODELS) == set(TITLES)
    assert {p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")} == set(MODELS)
    assert len(DOCUMENTS) >= 12 and {p.stem for p in DOCUMENTS} == set(MODELS)


@pytest.mark.parametrize("name", sorted(TITLES))
def test_schema_file_is_what_its_model_generates(name: str) -> None:
    path = SCHEMAS / f"{name}.schema.json"
    assert path.read_text(encoding="utf-8") == schema_text(name), (
        f"{path.relative_to(REPO)} and rescue/models disagree: edit the model (never the file) and run "
        "python scripts/generate_schemas.py"
    )


def _script() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "generate_schemas", REPO / "scripts" / "generate_schemas.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_finds_a_hand_edited_schema_and_rewrites_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate_schemas.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    script = _script()
    for name in MODELS:
        (tmp_path / f"{name}.schema.json").write_text(schema_text(name), encoding="utf-8")
    assert script.stale(tmp_path) == []
    edited = tmp_path / "gap.schema.json"
    edited.write_text(edited.read_text().replace('"blocked"', '"maybe"'), encoding="utf-8")
    (tmp_path / "owner.schema.json").unlink()
    assert script.stale(tmp_path) == ["gap", "owner"]
    assert sorted(p.name for p in script.write(tmp_path)) == ["gap.schema.json", "owner.schema.json"]
    assert script.stale(tmp_path) == [] and script.write(tmp_path) == []


@pytest.mark.parametrize("name", sorted(TITLES))
def test_generated_schema_is_draft_2020_12_with_its_id_and_title(name: str) -> None:
    schema = committed_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"rescue/{name}.schema.json" and schema["title"] == TITLES[name]
    assert schema["description"]
    # rescue.artifacts.schema_version reads the version here
    assert schema["properties"]["schema_version"]["const"] == "1.0"
    assert schema["properties"]["artifact"]["const"] == name


def test_every_object_of_a_schema_is_described() -> None:
    """Every object of the generated schemas carries its model's docstring."""
    for name in MODELS:
        schema = json_schema(name)
        for def_name, definition in schema.get("$defs", {}).items():
            assert definition.get("description"), f"{name}: $defs/{def_name} has no description"


def test_models_import_only_pydantic_the_standard_library_and_themselves() -> None:
    allowed = {"pydantic", "pydantic_core", *sys.stdlib_module_names}
    for path in sorted((REPO / "rescue" / "models").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [] if node.level else [node.module or ""]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] in allowed, f"{path.name} imports {module}"


# --- real artifacts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", DOCUMENTS, ids=doc_id)
def test_real_artifact_validates_against_schema_and_model(path: Path) -> None:
    name, document = path.stem, load(path)
    assert schema_errors(name, document) == []
    assert model_errors(name, document) == []
    validate_artifact(name, document)  # as rescue reads and writes it


@pytest.mark.parametrize("path", DOCUMENTS, ids=doc_id)
def test_real_artifact_survives_a_round_trip_through_its_model(path: Path) -> None:
    name, document = path.stem, load(path)
    dumped = MODELS[name].model_validate(document).model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert schema_errors(name, dumped) == []
    # the model keeps every key and value; only the timestamp is spelled its own way (Z for +00:00)
    assert dumped.pop("generated_at").replace("Z", "+00:00") == document.pop("generated_at")
    assert dumped == document


# keys artifacts gained after the hand-written schemas (which refused any key they did not name)
ADDED_SINCE: dict[str, set[str]] = {"readout": {"evidence_missing"}}


def as_handwritten(name: str, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` without the keys its artifact gained since the hand-written schemas."""
    return {k: v for k, v in document.items() if k not in ADDED_SINCE.get(name, set())}


@pytest.mark.parametrize("path", DOCUMENTS, ids=doc_id)
def test_the_hand_written_schema_accepted_it_too(path: Path) -> None:
    old = handwritten_schema(path.stem)
    if old is None:
        pytest.skip(f"commit {HANDWRITTEN[:7]} is not in this clone")
    assert schema_errors(path.stem, as_handwritten(path.stem, load(path)), old) == []


def _set(document: dict[str, Any], where: str, value: Any) -> dict[str, Any]:
    """A copy of ``document`` with the value at ``where`` (``a/0/b``) replaced, or deleted for ``DELETE``."""
    out = copy.deepcopy(document)
    *parents, last = [int(p) if p.isdigit() else p for p in where.split("/")]
    node: Any = out
    for p in parents:
        node = node[p]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return out


DELETE = object()

# Documents the producers write that the two runs did not: each must be accepted by the schema, the model and
# the hand-written schema alike.
VARIANTS: dict[str, tuple[str, str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "eval_position without task (older documents)": (
        "pharma-feedback",
        "eval_position",
        lambda d: _set(d, "task", DELETE),
    ),
    "eval_position with extraction scores": (
        "pharma-feedback",
        "eval_position",
        lambda d: _set(
            d,
            "extraction",
            {
                "fields": {"team": {"precision": 0.9, "recall": 0.8, "f1": 0.8471, "support": 40}},
                "micro_f1": {"value": 0.8471, "low": 0.8, "high": 0.89, "n": 50},
                "exact_record": {"value": 0.7, "low": 0.56, "high": 0.81, "n": 50},
            },
        ),
    ),
    "eval_position of a PoC whose calls all failed": (
        "pharma-feedback-bare",
        "eval_position",
        lambda d: _set(
            _set(
                d,
                "latency",
                {**d["latency"], "n": 0, "p95_ms": None, "meets_target": None, "histogram_ms": []},
            ),
            "latency/p95",
            {"value": None, "low": None, "high": None, "n": 0},
        ),
    ),
    "eval_set with agreement between two labelers": (
        "pharma-feedback",
        "eval_set",
        lambda d: _set(
            d,
            "agreement",
            {
                "measure": "Cohen's kappa",
                "labelers": ["ana", "ben"],
                "items": 40,
                "value": 0.71,
                "low": 0.55,
                "high": 0.84,
            },
        ),
    ),
    "gap with an attested check": (
        "pharma-feedback",
        "gap",
        lambda d: _set(
            d,
            "checks/0/attestation",
            {
                "check": d["checks"][0]["id"],
                "by": "Dana Okafor",
                "role": None,
                "date": "2026-11-20",
                "link": "https://wiki.example.com/a/1",
                "note": None,
            },
        ),
    ),
    "owner with a current sign-off and no owner named": (
        "pharma-feedback",
        "owner",
        lambda d: _set(
            _set(d, "owner", None),
            "signoffs/0",
            {
                **d["signoffs"][0],
                "status": "current",
                "by": "Dana Okafor",
                "date": "2026-11-30",
                "link": "https://wiki.example.com/s/1",
            },
        ),
    ),
    "readout without the later days' summaries": (
        "drug-answers",
        "readout",
        lambda d: _set(
            _set(d, "summaries", {"production_gap": d["summaries"]["production_gap"]}),
            "evidence_missing",
            ["data_picture", "eval_set", "eval_position"],
        ),
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_documents_the_runs_did_not_write_are_accepted(variant: str) -> None:
    run, name, change = VARIANTS[variant]
    document = change(fixture(run, name))
    assert schema_errors(name, document) == []
    assert model_errors(name, document) == []
    old = handwritten_schema(name)
    if old is not None:
        assert schema_errors(name, as_handwritten(name, document), old) == []


# --- the models keep their teeth ----------------------------------------------------------------------------

# (run, artifact, where, the bad value or DELETE)
BROKEN: dict[str, tuple[str, str, str, Any]] = {
    # an unknown key, at the top and inside
    "gap: unknown top-level key": ("pharma-feedback", "gap", "surprise", 1),
    "data_picture: unknown top-level key": ("pharma-feedback", "data_picture", "surprise", 1),
    "eval_set: unknown top-level key": ("drug-answers", "eval_set", "surprise", 1),
    "eval_position (classification): unknown top-level key": (
        "pharma-feedback",
        "eval_position",
        "surprise",
        1,
    ),
    "eval_position (generation): unknown top-level key": ("drug-answers", "eval_position", "surprise", 1),
    "owner: unknown top-level key": ("pharma-feedback", "owner", "surprise", 1),
    "readout: unknown top-level key": ("drug-answers", "readout", "surprise", 1),
    "gap: unknown key in a check": ("pharma-feedback", "gap", "checks/3/surprise", 1),
    "eval_position: unknown key in an interval": (
        "drug-answers",
        "eval_position",
        "scores/token_f1/surprise",
        1,
    ),
    # a wrong enum (or const) value
    "gap: verdict maybe": ("pharma-feedback", "gap", "verdict", "maybe"),
    "gap: check status maybe": ("pharma-feedback", "gap", "checks/0/status", "maybe"),
    "data_picture: source status maybe": ("pharma-feedback", "data_picture", "sources/0/status", "maybe"),
    "data_picture: source kind excel": ("drug-answers", "data_picture", "sources/0/kind", "excel"),
    "eval_set: artifact named wrong": ("pharma-feedback", "eval_set", "artifact", "eval_sets"),
    "eval_position: task maybe": ("pharma-feedback", "eval_position", "task", "maybe"),
    "owner: sign-off status maybe": ("pharma-feedback", "owner", "signoffs/0/status", "maybe"),
    "readout: decision maybe": ("drug-answers", "readout", "decision", "maybe"),
    "readout: stall reason unheard of": ("drug-answers", "readout", "diagnosis/2/id", "bad_luck"),
    "all: schema version 2.0": ("drug-answers", "gap", "schema_version", "2.0"),
    # a missing key (a nullable key is required too)
    "gap: check without remedy": ("pharma-feedback", "gap", "checks/0/remedy", DELETE),
    "gap: check without attestation (null is not absent)": (
        "pharma-feedback",
        "gap",
        "checks/0/attestation",
        DELETE,
    ),
    "data_picture: summary without rows_total": (
        "pharma-feedback",
        "data_picture",
        "summary/rows_total",
        DELETE,
    ),
    "data_picture: source without error": ("drug-answers", "data_picture", "sources/0/error", DELETE),
    "eval_set: labels without coverage": ("pharma-feedback", "eval_set", "labels/coverage", DELETE),
    "eval_position (classification): without scored": ("pharma-feedback", "eval_position", "scored", DELETE),
    "eval_position (generation): without generation": ("drug-answers", "eval_position", "generation", DELETE),
    "owner: without handover": ("drug-answers", "owner", "handover", DELETE),
    "readout: diagnosis without verdict": ("pharma-feedback", "readout", "diagnosis/0/verdict", DELETE),
    "all: without spec_sha256": ("pharma-feedback", "readout", "spec_sha256", DELETE),
    # a value out of range, of the wrong type, or an empty list where one is required
    "gap: headline score 1.5": ("pharma-feedback", "gap", "headline_score", 1.5),
    "gap: check score -0.5": ("pharma-feedback", "gap", "checks/5/score", -0.5),
    "gap: no weakest area": ("pharma-feedback", "gap", "weakest_areas", []),
    "data_picture: issue rate 1.5": (
        "drug-answers",
        "data_picture",
        "sources/0/profile/review/issue_rate",
        1.5,
    ),
    "data_picture: negative row count": ("pharma-feedback", "data_picture", "sources/1/rows", -3),
    "eval_set: coverage 1.5": ("drug-answers", "eval_set", "labels/coverage", 1.5),
    "eval_position: negative n in an interval": ("pharma-feedback", "eval_position", "scores/accuracy/n", -1),
    "eval_position: F1 of a class 1.5": (
        "pharma-feedback",
        "eval_position",
        "scored/as_failures/per_class/positive/f1",
        1.5,
    ),
    "eval_position: no items": ("drug-answers", "eval_position", "n_items", 0),
    "readout: headline score 1.5": ("drug-answers", "readout", "headline_score", 1.5),
    "readout: six stall reasons": ("drug-answers", "readout", "diagnosis/6", DELETE),
    "owner: ok is not a boolean": ("pharma-feedback", "owner", "checks/0/ok", 1),
    "eval_set: true is not a count": ("pharma-feedback", "eval_set", "labels/flagged", True),
    "all: spec hash not hex": ("drug-answers", "owner", "spec_sha256", "z" * 64),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_documents_are_refused_by_schema_and_model(case: str) -> None:
    run, name, where, value = BROKEN[case]
    document = _set(fixture(run, name), where, value)
    errors = schema_errors(name, document)
    assert errors, f"the schema accepts {case}"
    assert model_errors(name, document), f"the model accepts {case}"
    with pytest.raises(ArtifactError, match="does not match its schema"):
        validate_artifact(name, document)


@pytest.mark.parametrize(
    ("run", "where", "value", "reported_at"),
    [
        ("pharma-feedback", "scores/accuracy/n", -1, "scores/accuracy/n"),
        ("drug-answers", "generation/rubric/1/pass_rate/human_only/method", "guess", "generation/rubric/1"),
        ("drug-answers", "task", "maybe", "task"),
    ],
)
def test_eval_position_errors_are_reported_inside_the_documents_shape(
    run: str, where: str, value: Any, reported_at: str
) -> None:
    """``if task is generation then … else …`` lets the validator name the place (``oneOf`` would not)."""
    errors = schema_errors("eval_position", _set(fixture(run, "eval_position"), where, value))
    assert any(e.startswith(reported_at) for e in errors), errors


def test_generation_fields_do_not_belong_in_a_classifier_document() -> None:
    classifier = fixture("pharma-feedback", "eval_position")
    generation = fixture("drug-answers", "eval_position")["generation"]
    document = _set(classifier, "generation", generation)
    assert schema_errors("eval_position", document) == [
        ": Additional properties are not allowed ('generation' was unexpected)"
    ]
    assert model_errors("eval_position", document)
