"""Artifacts: the envelope, schema validation on write and read, secrets kept out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.artifacts import (
    SCHEMAS,
    load_schema,
    read_artifact,
    redact_secrets,
    validate_artifact,
    write_artifact,
)
from rescue.auditlog import read_log, verify_log
from rescue.errors import ArtifactError
from rescue.gap import assess_gap
from rescue.jsonschemas import jsonschema
from rescue.spec import load_spec


@pytest.fixture
def gap_payload(sample_project: Path):
    spec = load_spec(sample_project)
    return spec, assess_gap(spec)


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.schema.json")), ids=lambda p: p.name)
def test_every_shipped_schema_is_valid_json_schema(path: Path) -> None:
    """load_schema does not check a schema against the metaschema (every kernel would pay for it): this does."""
    schema = load_schema(path.name.removesuffix(".schema.json"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["const"] == "1.0"


def test_round_trip_and_audit_record(tmp_path: Path, gap_payload) -> None:
    spec, payload = gap_payload
    path = write_artifact(tmp_path, "gap", payload, spec, parameters={"x": 1})
    document = read_artifact(tmp_path, "gap")
    assert document["artifact"] == "gap" and document["project"] == spec.project
    assert document["checks"] == json.loads(json.dumps(payload["checks"]))
    (record,) = read_log(tmp_path)
    assert record["event"] == "artifact" and record["parameters"] == {"x": 1}
    assert record["outputs"]["gap.json"] and "rescue.yaml" in record["inputs"]
    assert "sources/crm.sqlite" in record["inputs"]
    assert verify_log(tmp_path) == 1
    assert path.read_text().endswith("\n")


def test_invalid_payload_is_refused_and_nothing_written(tmp_path: Path, gap_payload) -> None:
    spec, payload = gap_payload
    bad = dict(payload, verdict="probably fine")
    with pytest.raises(ArtifactError, match="verdict"):
        write_artifact(tmp_path, "gap", bad, spec)
    assert not (tmp_path / "gap.json").exists()


def test_reading_a_corrupted_artifact_names_the_place(tmp_path: Path, gap_payload) -> None:
    spec, payload = gap_payload
    path = write_artifact(tmp_path, "gap", payload, spec)
    document = json.loads(path.read_text())
    document["checks"][0]["score"] = 7
    path.write_text(json.dumps(document))
    with pytest.raises(ArtifactError, match="checks/0/score"):
        read_artifact(tmp_path, "gap")


def test_reading_another_major_version_is_refused(tmp_path: Path, gap_payload) -> None:
    spec, payload = gap_payload
    path = write_artifact(tmp_path, "gap", payload, spec)
    document = json.loads(path.read_text())
    document["schema_version"] = "2.0"
    path.write_text(json.dumps(document))
    with pytest.raises(ArtifactError, match="schema version 2.0"):
        read_artifact(tmp_path, "gap")


def test_missing_artifact(tmp_path: Path) -> None:
    assert read_artifact(tmp_path, "gap", required=False) is None
    with pytest.raises(ArtifactError, match="run the day"):
        read_artifact(tmp_path, "gap")
    with pytest.raises(ArtifactError, match="no schema"):
        validate_artifact("nonsense", {})


def _spec_with_secret(sample_project: Path, monkeypatch) -> object:
    text = (sample_project / "rescue.yaml").read_text()
    text = text.replace(
        "sources:                           # where",
        "sources:\n  - {name: wh, kind: postgres, table: t, dsn: '${RESCUE_ART_SECRET}'}\n  # where",
    )
    (sample_project / "rescue.yaml").write_text(text)
    monkeypatch.setenv("RESCUE_ART_SECRET", "postgres://u:Pl4nted-S3cret@db/x")
    return load_spec(sample_project)


def test_a_secret_in_an_artifact_is_redacted_and_the_artifact_still_written(
    tmp_path: Path, sample_project: Path, monkeypatch
) -> None:
    spec = _spec_with_secret(sample_project, monkeypatch)
    payload = assess_gap(spec)
    payload["checks"][0]["evidence"] = "leaked postgres://u:Pl4nted-S3cret@db/x"
    path = write_artifact(tmp_path, "gap", payload, spec)
    assert "Pl4nted-S3cret" not in path.read_text()
    assert read_artifact(tmp_path, "gap")["checks"][0]["evidence"] == "leaked ${RESCUE_ART_SECRET}"


def test_redact_replaces_values_by_references(tmp_path: Path, sample_project: Path, monkeypatch) -> None:
    spec = _spec_with_secret(sample_project, monkeypatch)
    f = tmp_path / "nb.ipynb"
    f.write_text('{"text": "dsn=postgres://u:Pl4nted-S3cret@db/x"}')
    assert redact_secrets(f, spec)
    assert f.read_text() == '{"text": "dsn=${RESCUE_ART_SECRET}"}'
    assert not redact_secrets(f, spec)


def test_a_cross_day_read_can_return_the_validated_model(tmp_path: Path, gap_payload) -> None:
    from rescue.models import GapArtifact, Interval

    spec, payload = gap_payload
    write_artifact(tmp_path, "gap", payload, spec)
    gap = read_artifact(tmp_path, GapArtifact)
    assert isinstance(gap, GapArtifact) and gap.verdict == payload["verdict"]
    assert [b.check for b in gap.blockers] == [b["check"] for b in payload["blockers"]]
    assert read_artifact(tmp_path / "nothing", GapArtifact, required=False) is None
    with pytest.raises(ArtifactError, match="is not the model of an artifact"):
        read_artifact(tmp_path, Interval)
