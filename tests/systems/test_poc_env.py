"""``poc.env``: the PoC's environment from rescue.yaml — literal text or ``${VAR}`` from rescue's environment, a
credential-like name only as a reference, secrets redacted, in the worker processes and in a thread, in the config
hash only where it is behaviour — and ``poc.serve`` for python and notebook PoCs."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from rescue.errors import SecretUnavailable, SpecError
from rescue.hashing import file_sha256
from rescue.spec import load_spec
from rescue.spec.secrets import EnvRef, known_secrets, redact
from rescue.systems import make_poc_adapter
from rescue.systems.base import behaviour, config_hash
from rescue.systems.function import poc_env, process_env
from rescue.systems.serve import _SERVED, _stop
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
SDK_STUB = REPO / "sample_data" / "review-sentiment-sdk" / "stub"

# the PoC reports the variables it sees (never do this with a real key: it is only for the test)
ENV_POC = """
import os

SEEN_AT_SETUP = {name: os.environ.get(name) for name in ("BASE_URL", "PROXY", "API_TOKEN")}


def classify(text):
    names = ("BASE_URL", "PROXY", "API_TOKEN", "http_proxy", "HTTP_PROXY", "FROM_RESCUE")
    return {"call": {name: os.environ.get(name) for name in names}, "setup": SEEN_AT_SETUP}
