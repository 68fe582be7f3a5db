"""Sign-offs carry the signer's record in the audit log; one the log does not hold is unrecorded, not current."""

from __future__ import annotations

from pathlib import Path

import yaml

from rescue import gap
from rescue.artifacts import write_artifact
from rescue.auditlog import read_log, verify_log
from rescue.hashing import file_sha256
from rescue.owner import sign_off, signoff_status
from rescue.spec import load_spec
from tests.conftest import copy_sample


def _signed_gap(tmp_path: Path):
    spec = load_spec(copy_sample(tmp_path / "p"))
    out = tmp_path / "out"
    write_artifact(out, "gap", gap.build(spec, out), spec)
    return spec, out


def test_signing_appends_a_signoff_record(tmp_path: Path) -> None:
    spec, out = _signed_gap(tmp_path)
    s = sign_off(spec, out, "gap", "compliance", "Dana Okafor", "https://wiki.example.com/c", on="2026-11-20")
    record = read_log(out)[-1]
    assert record["event"] == "signoff"
    assert {k: record[k] for k in ("artifact", "scope", "by", "date", "sha256", "project")} == {
        "artifact": "gap", "scope": "compliance", "by": "Dana Okafor", "date": "2026-11-20",
        "sha256": file_sha256(out / "gap.json"), "project": spec.project,
    }  # fmt: skip
    assert s.sha256 == record["sha256"] and verify_log(out) == 2
    status = {r["artifact"]: r["status"] for r in signoff_status(spec, out)}
    assert status["gap"] == "current"


def test_a_forged_signoff_is_unrecorded_not_current(tmp_path: Path) -> None:
    spec, out = _signed_gap(tmp_path)
    file = spec.path(spec.signoffs)
    forged = {"artifact": "gap", "scope": "compliance", "by": "Mallory", "date": "2026-11-20",
              "link": "https://x.example", "sha256": file_sha256(out / "gap.json")}  # fmt: skip
    file.write_text(yaml.safe_dump({"signoffs": [forged]}))
    row = next(r for r in signoff_status(spec, out) if r["artifact"] == "gap")
    assert (row["status"], row["by"]) == ("unrecorded", "Mallory")
    # signed properly the same day, after the forgery: that one is current
    sign_off(spec, out, "gap", "compliance", "Dana Okafor", "https://wiki.example.com/c", on="2026-11-20")
    row = next(r for r in signoff_status(spec, out) if r["artifact"] == "gap")
    assert (row["status"], row["by"]) == ("current", "Dana Okafor")
    # a record copied onto another version (the artifact's hash in the file edited) is unrecorded again
    data = yaml.safe_load(file.read_text())
    data["signoffs"][-1]["sha256"] = "0" * 64
    file.write_text(yaml.safe_dump(data))
    assert next(r for r in signoff_status(spec, out) if r["artifact"] == "gap")["status"] == "unrecorded"
