"""The CLI: every command documented; user mistakes print one clear error, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rescue.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help(command: str) -> None:
    cmd = main.commands[command]
    assert cmd.help and len(cmd.help) > 20, f"rescue {command} lacks a docstring"
    result = run(command, "--help")
    assert result.exit_code == 0 and "Usage" in result.output


def test_validate_bad_spec_prints_the_field_without_traceback(write_spec, sample_spec_data) -> None:
    sample_spec_data["targets"]["latency_p95_ms"] = "fast"
    project = write_spec(sample_spec_data)
    proc = subprocess.run(
        [sys.executable, "-m", "rescue.cli", "validate", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "targets.latency_p95_ms: got 'fast'; expected a number" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_validate_reports_secret_status_without_values(write_spec, sample_spec_data, monkeypatch) -> None:
    sample_spec_data["sources"].append(
        {"name": "wh", "kind": "postgres", "table": "t", "dsn": "${RESCUE_CLI_DSN}"}
    )
    project = write_spec(sample_spec_data)
    monkeypatch.setenv("RESCUE_CLI_DSN", "postgres://cli-secret-value")
    result = run("validate", str(project))
    assert result.exit_code == 0
    assert "${RESCUE_CLI_DSN} (sources[3].dsn): set" in result.output
    assert "cli-secret-value" not in result.output


def test_validate_says_when_a_fallback_applies(monkeypatch) -> None:
    """``${VAR:-fallback}``: set, the environment's value is used; unset, the fallback written in rescue.yaml."""
    project = Path(__file__).resolve().parent.parent / "sample_data" / "review-sentiment-sdk"
    monkeypatch.delenv("SDK_SAMPLE_API_KEY", raising=False)
    unset = run("validate", str(project)).output
    assert (
        "${SDK_SAMPLE_API_KEY} (poc.env.OPENAI_API_KEY): not set in this environment: its fallback" in unset
    )
    monkeypatch.setenv("SDK_SAMPLE_API_KEY", "sk-cli-secret-value")
    given = run("validate", str(project)).output
    assert "${SDK_SAMPLE_API_KEY} (poc.env.OPENAI_API_KEY): set in this environment" in given
    assert "sk-cli-secret-value" not in given and "sk-local-stub" not in unset + given


def test_init_scaffolds_a_project_that_validates(tmp_path: Path) -> None:
    target = tmp_path / "My Audit"
    result = run("init", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "rescue.yaml").exists() and (target / "poc" / "poc.ipynb").exists()
    assert "project: my-audit" in (target / "rescue.yaml").read_text()
    assert run("validate", str(target)).exit_code == 0
    again = run("init", str(target))
    assert again.exit_code == 2 and "already exists" in again.output


def test_init_project_runs_day_one(tmp_path: Path) -> None:
    from rescue.gap import assess_gap
    from rescue.spec import load_spec

    run("init", str(tmp_path / "p"))
    report = assess_gap(load_spec(tmp_path / "p"))
    assert report["verdict"] == "blocked"  # an empty project is honest about having nothing


def test_verify_log_detects_tampering(tmp_path: Path) -> None:
    from rescue.auditlog import append_record

    append_record(tmp_path, "a")
    append_record(tmp_path, "b")
    ok = run("verify-log", str(tmp_path))
    assert ok.exit_code == 0 and "2 record(s)" in ok.output
    log = tmp_path / "audit-log.jsonl"
    lines = log.read_text().splitlines()
    record = json.loads(lines[0])
    record["user"] = "someone-else"
    log.write_text(json.dumps(record) + "\n" + lines[1] + "\n")
    bad = run("verify-log", str(tmp_path))
    assert bad.exit_code == 2 and "line 1" in bad.output


def test_verify_log_detects_a_dropped_tail_and_an_edited_artifact(tmp_path: Path) -> None:
    from rescue.auditlog import append_record
    from rescue.hashing import file_sha256

    gap = tmp_path / "gap.json"
    gap.write_text('{"blockers": [{"applies": true}]}\n')
    append_record(tmp_path, "artifact", artifact="gap", outputs={"gap.json": file_sha256(gap)})
    append_record(tmp_path, "b")
    ok = run("verify-log", str(tmp_path))
    assert ok.exit_code == 0 and "anchored in the ledger" in ok.output and "each matches" in ok.output
    gap.write_text('{"blockers": [{"applies": false}]}\n')
    edited = CliRunner().invoke(main, ["verify-log", str(tmp_path)])
    assert edited.exit_code == 1 and "gap.json was changed after rescue wrote it" in edited.output
    log = tmp_path / "audit-log.jsonl"
    log.write_text(log.read_text().splitlines()[0] + "\n")  # the last record dropped: the chain is intact
    cut = run("verify-log", str(tmp_path))
    assert cut.exit_code == 2 and "line 2" in cut.output and "removed from its end" in cut.output


def test_sign_writes_an_audit_record(sample_project: Path, tmp_path: Path) -> None:
    from rescue.artifacts import write_artifact
    from rescue.auditlog import read_log
    from rescue.gap import build
    from rescue.spec import load_spec

    spec, out = load_spec(sample_project), tmp_path / "out"
    write_artifact(out, "gap", build(spec, out), spec)
    result = run("sign", str(sample_project), str(out), "gap", "--scope", "compliance", "--by", "Dana Okafor",
                 "--link", "https://wiki.example.com/c")  # fmt: skip
    assert result.exit_code == 0 and "signed: compliance" in result.output
    record = read_log(out)[-1]
    assert (record["event"], record["artifact"], record["scope"], record["by"]) == (
        "signoff", "gap", "compliance", "Dana Okafor",
    )  # fmt: skip
    assert run("verify-log", str(out)).exit_code == 0


def test_week_with_unknown_day_and_bad_parameter(sample_project: Path, tmp_path: Path) -> None:
    result = run("week", str(sample_project), "--out", str(tmp_path / "o"), "--days", "7")
    assert result.exit_code == 2 and "no workbook for day(s) [7]" in result.output
    result = run("week", str(sample_project), "--out", str(tmp_path / "o"), "-p", "interactive", "maybe")
    assert result.exit_code == 2 and "'interactive' must be true or false" in result.output
    result = run("week", str(sample_project), "--out", str(tmp_path / "o"), "--days", "one")
    assert result.exit_code == 2 and "day numbers" in result.output


def test_attest_and_checks_commands(sample_project: Path) -> None:
    listing = run("checks")
    assert "ownership.owner_named" in listing.output and "blocker" in listing.output
    result = run(
        "attest", str(sample_project), "rollback.plan", "--by", "Ada Example", "--link", "https://wiki.example.com/rb",
        "--date", "2026-11-02",
    )  # fmt: skip
    assert result.exit_code == 0 and "rollback.plan attested by Ada Example" in result.output
    bad = run("attest", str(sample_project), "rollback.plan", "--by", "Ada", "--link", "nope nope")
    assert bad.exit_code == 2 and "link" in bad.output