"""


def _project(folder: Path, env: dict[str, Any], source: str = ENV_POC, **poc: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "poc.py").write_text(textwrap.dedent(source), encoding="utf-8")
    spec = {"project": "env", "use_case": "test",
            "poc": {"kind": "python", "path": "poc.py", "function": "classify", "env": env, **poc}}  # fmt: skip
    (folder / "rescue.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return folder


def _issues(folder: Path) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        load_spec(folder)
    return {issue.path: f"{issue.value!r} -> {issue.expected}" for issue in caught.value.issues}


def test_a_literal_credential_is_a_spec_error_naming_the_field(tmp_path: Path) -> None:
    issues = _issues(_project(tmp_path, {"OPENAI_API_KEY": "sk-live-literal-123456", "DB_PASSWORD": "hunter22",
                                         "HTTP_PROXY": "http://user:pw@proxy.internal:3128"}))  # fmt: skip
    assert set(issues) == {"poc.env.OPENAI_API_KEY", "poc.env.DB_PASSWORD", "poc.env.HTTP_PROXY"}
    assert "a ${VAR} reference" in issues["poc.env.OPENAI_API_KEY"]
    assert "${OPENAI_API_KEY}" in issues["poc.env.OPENAI_API_KEY"]  # what to write instead
    assert "a URL without credentials" in issues["poc.env.HTTP_PROXY"]
    for shown in issues.values():  # the values are never echoed
        assert "sk-live-literal" not in shown and "hunter22" not in shown and "user:pw" not in shown


def test_env_values_that_are_not_what_they_should_be(tmp_path: Path) -> None:
    issues = _issues(
        _project(tmp_path / "a", {"FLAG": True, "HALF": "x${Y}", "PROXY": "http://127.0.0.1:{port}"})
    )
    assert set(issues) == {"poc.env.FLAG", "poc.env.HALF"}  # pydantic's: the {port} rule runs after these
    assert "quote numbers and true/false" in issues["poc.env.FLAG"]
    assert "a whole ${VAR}" in issues["poc.env.HALF"]
    issues = _issues(_project(tmp_path / "b", {"PROXY": "http://127.0.0.1:{port}"}))
    assert (
        set(issues) == {"poc.url"} and "a URL with a port when poc.env.PROXY uses {port}" in issues["poc.url"]
    )
    # env belongs to the PoC's own processes: an endpoint rescue calls itself has none
    folder = tmp_path / "c"
    folder.mkdir()
    spec = {"project": "env", "use_case": "test",
            "poc": {"kind": "openai", "url": "http://127.0.0.1:9/v1", "model": "m", "env": {"A": "b"}}}  # fmt: skip
    (folder / "rescue.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert "no env when poc.kind is openai" in _issues(folder)["poc.env"]


def test_references_are_secrets_and_literals_fill_port_and_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENV_TEST_TOKEN_VALUE", "tok-Pl4nted-env-8d21f0")
    spec = load_spec(_project(tmp_path, {"API_TOKEN": "${ENV_TEST_TOKEN_VALUE}", "PROXY": "http://127.0.0.1:{port}",
                                         "BASE_URL": "{url}", "OTHER_KEY": "${ENV_TEST_UNSET_VAR:-local-dummy}"},
                              url="http://127.0.0.1:8123/v1"))  # fmt: skip
    refs = spec.secret_refs()
    assert set(refs) == {"poc.env.API_TOKEN", "poc.env.OTHER_KEY"}
    assert (
        isinstance(refs["poc.env.OTHER_KEY"], EnvRef)
        and str(refs["poc.env.OTHER_KEY"]) == "${ENV_TEST_UNSET_VAR}"
    )
    env = poc_env(spec, spec.poc)
    assert env == {"API_TOKEN": "tok-Pl4nted-env-8d21f0", "PROXY": "http://127.0.0.1:8123",
                   "BASE_URL": "http://127.0.0.1:8123/v1", "OTHER_KEY": "local-dummy"}  # fmt: skip
    # the value read from the environment is redacted from whatever rescue writes; the fallback is no secret
    assert redact("sent Bearer tok-Pl4nted-env-8d21f0") == "sent Bearer ${ENV_TEST_TOKEN_VALUE}"
    assert "local-dummy" not in known_secrets()
    # a variable named in poc.env replaces the inherited one whatever its case (proxies are read in either)
    merged = process_env(spec, spec.poc, {"proxy": "http://old:1", "KEEP": "1", "api_token": "stale"})
    assert merged["KEEP"] == "1" and "proxy" not in merged and "api_token" not in merged
    monkeypatch.delenv("ENV_TEST_TOKEN_VALUE")
    with pytest.raises(
        SecretUnavailable, match=r"ENV_TEST_TOKEN_VALUE is not set \(used by poc.env.API_TOKEN\)"
    ):
        poc_env(spec, spec.poc)


@pytest.mark.parametrize("isolation", ["process", "thread"])
def test_the_poc_sees_its_env_at_setup_and_in_each_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolation: str
) -> None:
    monkeypatch.setenv("ENV_TEST_API_TOKEN", "tok-worker-5e7a1c9b")
    monkeypatch.setenv("FROM_RESCUE", "inherited")
    monkeypatch.setenv(
        "http_proxy", "http://corporate-proxy.invalid:8080"
    )  # replaced by poc.env's HTTP_PROXY
    env = {"BASE_URL": "http://eu.example-llm.com/v1", "PROXY": "http://127.0.0.1:{port}",
           "API_TOKEN": "${ENV_TEST_API_TOKEN}", "HTTP_PROXY": "http://127.0.0.1:{port}"}  # fmt: skip
    spec = load_spec(_project(tmp_path, env, url="http://127.0.0.1:3128", isolation=isolation, concurrency=1))
    adapter = make_poc_adapter(spec)
    try:
        output = adapter.call({"item_id": "1", "text": "x"}).output
    finally:
        assert adapter.close is not None
        adapter.close()
    seen = {"BASE_URL": "http://eu.example-llm.com/v1", "PROXY": "http://127.0.0.1:3128",
            "API_TOKEN": "tok-worker-5e7a1c9b"}  # fmt: skip
    assert output["setup"] == seen  # a module-level client reads them when the setup runs
    assert {k: output["call"][k] for k in seen} == seen
    assert output["call"]["FROM_RESCUE"] == "inherited"  # rescue's environment is the base
    assert output["call"]["HTTP_PROXY"] == "http://127.0.0.1:3128"
    assert output["call"]["http_proxy"] is None  # the inherited one in the other case is dropped
    if (
        isolation == "thread"
    ):  # the PoC shares rescue's environment: set while the adapter was open, then put back
        assert "BASE_URL" not in os.environ and "HTTP_PROXY" not in os.environ
        assert os.environ["http_proxy"] == "http://corporate-proxy.invalid:8080"


def test_what_the_poc_is_told_is_behaviour_which_variable_holds_its_key_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENV_TEST_KEY_A", "key-a-123456")
    monkeypatch.setenv("ENV_TEST_KEY_B", "key-b-654321")

    def config(env: dict[str, Any], name: str) -> str:
        return make_poc_adapter(load_spec(_project(tmp_path / name, env, isolation="thread"))).config

    base = config({"BASE_URL": "http://eu.example-llm.com/v1", "API_TOKEN": "${ENV_TEST_KEY_A}"}, "a")
    assert config({"BASE_URL": "http://eu.example-llm.com/v1", "API_TOKEN": "${ENV_TEST_KEY_B}"}, "b") == base
    assert config({"BASE_URL": "http://us.example-llm.com/v1", "API_TOKEN": "${ENV_TEST_KEY_A}"}, "c") != base
    # no env: the config of a PoC is what it was before poc.env existed (its ledger's answers still count)
    spec = load_spec(_project(tmp_path / "d", {}, isolation="thread"))
    assert make_poc_adapter(spec).config == config_hash(behaviour(spec.poc), file_sha256(spec.path("poc.py")))


SERVED_POC = """
import json
import os
import urllib.request


def classify(text):
    request = urllib.request.Request(
        os.environ["STUB_MODELS"], headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return {"models": [m["id"] for m in json.load(response)["data"]]}
"""


def test_serve_starts_a_python_pocs_endpoint_before_its_workers(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    project = _project(tmp_path, {"STUB_MODELS": "{url}/models", "OPENAI_API_KEY": "${ENV_TEST_NEVER_SET:-dummy}"},
                       SERVED_POC, url=url, model="gpt-4o-mini", concurrency=1,
                       serve=[sys.executable, str(SDK_STUB / "stub_server.py"), "--port", "{port}"])  # fmt: skip
    adapter = make_poc_adapter(load_spec(project))
    try:
        assert adapter.call({"item_id": "1", "text": "x"}).output == {
            "models": ["gpt-4o-mini", "gpt-4o-mini-2024-07-18"]
        }
    finally:
        assert adapter.close is not None
        adapter.close()
        process = _SERVED.pop(url, None)
        if process is not None:
            _stop(process)
    assert process is not None  # rescue started the stub (and stops it at exit)
