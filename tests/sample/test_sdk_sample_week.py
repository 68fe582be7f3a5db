"""The review-sentiment-sdk sample: a contractor's notebook PoC on the official ``openai`` SDK, audited as it is.

The fast tests check the sample itself (the notebook rule runs exactly its setup, the stub plays the EU endpoint
and the egress proxy, the committed files are what ``scripts/build_sdk_sample.py`` builds). The slow ones run the
whole week once, on a copy whose stub requires a planted key and logs every request it gets (hashes, no texts).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib.util
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from rescue.artifacts import read_artifact
from rescue.spec import load_spec
from rescue.systems.function import poc_env
from rescue.systems.notebook import notebook_setup
from rescue.week import DAYS, run_week
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data" / "review-sentiment-sdk"
NOTEBOOK = SAMPLE / "poc" / "sentiment_poc.ipynb"
DATASET = REPO.parent / "shared" / "data" / "drug-reviews"
KEY_ENV = "SDK_SAMPLE_API_KEY"
PLANTED_KEY = "sk-proj-Pl4nted-sdk-week-2b9e71c4d0"
LLM_HOST, TELEMETRY_HOST = "eu.example-llm.com", "telemetry.example-analytics.io"


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


stub = _load("review_sentiment_stub_for_tests", SAMPLE / "stub" / "stub_server.py")
build = _load("build_sdk_sample_for_tests", REPO / "scripts" / "build_sdk_sample.py")


def _source_texts() -> dict[str, str]:
    with contextlib.closing(
        sqlite3.connect(f"file:{SAMPLE / 'sources' / 'reviews.sqlite'}?mode=ro", uri=True)
    ) as c:
        return {str(i): text for i, text in c.execute("SELECT review_id, review FROM reviews")}


def _planted() -> dict[str, list[str]]:
    """The contact details planted in the reviews, found in the source as it is (not taken from the build)."""
    texts = list(_source_texts().values())
    return {
        "email": sorted({m for t in texts for m in re.findall(r"[a-z]+\.\d+@example\.org", t)}),
        "phone": sorted({m for t in texts for m in re.findall(r"\+44 20 7946 0\d{3}", t)}),
    }


def _demo_texts() -> list[str]:
    with (SAMPLE / "demo.csv").open(encoding="utf-8", newline="") as f:
        return [row["text"] for row in csv.DictReader(f)]


# --- the sample itself (fast) ----------------------------------------------------------------------------


def test_the_notebook_rule_runs_exactly_the_setup() -> None:
    setup = notebook_setup(NOTEBOOK, "classify")
    ran = dict(setup.cells)
    assert sorted(ran) == [
        3,
        4,
        5,
        6,
        8,
        11,
    ]  # imports, client + prompt, few-shot index, functions, demo.csv, plt
    assert "client = OpenAI()" in ran[4] and "telemetry = httpx.Client(timeout=2)" in ran[4]
    assert "!! Answer with JSON only" in ran[4] and "% rule of thumb: a review that is 50% praise" in ran[4]
    assert "for row in examples.itertuples():" in ran[5]  # a loop that builds the index runs
    assert "def classify(text: str) -> dict:" in ran[6]
    assert all(
        "print(" not in code and "classify(" not in code.replace("def classify(", "") for code in ran.values()
    )
    skipped = {(s.cell, s.statement.split("(")[0].split(" =")[0]): s.why for s in setup.skipped}
    assert skipped[(9, "predictions")] == "calls classify(), the entry function"
    assert skipped[(10, "classify")] == "calls classify(), the entry function"
    assert "reads predictions" in skipped[(9, "pd.DataFrame")]  # the demo's output file is never written
    assert "reads predictions" in skipped[(11, "pd.Series")] and skipped[(11, "plt.show")].startswith("only")


def test_the_sample_needs_no_variable_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without SDK_SAMPLE_API_KEY the stub's dummy key (written in the spec: no secret) is sent; the rest is text."""
    monkeypatch.delenv(KEY_ENV, raising=False)
    spec = load_spec(SAMPLE)
    assert poc_env(spec, spec.poc) == {"OPENAI_BASE_URL": f"http://{LLM_HOST}/v1", "HTTP_PROXY": "http://127.0.0.1:8771",
                                       "NO_PROXY": "", "OPENAI_API_KEY": "sk-local-stub-not-a-secret"}  # fmt: skip
    assert spec.secret_refs()["poc.env.OPENAI_API_KEY"].is_set()  # the gap's credentials check passes


