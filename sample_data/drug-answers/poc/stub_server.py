"""Stand-in for the stalled "drug answers" RAG PoC: a small OpenAI-compatible chat server.

It serves three models over ``POST /v1/chat/completions`` (and lists them at ``GET /v1/models``):

* ``rag-poc-v0``      -- the PoC under audit. It answers "What do patients report about {drug} for
  {condition}?" from the reviews in ``sources/reviews.sqlite`` and cites the review ids it used.
  Its retrieval has the flaws of a PoC that was only tried on a few demo questions: it matches the
  drug name only (the condition merely ranks the drug's reviews, by word overlap), and it keeps
  only the first part of a combination product ("Ethinyl estradiol / norgestimate" is searched as
  "Ethinyl estradiol"). For about 11% of questions it hallucinates: the answer's quote is taken from
  a review of another drug that it does not cite (the sentiment counts and cited ids stay right), so
  the quote is unsupported by the cited context. Some questions always fail with HTTP 500, some get
  one HTTP 429 first.
* ``no-rag-baseline`` -- the same question answered without retrieval (a fixed, hedged sentence).
* ``judge-v0``        -- an LLM-as-judge stand-in for the rubric criteria ``answers_question``,
  ``grounded`` and ``faithful``. It errs on purpose: it agrees well with the rule-based grades on
  the first and the third criterion (it checks that the answer's quote occurs in the retrieved
  context) and poorly on the second (it cannot see that cited reviews are about another condition).

Everything is deterministic (verdicts, hallucinations, failures and latencies come from a hash of the
question);
the only state is the set of questions that have already had their one HTTP 429. Nothing here calls
a real model or the network. Standard library only, so it starts in well under a second.

Run from the project folder (``sample_data/drug-answers``)::

    python poc/stub_server.py --port 8765 [--corpus sources/reviews.sqlite] [--api-key-env NAME]

The answer and judging logic are plain functions (``rag_answer``, ``baseline_answer``,
``judge_verdict``, ``failure_mode``, ``hallucinates``) so that ``scripts/build_rag_sample.py`` can derive the
sample's grades from exactly what the server answers.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import math
import os
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = "sources/reviews.sqlite"

RAG_MODEL = "rag-poc-v0"
BASELINE_MODEL = "no-rag-baseline"
JUDGE_MODEL = "judge-v0"
MODELS = (RAG_MODEL, BASELINE_MODEL, JUDGE_MODEL)

TOP_K = 3
SNIPPET_CHARS = 120
QUESTION_RE = re.compile(
    r"\s*What do patients report about (?P<drug>.+?) for (?P<condition>.+)\?\s*", re.DOTALL
)
REFUSAL_MARK = "could not find"
# the PoC's answer to a question outside its one template (what production traffic mostly is): a redirect, no answer
REDIRECT_MARK = "i can only answer questions like"

# Failure buckets out of 10 000, from a hash of the salt and the question (rag-poc-v0 only). The salt was
# picked so that the sample's 163 questions get close to the nominal shares (4 errors, 10 rate limits).
FAILURE_SALT = "rag-poc-v0:failure:5"
ERROR_BUCKETS = 300  # ~3%: HTTP 500 on every attempt
RATE_LIMIT_BUCKETS = 500  # ~5%: HTTP 429 (Retry-After: 0) on the first attempt only

# Hallucination buckets out of 10 000, from a hash of its own salt and the question (rag-poc-v0 only): the
# answer's quote is then taken from a review of another drug, not from the reviews it cites. The salt was
# picked (":0" put only 1 hallucinated answer among the 60 graded questions) so that the graded questions
# hold at least 5 `faithful` fails from hallucinated quotes alone, refusals aside -- rescue only believes a
# judge when the grades hold >= 5 passes and >= 5 fails -- with ~10% of the cited answers hallucinated.
HALLUCINATION_SALT = "rag-poc-v0:hallucination:17"
HALLUCINATION_BUCKETS = 1_100  # ~11% of the answers that cite reviews

# Share of the judge's verdicts flipped, per criterion, from a hash of (criterion, question).
JUDGE_FLIP_RATES = {"answers_question": 0.06, "grounded": 0.12, "faithful": 0.05}


@dataclass(frozen=True)
class Review:
    """One row of the ``reviews`` table."""

    review_id: str
    drug: str
    condition: str
    text: str
    sentiment: str
    useful_count: int


@dataclass(frozen=True)
class Question:
    drug: str
    condition: str


class Corpus:
    """The reviews, loaded once (read-only) and indexed by lower-cased drug name."""

    def __init__(self, reviews: Sequence[Review]) -> None:
        self.reviews = list(reviews)
        self.by_id = {review.review_id: review for review in self.reviews}
        self.by_drug: dict[str, list[Review]] = {}
        for review in self.reviews:
            self.by_drug.setdefault(review.drug.lower(), []).append(review)


def load_corpus(path: Path) -> Corpus:
    """Read the ``reviews`` table of the SQLite file at ``path``, opened read-only."""
    uri = f"file:{quote(path.resolve().as_posix())}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = connection.execute(
            "SELECT review_id, drug, condition, review, sentiment, useful_count FROM reviews ORDER BY review_id"
        ).fetchall()
    return Corpus(
        [Review(str(r[0]), r[1] or "", r[2] or "", r[3] or "", r[4] or "", int(r[5] or 0)) for r in rows]
    )


# --------------------------------------------------------------------------------------------
# Deterministic answer logic (imported by scripts/build_rag_sample.py)
# --------------------------------------------------------------------------------------------


def bucket(key: str, size: int = 10_000) -> int:
    """A stable bucket in ``range(size)`` for ``key`` (sha256, not Python's salted ``hash``)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % size


def failure_mode(question: str) -> str | None:
    """``"error"`` (always HTTP 500), ``"rate_limit"`` (one HTTP 429 first) or ``None``."""
    value = bucket(f"{FAILURE_SALT}:{question.strip()}")
    if value < ERROR_BUCKETS:
        return "error"
    if value < ERROR_BUCKETS + RATE_LIMIT_BUCKETS:
        return "rate_limit"
    return None


def latency_s(model: str, question: str) -> float:
    """A fixed per-question latency: 20-60 ms for the PoC, 5-15 ms for the baseline and the judge."""
    if model == RAG_MODEL:
        return (20 + bucket(f"latency:{question.strip()}", 41)) / 1000
    return (5 + bucket(f"latency:{model}:{question.strip()}", 11)) / 1000


def parse_question(text: str) -> Question | None:
    """The drug and condition of "What do patients report about {drug} for {condition}?"."""
    match = QUESTION_RE.fullmatch(text or "")
    if match is None:
        return None
    return Question(match["drug"].strip(), match["condition"].strip())


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", html.unescape(text).lower()))


def retrieve(corpus: Corpus, drug: str, condition: str) -> tuple[str, list[Review]]:
    """The PoC's retrieval: the searched drug name and its top ``TOP_K`` reviews.

    Flaws kept on purpose: a combination product ("A / B") is searched as its first part only,
    and the condition does not filter, it only ranks the drug's reviews by word overlap (then by
    useful count, then by review id).
    """
    searched = drug.split(" / ")[0].strip()
    condition_words = words(condition)
    candidates = corpus.by_drug.get(searched.lower(), [])
    ranked = sorted(
        candidates,
        key=lambda review: (
            -len(condition_words & words(review.text)),
            -review.useful_count,
            review.review_id,
        ),
    )
    return searched, ranked[:TOP_K]


def sentiment_sentence(drug: str, condition: str, sentiments: Sequence[str]) -> str:
    """ "Patients taking X for Y report mostly positive experiences: 2 of 3 reviews are positive, ..."."""
    counts = {name: sum(1 for s in sentiments if s == name) for name in ("positive", "neutral", "negative")}
    top = max(counts.values())
    leaders = [name for name, count in counts.items() if count == top]
    mood = f"mostly {leaders[0]}" if len(leaders) == 1 else "mixed"
    return (
        f"Patients taking {drug} for {condition} report {mood} experiences: {counts['positive']} of "
        f"{len(sentiments)} reviews are positive, {counts['neutral']} neutral and {counts['negative']} negative."
    )


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The review text, HTML-unescaped, whitespace collapsed, cut at a word to at most ``limit`` chars."""
    flat = " ".join(html.unescape(text).split()).strip('"').strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def normalised(text: str) -> str:
    """HTML-unescaped, whitespace collapsed: how quotes are compared with review texts."""
    return " ".join(html.unescape(text).split())


def quoted(answer: str) -> str | None:
    """The quoted snippet of an answer (between its first and last ``"``), without a trailing "…"."""
    match = re.search(r'"(.*)"', answer, re.DOTALL)
    if match is None:
        return None
    quote = normalised(match[1]).removesuffix("…").strip()
    return quote or None


def hallucinates(question: str) -> bool:
    """True when the PoC quotes a review it does not cite for ``question`` (a fixed ~11% of questions)."""
    return bucket(f"{HALLUCINATION_SALT}:{question.strip()}") < HALLUCINATION_BUCKETS


def hallucinated_source(corpus: Corpus, question: str, cited: Sequence[Review]) -> Review:
    """The review the PoC wrongly quotes: one of another drug, picked by a hash of the question.

    Candidates whose quote happens to occur in a cited review (the dataset holds one text twice, under
    a brand and a generic name) are skipped, so the quote is never supported by the cited context.
    """
    drugs = {review.drug.lower() for review in cited}
    cited_texts = [normalised(review.text) for review in cited]
    others = [review for review in corpus.reviews if review.drug.lower() not in drugs]
    start = bucket(f"{HALLUCINATION_SALT}:source:{question.strip()}", len(others))
    for step in range(len(others)):
        candidate = others[(start + step) % len(others)]
        quote = quoted(f'"{snippet(candidate.text)}"')
        if quote and not any(quote in text for text in cited_texts):
            return candidate
    raise ValueError("no review of another drug to quote")  # not reached with the sample's corpus


def rag_answer(corpus: Corpus, question: str) -> dict[str, Any]:
    """The PoC's answer to ``question``: ``{"answer": str, "documents": [review_id, ...]}``.

    For the questions :func:`hallucinates` picks, the quote comes from :func:`hallucinated_source`
    instead of the first cited review; the summary and the cited documents are the same.
    """
    parsed = parse_question(question)
    if parsed is None:
        return {
            "answer": "I can only answer questions like: What do patients report about <drug> for <condition>?",
            "documents": [],
        }
    searched, found = retrieve(corpus, parsed.drug, parsed.condition)
    if not found:
        return {"answer": f"I could not find reviews about {searched}.", "documents": []}
    summary = sentiment_sentence(found[0].drug, parsed.condition, [review.sentiment for review in found])
    source = hallucinated_source(corpus, question, found) if hallucinates(question) else found[0]
    return {
        "answer": f'{summary} One patient wrote: "{snippet(source.text)}"',
        "documents": [review.review_id for review in found],
    }


def baseline_answer(question: str) -> dict[str, Any]:
    """The no-retrieval baseline: a hedged sentence that names the drug and condition, no documents."""
    parsed = parse_question(question)
    if parsed is None:
        return {"answer": "Patients report mixed experiences; individual results vary.", "documents": []}
    return {
        "answer": f"Patients taking {parsed.drug} for {parsed.condition} report mixed experiences; "
        "individual results vary.",
        "documents": [],
    }


def parse_sections(prompt: str) -> dict[str, str]:
    """The ``### Name`` sections of a judge prompt, by lower-cased name (text before any header is dropped)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in (prompt or "").splitlines():
        header = re.fullmatch(r"###\s+(.+?)\s*", line)
        if header:
            current = sections.setdefault(header[1].lower(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def context_documents(context: str) -> list[str]:
    """The texts of a "Retrieved context" section: each ``[id] text`` line starts one (texts may span lines)."""
    documents: list[list[str]] = []
    for line in context.splitlines():
        start = re.match(r"\[[^\]]*\]\s?(.*)", line)
        if start is not None:
            documents.append([start[1]])
        elif documents:
            documents[-1].append(line)
    return [normalised("\n".join(lines)) for lines in documents]


def answer_text(answer: str) -> str:
    """The ``answer`` field when the answer section holds the PoC's JSON, else the text itself."""
    if answer.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            value = json.loads(answer).get("answer")
            if isinstance(value, str):
                return value
    return answer


def judge_verdict(prompt: str) -> dict[str, Any]:
    """The judge's ``{"verdict": "pass" | "fail", "reason": ...}`` for a rubric prompt.

    ``answers_question`` passes when the answer names the asked drug and is not a refusal (nor the PoC's
    redirect to its one question template);
    ``grounded`` passes whenever some retrieved context was shown (it does not check what the
    context is about); ``faithful`` passes when the answer's quoted snippet occurs in one of the
    retrieved texts (HTML-unescaped, whitespace collapsed; it does not check the counts). A hash of (criterion, question) flips a fixed share of verdicts. Any
    other criterion passes. On a "1-5" scale the reply is ``{"score": 5 | 1, "reason": ...}``.
    """
    sections = parse_sections(prompt)
    criterion = sections.get("criterion", "").split(":", 1)[0].strip()
    question = sections.get("question", "")
    answer = answer_text(sections.get("answer", ""))
    context = sections.get("retrieved context", "")
    if criterion == "answers_question":
        parsed = parse_question(question)
        drug = parsed.drug.lower() if parsed else ""
        refused = not answer or REFUSAL_MARK in answer.lower() or REDIRECT_MARK in answer.lower()
        verdict = not refused and drug in answer.lower()
        reasons = (
            "The answer addresses the drug asked about.",
            "The answer does not address the drug asked about.",
        )
    elif criterion == "grounded":
        verdict = bool(context)
        reasons = (
            "The answer is supported by the retrieved reviews.",
            "No retrieved context supports the answer.",
        )
    elif criterion == "faithful":
        quote = quoted(answer)
        verdict = quote is not None and any(quote in text for text in context_documents(context))
        reasons = (
            "The answer's quote appears in the retrieved reviews.",
            "The answer's quote is not in the retrieved reviews.",
        )
    else:
        verdict, reasons = True, ("No specific check for this criterion; it is met.", "")
    flip_rate = JUDGE_FLIP_RATES.get(criterion, 0.0)
    if bucket(f"judge:{criterion}:{question.strip()}") < flip_rate * 10_000:
        verdict = not verdict
    reason = reasons[0] if verdict else reasons[1]
    if sections.get("scale", "").startswith("1-5"):  # a 1-5 criterion: the extremes of the scale
        return {"score": 5 if verdict else 1, "reason": reason}
    return {"verdict": "pass" if verdict else "fail", "reason": reason}


# --------------------------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------------------------


def tokens(chars: int) -> int:
    return math.ceil(chars / 4)


def message_text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], corpus: Corpus, api_key: str | None) -> None:
        super().__init__(address, Handler)
        self.corpus = corpus
        self.api_key = api_key
        self.rate_limited: set[str] = set()
        self.lock = threading.Lock()

    def first_attempt(self, question: str) -> bool:
        """True the first time ``question`` is seen (it then gets its one HTTP 429)."""
        with self.lock:
            if question in self.rate_limited:
                return False
            self.rate_limited.add(question)
            return True


