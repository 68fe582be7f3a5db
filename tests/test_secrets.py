"""Secrets never reach what rescue writes — whole, as the token after its scheme, base64- or URL-encoded — and
what the audit writes is redacted, not refused, so the day still renders."""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml

from rescue.artifacts import write_artifact
from rescue.data.connect import open_source
from rescue.errors import SourceUnavailable, SpecError
from rescue.evals import build_eval_position
from rescue.spec import load_spec
from rescue.spec.secrets import redact, remember_secret, scrub_urls
from tests.conftest import copy_sample

TOKEN = "tok-5ecret-Echo-91aa77"


def forms(secret: str) -> list[str]:
    """The forms a leak takes: the token, its base64 (standard, URL-safe, unpadded) and URL-quoted forms."""
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("="),
            quote(f"Bearer {secret}", safe=""), quote_plus(f"Bearer {secret}")]  # fmt: skip


def test_redact_covers_the_token_after_its_scheme_and_its_encodings() -> None:
    remember_secret(f"Bearer {TOKEN}", "${POC_AUTH}")
    for leak in forms(TOKEN):
        assert redact(f"echo [{leak}] done") == "echo [${POC_AUTH}] done", leak
    assert redact("nothing secret here") == "nothing secret here"


def test_scrub_urls_reduces_a_url_to_scheme_host_and_path() -> None:
    text = (
        "could not connect to postgresql://dana:pw-Secret-1@db.internal:5432/crm?password=x&sslmode=require"
    )
    assert scrub_urls(text) == "could not connect to postgresql://db.internal:5432/crm"
    assert scrub_urls("GET https://u:p@api.example.com/v1/x?access_token=abc#f ok") == (
        "GET https://api.example.com/v1/x ok"
    )


class _Echo(BaseHTTPRequestHandler):
    """A PoC endpoint that echoes its bearer token back, plain and encoded, in every answer."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        token = self.headers.get("Authorization", "").split(" ", 1)[-1]
        body = json.dumps({"sentiment": "positive", "note": " | ".join(forms(token))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/classify"
    server.shutdown()


def test_an_echoed_token_is_redacted_in_the_artifact_and_the_ledger(
    tmp_path: Path, echo_url: str, monkeypatch
) -> None:
    monkeypatch.setenv("POC_AUTH", f"Bearer {TOKEN}")
    project = copy_sample(tmp_path)
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data["poc"] = {"kind": "http", "url": echo_url, "headers": {"Authorization": "${POC_AUTH}"}, "concurrency": 8,
                   "request": {"text": "{text}"}}  # fmt: skip
    data["integration"] = []
    (project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(project)
    out = tmp_path / "out"
    position = build_eval_position(spec, out, progress=False)
    path = write_artifact(out, "eval_position", position, spec)  # redacted, not refused: the day renders
    assert position["scores"]["accuracy"]["value"] is not None
    for written in (path, out / "ledger.sqlite", out / "audit-log.jsonl"):
        content = written.read_bytes()
        for leak in forms(TOKEN):
            assert leak.encode() not in content, (written.name, leak)
    assert b"${POC_AUTH}" in (out / "ledger.sqlite").read_bytes()  # the echo is kept, as its reference


def test_a_long_dsn_that_fails_leaves_no_part_of_its_password(tmp_path: Path, monkeypatch) -> None:
    password = "pw-" + "Z" * 400  # longer than any cut: no prefix of it may stay
    monkeypatch.setenv("CRM_DSN", f"postgresql://dana:{password}@127.0.0.1:9/crm?application_name=x")
    project = copy_sample(tmp_path)
    data = yaml.safe_load((project / "rescue.yaml").read_text())
    data["sources"] = [
        {"name": "pg", "kind": "postgres", "dsn": "${CRM_DSN}", "table": "feedback", "timeout_s": 2}
    ]
    (project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(project)
    with pytest.raises(SourceUnavailable) as info:
        open_source(spec, spec.sources[0])
    assert "ZZZZZZ" not in str(info.value) and "pw-" not in str(info.value)


@pytest.mark.parametrize(
    "location",
    [
        "http://user:pw@example.com/export.json",
        "https://example.com/export.json?access_token=abc123",
        "https://example.com/export.json?api_key=abc123",
    ],
)
def test_an_http_source_url_with_credentials_is_refused(
    sample_project: Path, sample_spec_data, location: str
) -> None:
    data = copy.deepcopy(sample_spec_data)
    data["sources"].append({"name": "api", "kind": "http", "location": location})
    (sample_project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(SpecError) as info:
        load_spec(sample_project)
    assert "a URL without credentials" in str(info.value) and "abc123" not in str(info.value)
    assert "pw@" not in str(info.value)