@pytest.fixture(scope="module")
def served_stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The stub on a free port, requiring a key, with its request log: (proxy URL, log)."""
    log = tmp_path_factory.mktemp("stub") / "requests.jsonl"
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "STUB_TEST_KEY": "sk-stub-test-key"}
    process = subprocess.Popen([sys.executable, str(SAMPLE / "stub" / "stub_server.py"), "--port", str(port),
                                "--api-key-env", "STUB_TEST_KEY", "--request-log", str(log)], cwd=SAMPLE, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
                break
            assert time.monotonic() < deadline and process.poll() is None, "the stub did not start"
            time.sleep(0.05)
        log.write_text("")  # the readiness probe's request is not the test's
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        process.wait(5)


def test_the_stub_plays_the_eu_endpoint_and_the_egress_proxy(served_stub: tuple[str, Path]) -> None:
    proxy, log = served_stub
    key = {"Authorization": "Bearer sk-stub-test-key"}
    review = "Best one out there."
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": review}]}
    with httpx.Client(
        proxy=proxy, timeout=5
    ) as client:  # as the PoC's SDK sends it: absolute form, via the proxy
        answer = client.post(f"http://{LLM_HOST}/v1/chat/completions", json=body, headers=key)
        assert answer.status_code == 200
        reply = answer.json()
        assert json.loads(reply["choices"][0]["message"]["content"]) == {"sentiment": "positive"}
        assert reply["model"] == "gpt-4o-mini-2024-07-18" and reply["usage"]["completion_tokens"] > 0
        assert client.post(f"http://{TELEMETRY_HOST}/collect", json={"event": "x"}).status_code == 204
        assert (
            client.post("http://api.openai.com/v1/chat/completions", json=body, headers=key).status_code
            == 502
        )
        assert client.post(f"http://{LLM_HOST}/v1/chat/completions", json=body).status_code == 401  # no key
    with httpx.Client(proxy=proxy, timeout=5) as client, pytest.raises(httpx.ProxyError):
        client.get(f"https://{LLM_HOST}/v1/models")  # CONNECT: plain http only
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["host"], r["status"]) for r in records] == [
        (LLM_HOST, 200), (TELEMETRY_HOST, 204), ("api.openai.com", 502), (LLM_HOST, 401), (LLM_HOST, 405)]  # fmt: skip
    assert records[0]["text_sha256"] == hashlib.sha256(review.encode()).hexdigest()
    assert review not in log.read_text()  # the log holds hashes, never texts


def test_the_stub_is_a_stalled_pocs_model_on_the_labels() -> None:
    """Its quality and failures are fixed by hashes: a macro-F1 in 0.6-0.8, ~2.5% HTTP 500s, ~4% one-off 429s."""
    texts = _source_texts()
    with (SAMPLE / "labels.csv").open(encoding="utf-8", newline="") as f:
        labels = {row["item_id"]: row["sentiment"] for row in csv.DictReader(f)}
    assert set(labels) == set(texts) and len(labels) == 600
    lexicon = stub.load_lexicon()
    ids = sorted(labels)
    macro_f1 = build.stub_macro_f1(stub, lexicon, [texts[i] for i in ids], [labels[i] for i in ids])
    assert 0.6 <= macro_f1 <= 0.8
    modes = Counter(stub.failure_mode(texts[i]) for i in ids)
    assert modes["error"] == 16 and modes["rate_limit"] == 24
    assert all(stub.sentiment(lexicon, t) == e for t, e in zip(_demo_texts(), ["positive"] * 3 + ["negative"] * 2,
                                                                  strict=True))  # fmt: skip


@pytest.mark.skipif(not DATASET.is_dir(), reason="the Drugs.com dataset is not in ../shared/data")
def test_the_committed_sample_is_what_the_build_script_builds(tmp_path: Path) -> None:
    figures = build.build(DATASET, tmp_path)
    assert figures["n_email"] == len(_planted()["email"]) == 24 and figures["n_phone"] == len(
        _planted()["phone"]
    )
    for name in ("labels.csv", "demo.csv", "PROVENANCE.md", "poc/examples.csv", "poc/sentiment_poc.ipynb",
                 "stub/lexicon.json"):  # fmt: skip
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name

    def rows(path: Path) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(path)) as c:
            return c.execute("SELECT * FROM reviews ORDER BY review_id").fetchall()

    assert rows(tmp_path / "sources" / "reviews.sqlite") == rows(SAMPLE / "sources" / "reviews.sqlite")


# --- the week (slow: once per module) --------------------------------------------------------------------


@dataclass
class Week:
    project: Path
    out: Path
    log: Path
    seconds: float

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Week:
    """The whole week on a copy of the sample: the stub on a free port requires the planted key (so the key the
    spec reads from the environment is the one the SDK sent) and logs every request."""
    base = tmp_path_factory.mktemp("sdk-week")
    project = base / "review-sentiment-sdk"
    shutil.copytree(SAMPLE, project)
    log = base / "stub-requests.jsonl"
    spec_file = project / "rescue.yaml"
    text = spec_file.read_text(encoding="utf-8").replace("8771", str(free_port()))
    serve = 'serve: [python, stub/stub_server.py, --port, "{port}"]'
    assert serve in text
    text = text.replace(serve, f'serve: [python, stub/stub_server.py, --port, "{{port}}", --api-key-env, {KEY_ENV}, '
                        f"--request-log, '{log}']")  # fmt: skip
    spec_file.write_text(text, encoding="utf-8")
    out = base / "out"
    with pytest.MonkeyPatch.context() as env:
        env.setenv(KEY_ENV, PLANTED_KEY)
        started = time.perf_counter()
        pages = run_week(project, out, progress=False)
        seconds = time.perf_counter() - started
    assert [p.name for p in pages] == [f"{d.artifact}.html" for d in DAYS]
    print(f"\nthe review-sentiment-sdk week took {seconds:.1f} s")
    return Week(project, out, log, seconds)


@pytest.mark.slow
def test_the_notebook_runs_unchanged_in_worker_processes_and_its_demo_never(week: Week) -> None:
    position = read_artifact(week.out, "eval_position")
    assert position["systems"]["poc"]["kind"] == "notebook" and position["n_items"] == 600
    assert position["ledger"]["calls"] == 600 + 5 + 600  # the PoC on production and on the demo; the baseline
    texts = _source_texts()
    # the only failures are the stub's HTTP 500s (the SDK retried them, then raised): no NameError, no setup gap
    failing = sum(stub.failure_mode(t) == "error" for t in texts.values())
    assert position["errors"]["total"] == failing == 16
    assert [m["message"].split(":")[0] for m in position["errors"]["top_messages"]] == ["InternalServerError"]
    requests = week.requests()
    llm = [r for r in requests if r["path"] == "/v1/chat/completions"]
    # every call went the way poc.env told the PoC: through the proxy, to the EU host, with the planted key
    assert {r["host"] for r in llm} == {LLM_HOST} and not [r for r in llm if r["status"] == 401]
    sent = Counter(r["text_sha256"] for r in llm)
    production = {stub.text_sha256(t) for t in texts.values()}
    assert production <= set(sent)
    # the demo cells never ran: the five demo reviews were sent once each (Day 4 scores them), by rescue, not
    # once more per worker by the notebook's demo loop; the one-off demo cell's review never; no demo file
    demo = [stub.text_sha256(t) for t in _demo_texts()]
    assert [sent[h] for h in demo] == [1] * 5
    assert stub.text_sha256(build.DEMO_ONE_TEXT) not in sent
    assert set(sent) == production | set(demo)
    assert not (week.project / "poc" / build.DEMO_MARKER).exists()
    assert position["demo_vs_production"]["accuracy"]["value"] == 1.0  # the sales artifact, measured
    assert position["demo_vs_production"]["gap"] > 0.2


@pytest.mark.slow
def test_day4_scores_and_prices_the_poc(week: Week) -> None:
    position = read_artifact(week.out, "eval_position")
    f1 = position["scores"]["macro_f1"]
    assert 0.55 < f1["low"] < f1["value"] < f1["high"] < 0.8
    cost = position["cost"]
    assert cost["price"]["model"] == "gpt-4o-mini" and cost["price"]["source"].startswith("genai-prices")
    assert 0 < cost["per_call_eur"] < 0.001 and cost["meets_target"] is True
    assert position["latency"]["meets_target"] is True
    assert [r["field"] for r in position["slices"]["rows"]] == ["condition_group"] * 5
    gap = {c["id"]: c for c in read_artifact(week.out, "gap")["checks"]}
    assert gap["eval.meets_quality_target"]["status"] == "fail"
    assert gap["security.credentials_available"]["status"] == "pass"


@pytest.mark.slow
def test_personal_data_is_counted_per_kind_and_the_key_is_nowhere(week: Week) -> None:
    planted = _planted()
    picture = read_artifact(week.out, "data_picture")
    review = next(s for s in picture["sources"] if s["name"] == "reviews")["pii"]["review"]
    assert (review["email"], review["phone"]) == (len(planted["email"]), len(planted["phone"])) == (24, 12)
    # Day 3's exports of the labeled set hold the sampled texts as they are: left out here, and in the test below
    exports = {"eval_set.csv", "eval_set.parquet", "eval_sample.csv"}
    for f in week.out.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert PLANTED_KEY.encode() not in data and b"Pl4nted-sdk-week" not in data, f
            if f.name not in exports:
                assert not [v for v in planted["email"] + planted["phone"] if v.encode() in data], f


# --- what the span capture adds -----------------------------------------------------------------------------


@pytest.mark.slow
def test_tokens_come_from_the_providers_responses(week: Week) -> None:
    position = read_artifact(week.out, "eval_position")
    assert "tokens the provider's HTTP responses reported" in position["cost"]["basis"]
    tokens = position["network"]["requests"]["tokens"]
    lexicon = stub.load_lexicon()
    answered = [t for t in _source_texts().values() if stub.failure_mode(t) != "error"]
    completions = [json.dumps({"sentiment": stub.sentiment(lexicon, t)}) for t in answered]
    assert tokens["requests_reporting"] == len(answered) == 600 - 16
    assert tokens["output"] == sum(stub.tokens(len(c)) for c in completions)  # what the stub's usage said
    assert tokens["input"] > 20 * tokens["output"]  # the system prompt and the few-shot examples, every call


@pytest.mark.slow
def test_destinations_are_the_eu_endpoint_and_the_undeclared_telemetry_host(week: Week) -> None:
    network = read_artifact(week.out, "eval_position")["network"]
    hosts = {d["host"]: d for d in network["destinations"]}
    assert hosts[LLM_HOST]["provider"] == "example-llm-eu" and hosts[LLM_HOST]["allowed"] is True
    assert hosts[LLM_HOST]["items"] == 600
    assert hosts[TELEMETRY_HOST]["provider"] is None and hosts[TELEMETRY_HOST]["items"] == 600 - 16
    assert network["undeclared"] == [f"{TELEMETRY_HOST}:80"]
    sent = hosts[LLM_HOST]["personal_data_sent"]  # the planted contact details, counted, never shown
    assert sent.get("email", 0) >= 24 and sent.get("phone", 0) >= 12
    check = {c["id"]: c for c in read_artifact(week.out, "gap")["checks"]}["compliance.observed_destinations"]
    assert (
        check["status"] == "fail"
        and TELEMETRY_HOST in check["evidence"]
        and LLM_HOST not in check["evidence"]
    )


@pytest.mark.slow
def test_provider_requests_per_item(week: Week) -> None:
    """One completion and one telemetry ping per answered item; a 429 adds the SDK's retry; a 500 is three
    attempts and no ping."""
    texts = list(_source_texts().values())
    modes = Counter(stub.failure_mode(t) for t in texts)
    requests = read_artifact(week.out, "eval_position")["network"]["requests"]
    assert requests["per_call_counts"] == {"2": modes[None], "3": modes["rate_limit"] + modes["error"]}
    assert (
        requests["statuses"]["429"] == modes["rate_limit"]
        and requests["statuses"]["500"] == 3 * modes["error"]
    )