class Handler(BaseHTTPRequestHandler):
    server: StubServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; no 40 ms delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request logging
        pass

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def authorised(self) -> bool:
        if (
            self.server.api_key is None
            or self.headers.get("Authorization") == f"Bearer {self.server.api_key}"
        ):
            return True
        self.send_json(
            401, error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        )
        return False

    def do_GET(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        if path not in ("/v1/models", "/models"):
            self.send_json(404, error_body(f"Unknown path {path}", "invalid_request_error", "not_found"))
            return
        if self.authorised():
            models = [
                {"id": model, "object": "model", "created": 0, "owned_by": "rescue-sample"}
                for model in MODELS
            ]
            self.send_json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        path = urlsplit(self.path).path.rstrip("/")
        if path not in ("/v1/chat/completions", "/chat/completions"):
            self.send_json(404, error_body(f"Unknown path {path}", "invalid_request_error", "not_found"))
            return
        if not self.authorised():
            return
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            self.send_json(400, error_body("The body needs a 'messages' list.", "invalid_request_error"))
            return
        model = body.get("model")
        if model not in MODELS:
            message = f"The model '{model}' does not exist or you do not have access to it."
            self.send_json(404, error_body(message, "invalid_request_error", "model_not_found"))
            return
        texts = [message_text(m.get("content")) for m in messages]
        users = [text for m, text in zip(messages, texts, strict=True) if m.get("role") == "user"]
        question = users[-1] if users else ""
        time.sleep(latency_s(model, question))

        if model == RAG_MODEL:
            mode = failure_mode(question)
            if mode == "error":
                self.send_json(
                    500, error_body("The server had an error while processing your request.", "server_error")
                )
                return
            if mode == "rate_limit" and self.server.first_attempt(question.strip()):
                message = "Rate limit reached for requests. Please try again shortly."
                self.send_json(
                    429, error_body(message, "requests", "rate_limit_exceeded"), {"Retry-After": "0"}
                )
                return
            result: dict[str, Any] = rag_answer(self.server.corpus, question)
        elif model == BASELINE_MODEL:
            result = baseline_answer(question)
        else:
            result = judge_verdict(question)
        content = json.dumps(result, ensure_ascii=False)

        prompt_tokens = tokens(sum(len(text) for text in texts))
        completion_tokens = tokens(len(content))
        digest = hashlib.sha256(f"{model}\n{question}".encode()).hexdigest()[:24]
        self.send_json(
            200,
            {
                "id": f"chatcmpl-{digest}",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True, help="TCP port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    parser.add_argument(
        "--corpus", default=DEFAULT_CORPUS, help="reviews SQLite file, relative to the project"
    )
    parser.add_argument(
        "--api-key-env", help="require 'Authorization: Bearer $NAME' when that variable is set"
    )
    args = parser.parse_args(argv)

    corpus_path = Path(args.corpus)
    if not corpus_path.is_absolute():
        corpus_path = PROJECT_DIR / corpus_path
    if not corpus_path.is_file():
        parser.error(f"no corpus at {corpus_path}")
    api_key = (os.environ.get(args.api_key_env) or None) if args.api_key_env else None

    server = StubServer((args.host, args.port), load_corpus(corpus_path), api_key)
    host, port = server.server_address[:2]
    print(
        f"stub_server: {len(server.corpus.reviews)} reviews, listening on http://{host}:{port}/v1", flush=True
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    sys.exit(main())
