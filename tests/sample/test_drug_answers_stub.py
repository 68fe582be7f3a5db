"""The drug-answers sample's OpenAI-compatible stub (poc/stub_server.py) and its reproducible build."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib.util
import json
import math
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.postgres_server import free_port

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "sample_data" / "drug-answers"
STUB = PROJECT / "poc" / "stub_server.py"
BUILD = REPO / "scripts" / "build_rag_sample.py"
DATASET = REPO.parent / "shared" / "data" / "drug-reviews"
KEY_ENV = "DRUG_ANSWERS_STUB_TEST_KEY"
KEY = "sk-test-drug-answers"


def load_stub() -> ModuleType:
    spec = importlib.util.spec_from_file_location("drug_answers_stub_for_tests", STUB)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


stub = load_stub()


def read_csv(name: str) -> list[dict[str, str]]:
    with (PROJECT / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


QUESTIONS = read_csv("questions.csv")
CORPUS = stub.load_corpus(PROJECT / "sources" / "reviews.sqlite")


@contextlib.contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run the stub on a free loopback port; yield its base URL (``.../v1``)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(STUB), "--port", str(port), *args],
        cwd=PROJECT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/models", timeout=0.5).status_code < 500:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"stub did not start: {process.stderr.read().decode() if process.stderr else ''}"
                )
            time.sleep(0.02)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve("--api-key-env", KEY_ENV, env={KEY_ENV: KEY}) as url:
        yield url


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {KEY}"}, timeout=5) as http:
        yield http


def chat(client: httpx.Client, model: str, content: str) -> httpx.Response:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "temperature": 0,
        "max_tokens": 300,
    }
    return client.post("/chat/completions", json=body)


def question_with(failure: str | None, *, refused: bool | None = None) -> dict[str, str]:
    for row in QUESTIONS:
        answer = stub.rag_answer(CORPUS, row["text"])
        if stub.failure_mode(row["text"]) == failure and (
            refused is None or refused == (not answer["documents"])
        ):
            return row
    raise AssertionError(f"no question with failure {failure}")


def test_models_listed(client: httpx.Client) -> None:
    response = client.get("/models")
    assert response.status_code == 200
    assert {model["id"] for model in response.json()["data"]} == {"rag-poc-v0", "no-rag-baseline", "judge-v0"}


def test_rag_answer_cites_reviews_of_the_corpus_and_counts_tokens(client: httpx.Client) -> None:
    row = question_with(None, refused=False)
    response = chat(client, "rag-poc-v0", row["text"] + "  \n")
    assert response.status_code == 200
    document = response.json()
    assert document["object"] == "chat.completion" and document["created"] == 0
    choice = document["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    output = json.loads(choice["message"]["content"])
    assert row["drug"] in output["answer"] and 1 <= len(output["documents"]) <= 3
    with contextlib.closing(sqlite3.connect(PROJECT / "sources" / "reviews.sqlite")) as db:
        ids = {review_id for (review_id,) in db.execute("SELECT review_id FROM reviews")}
    assert set(output["documents"]) <= ids
    usage = document["usage"]
    assert usage["prompt_tokens"] == math.ceil(len(row["text"] + "  \n") / 4)
    assert usage["completion_tokens"] == math.ceil(len(choice["message"]["content"]) / 4)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_graded_answers_are_what_the_server_answers(client: httpx.Client) -> None:
    grades = read_csv("grades.csv")
    assert {g["criterion"] for g in grades} == {"answers_question", "grounded", "faithful"}
    by_item: dict[str, list[str]] = {}
    for g in grades:
        by_item.setdefault(g["item_id"], []).append(g["criterion"])
    assert len(by_item) == 60 and all(sorted(c) == sorted(set(c)) and len(c) == 3 for c in by_item.values())
    faithful = [g["grade"] for g in grades if g["criterion"] == "faithful"]
    assert faithful.count("pass") >= 5 and faithful.count("fail") >= 5  # enough to calibrate a judge
    assert {g["labeler"] for g in grades} == {"rule:gold-relevance"}
    assert all("not a person" in g["label_origin"] for g in grades)
    texts = {row["item_id"]: row["text"] for row in QUESTIONS}
    item = next(g["item_id"] for g in grades if stub.failure_mode(texts[g["item_id"]]) is None)
    answer = json.loads(chat(client, "rag-poc-v0", texts[item]).json()["choices"][0]["message"]["content"])
    graded = json.dumps([texts[item], answer["answer"], answer["documents"]], ensure_ascii=False)
    assert {g["graded_sha256"] for g in grades if g["item_id"] == item} == {
        hashlib.sha256(graded.encode()).hexdigest()
    }


def hallucinated_question() -> tuple[dict[str, str], dict[str, object]]:
    for row in QUESTIONS:
        answer = stub.rag_answer(CORPUS, row["text"])
        if stub.failure_mode(row["text"]) is None and answer["documents"] and stub.hallucinates(row["text"]):
            return row, answer
    raise AssertionError("no hallucinated answer")


def test_a_hallucinated_quote_is_from_a_review_it_does_not_cite(client: httpx.Client) -> None:
    row, expected = hallucinated_question()
    output = json.loads(chat(client, "rag-poc-v0", row["text"]).json()["choices"][0]["message"]["content"])
    assert output == expected and row["drug"] in output["answer"]
    quote = stub.quoted(output["answer"])
    assert quote and " of " in output["answer"]
    cited = [stub.normalised(CORPUS.by_id[review_id].text) for review_id in output["documents"]]
    assert not any(quote in text for text in cited)
    sources = [r for r in CORPUS.reviews if quote in stub.normalised(r.text)]
    assert sources and all(r.review_id not in output["documents"] for r in sources)
    assert all(r.drug != CORPUS.by_id[output["documents"][0]].drug for r in sources)
    # the rule grades it unfaithful
    grades = read_csv("grades.csv")
    item = row["item_id"]
    if any(g["item_id"] == item for g in grades):
        assert (
            next(g["grade"] for g in grades if g["item_id"] == item and g["criterion"] == "faithful")
            == "fail"
        )


def test_hallucinations_are_about_a_tenth_and_spare_the_demo() -> None:
    answered = [
        row["text"]
        for row in QUESTIONS
        if stub.failure_mode(row["text"]) != "error" and stub.rag_answer(CORPUS, row["text"])["documents"]
    ]
    share = sum(stub.hallucinates(text) for text in answered) / len(answered)
    assert 0.07 <= share <= 0.14
    demo = [row["text"] for row in read_csv("demo.csv")]
    assert len(demo) == 5 and not any(stub.hallucinates(text) for text in demo)
    for text in demo:  # the demo answers quote their first cited review
        answer = stub.rag_answer(CORPUS, text)
        quote = stub.quoted(answer["answer"])
        assert quote and quote in stub.normalised(CORPUS.by_id[answer["documents"][0]].text)


def test_combination_product_is_refused(client: httpx.Client) -> None:
    row = question_with(None, refused=True)
    assert " / " in row["drug"]
    output = json.loads(chat(client, "rag-poc-v0", row["text"]).json()["choices"][0]["message"]["content"])
    assert output == {
        "answer": f"I could not find reviews about {row['drug'].split(' / ')[0]}.",
        "documents": [],
    }


def test_rate_limited_once_then_answered(client: httpx.Client) -> None:
    row = question_with("rate_limit")
    first = chat(client, "rag-poc-v0", row["text"])
    assert first.status_code == 429 and first.headers["Retry-After"] == "0"
    assert first.json()["error"]["code"] == "rate_limit_exceeded"
    assert chat(client, "rag-poc-v0", row["text"]).status_code == 200


def test_error_question_always_fails(client: httpx.Client) -> None:
    row = question_with("error")
    for _ in range(2):
        response = chat(client, "rag-poc-v0", row["text"])
        assert response.status_code == 500 and response.json()["error"]["type"] == "server_error"
    assert chat(client, "no-rag-baseline", row["text"]).status_code == 200  # the baseline never fails


def test_baseline_answers_without_documents(client: httpx.Client) -> None:
    row = QUESTIONS[0]
    output = json.loads(
        chat(client, "no-rag-baseline", row["text"]).json()["choices"][0]["message"]["content"]
    )
    assert output["documents"] == [] and row["drug"] in output["answer"] and "mixed" in output["answer"]


def test_unknown_model_is_404(client: httpx.Client) -> None:
    response = chat(client, "gpt-nonexistent", "hello")
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"


def test_api_key_is_enforced(server: str) -> None:
    body = {"model": "no-rag-baseline", "messages": [{"role": "user", "content": QUESTIONS[0]["text"]}]}
    assert httpx.get(f"{server}/models").status_code == 401
    refused = httpx.post(f"{server}/chat/completions", json=body)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    wrong = httpx.post(f"{server}/chat/completions", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = httpx.post(f"{server}/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200


def judge_prompt(criterion: str, question: str, context: list[str], answer: str) -> str:
    parts = [
        f"### Criterion\n{criterion}: does it hold?",
        "### Scale\npass/fail",
        f"### Question\n{question}",
    ]
    if context:
        parts.append("### Retrieved context\n" + "\n".join(context))
    parts += [f"### Answer\n{answer}", "### Reference answer\nsomething", "### Reply"]
    parts.append('Reply with JSON only: {"verdict": "pass" or "fail", "reason": "<one sentence>"}')
    return "\n".join(parts)


def test_judge_replies_with_a_verdict(client: httpx.Client) -> None:
    question = QUESTIONS[0]["text"]
    prompts = [
        judge_prompt(
            "answers_question", question, ["[1] text"], f"Patients taking {QUESTIONS[0]['drug']} ..."
        ),
        judge_prompt("grounded", question, [], "I could not find reviews about it."),
        judge_prompt("tone", question, [], "anything"),
        "no sections at all",
    ]
    for prompt in prompts:
        verdict = json.loads(chat(client, "judge-v0", prompt).json()["choices"][0]["message"]["content"])
        assert set(verdict) == {"verdict", "reason"} and verdict["verdict"] in ("pass", "fail")
        assert verdict == stub.judge_verdict(prompt)
    assert stub.judge_verdict(prompts[2])["verdict"] == "pass"
    scored = stub.judge_verdict(prompts[2].replace("pass/fail", "1-5 (5 best)", 1))
    assert scored["score"] == 5 and "verdict" not in scored


def faithful_prompt(question: str, answer: dict[str, object]) -> str:
    context = [f"[{i}] {CORPUS.by_id[i].text}" for i in answer["documents"]]  # type: ignore[union-attr]
    return judge_prompt("faithful", question, context, json.dumps(answer, ensure_ascii=False))


def test_judge_checks_the_quote_against_the_retrieved_context(client: httpx.Client) -> None:
    row, hallucinated = hallucinated_question()
    faithful_row = question_with(None, refused=False)
    faithful_answer = stub.rag_answer(CORPUS, faithful_row["text"])
    # before the flips: a quote found in the context passes, one that is not fails, no context fails
    flipped = {
        text
        for text in (row["text"], faithful_row["text"])
        if stub.bucket(f"judge:faithful:{text}") < stub.JUDGE_FLIP_RATES["faithful"] * 10_000
    }
    for text, answer, expected in (
        (faithful_row["text"], faithful_answer, "pass"),
        (row["text"], hallucinated, "fail"),
    ):
        got = stub.judge_verdict(faithful_prompt(text, answer))["verdict"]
        assert (got == expected) != (text in flipped)
    # the quote is looked for in the context texts (HTML-unescaped, across the text's line breaks)
    quote = stub.quoted(faithful_answer["answer"])
    assert quote is not None
    source = CORPUS.by_id[faithful_answer["documents"][0]]
    assert stub.normalised(source.text) in stub.context_documents(f"[x] {source.text}\n[y] other")
    moved = {**faithful_answer, "documents": []}
    assert stub.judge_verdict(faithful_prompt(faithful_row["text"], moved))["verdict"] == (
        "pass" if faithful_row["text"] in flipped else "fail"
    )
    # over the questions the PoC answers, the judge errs on about 5%
    errors = total = 0
    for q in QUESTIONS:
        answer = stub.rag_answer(CORPUS, q["text"])
        if stub.failure_mode(q["text"]) == "error" or not answer["documents"]:
            continue
        truth = "fail" if stub.hallucinates(q["text"]) else "pass"
        errors += stub.judge_verdict(faithful_prompt(q["text"], answer))["verdict"] != truth
        total += 1
    assert 0 < errors / total <= 0.1
    verdict = json.loads(
        chat(client, "judge-v0", faithful_prompt(row["text"], hallucinated)).json()["choices"][0]["message"][
            "content"
        ]
    )
    assert verdict == stub.judge_verdict(faithful_prompt(row["text"], hallucinated))


def test_no_key_required_when_the_variable_is_unset() -> None:
    with serve("--api-key-env", "DRUG_ANSWERS_UNSET_VARIABLE", env={}) as url:
        assert httpx.get(f"{url}/models").status_code == 200


@pytest.mark.skipif(not DATASET.is_dir(), reason=f"the drug-review dataset is not at {DATASET}")
def test_build_is_reproducible(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(BUILD), "--out", str(tmp_path)], check=True, capture_output=True)
    for name in ("questions.csv", "grades.csv", "demo.csv", "PROVENANCE.md"):
        assert (tmp_path / name).read_bytes() == (PROJECT / name).read_bytes(), name
    query = "SELECT * FROM reviews ORDER BY review_id"
    with (
        contextlib.closing(sqlite3.connect(tmp_path / "sources" / "reviews.sqlite")) as built,
        contextlib.closing(sqlite3.connect(PROJECT / "sources" / "reviews.sqlite")) as checked_in,
    ):
        assert built.execute(query).fetchall() == checked_in.execute(query).fetchall()
