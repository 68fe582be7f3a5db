"""Generate an LLM app's production traces as OTLP JSON, deterministically, from real texts.

The traces are those of a patient-review assistant: each user turn is one trace, an ``invoke_agent`` server
span (which carries the conversation id) with the model call, a ``chat`` client span, as its child. The
prompts quote the real review texts passed in, as they come (HTML entities and all). What is planted, by
seeded draws (the shares are probabilities, so a small file holds them only roughly):

- **sessions** of 1 to 6 turns (``gen_ai.conversation.id``), a follow-up question sometimes, the previous
  turn sent again as chat history;
- a **model switch** midway through the time range: calls starting before :data:`SWITCH` ask
  ``gpt-4o-mini``, later ones ``gpt-4.1-mini``;
- **destinations**: :data:`SHARE_DISALLOWED_REGION` of the calls go to :data:`DISALLOWED_HOST` (a region
  the audit's compliance section does not allow), the rest to :data:`ALLOWED_HOST`;
- **errors**: :data:`SHARE_ERROR` of the calls end with status code 2 and ``error.type`` ``rate_limited``
  (two in three) or ``timeout``, with no output;
- **personal data**: :data:`SHARE_PII` of the prompts end with an e-mail address at ``example.com`` and/or
  a phone number in Ofcom's range for drama, ``+44 20 7946 0xxx`` (clearly fake, yet valid numbers);
- **names old and new**: :data:`SHARE_OLD_NAMES` of the calls use the names of v1.36 or earlier
  (``gen_ai.system`` ``az.ai.openai``, ``gen_ai.usage.prompt_tokens``/``completion_tokens``, the messages as
  span events ``gen_ai.user.message``/``gen_ai.choice``), the rest the current ones (``gen_ai.provider.name``
  ``azure.ai.openai``, ``gen_ai.usage.input_tokens``, ``gen_ai.input.messages``/``gen_ai.output.messages``,
  half as structured values and half as JSON strings);
- **parents**: :data:`SHARE_ORPHAN` of the calls name a parent span that is not in the file (it was
  dropped), :data:`SHARE_NO_PARENT` have no parent at all (a batch job calling the model directly); these
  carry the conversation id themselves.

Spans are written in start order, :data:`SPANS_PER_LINE` to a line (one ``resourceSpans`` document each, as
the Collector's file exporter writes its batches), so a parent and its child may sit on different lines.
The same texts, count and seed give the same bytes.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .frame import cyclic_gc_paused

MODELS = ("gpt-4o-mini", "gpt-4.1-mini")
ALLOWED_HOST = "eu.example-llm.com"
DISALLOWED_HOST = "api.us-east.example-llm.com"
PROVIDER = "azure.ai.openai"
PROVIDER_OLD = "az.ai.openai"  # the same provider as gen_ai.system named it (v1.36 or earlier)
SERVICE = "drug-answers-assistant"

START = datetime(2026, 3, 2, tzinfo=UTC)
RANGE_DAYS = 28
SWITCH = datetime(2026, 3, 16, tzinfo=UTC)  # midway: the model switch
SHARE_DISALLOWED_REGION = 0.10
SHARE_ERROR = 0.03
SHARE_PII = 0.02
SHARE_OLD_NAMES = 0.20
SHARE_ORPHAN = 0.01
SHARE_NO_PARENT = 0.01
SHARE_FOLLOW_UP = 0.4  # of the second and later turns of a session
SPANS_PER_LINE = 256
EXCERPT_CHARS = 320

_NS = 1_000_000_000
_START_NS = int(START.timestamp()) * _NS
_SWITCH_NS = int(SWITCH.timestamp()) * _NS
_RANGE_NS = RANGE_DAYS * 86_400 * _NS
_MEDIAN_LATENCY_MS = {MODELS[0]: 900.0, MODELS[1]: 650.0}

SYSTEM_PROMPT = (
    "You answer questions about patients' experiences with drugs from the review database. "
    "Cite the reviews you used."
)
QUESTIONS = (
    "A patient wrote: “{review}” Is that a common experience with this medicine?",
    "What do other patients report when they describe something like this? {review}",
    "Summarise this review for a pharmacist in two sentences: {review}",
    "My mother sent me this review, should she be worried? “{review}”",
    "{review}\n\nWhat side effects do people mention most with this one?",
)
FOLLOW_UPS = (
    "And how long did it take to work for most of them?",
    "Thanks. Did anyone mention the dose they were on?",
    "Is that different for older patients?",
    "ok but what about weight gain",
    "Can you cite the reviews you used?",
)
ANSWERS = (
    "Patients describing this most often mention {theme}. One review says: “{quote}”",
    "Several reviews report {theme}; experiences vary widely. For example: “{quote}”",
    "It is mentioned fairly often. The reviews mostly talk about {theme}, e.g. “{quote}”",
)
THEMES = (
    "nausea in the first weeks",
    "headaches that eased after a month",
    "weight changes",
    "sleep problems",
    "a clear improvement within days",
    "having to switch to another medicine",
)
FIRST_NAMES = ("jane", "tom", "aisha", "piotr", "maria", "sam")
LAST_NAMES = ("doe", "smith", "khan", "nowak", "garcia", "lee")
ERROR_MESSAGES = {
    "rate_limited": "Rate limit reached for requests; retry after 2s",
    "timeout": "Request timed out after 30s",
}


def _excerpt(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit] + "…"


def _personal_data(rng: random.Random) -> str:
    number = rng.randrange(1000)
    email = f"{rng.choice(FIRST_NAMES)}.{rng.choice(LAST_NAMES)}{number}@example.com"
    phone = f"+44 20 7946 0{rng.randrange(1000):03d}"
    draw = rng.random()
    if draw < 0.5:
        return f" You can reply to {email}."
    if draw < 0.8:
        return f" Call me on {phone} if easier."
    return f" Contact: {email}, {phone}."


def _value(value: Any) -> dict:
    """An OTLP/JSON ``AnyValue``."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": _attributes(value)}}
    return {"stringValue": str(value)}


def _attributes(values: dict[str, Any]) -> list[dict]:
    return [{"key": k, "value": _value(v)} for k, v in values.items() if v is not None]


def _messages(history: list[tuple[str, str]], question: str) -> list[dict]:
    messages = [{"role": "system", "parts": [{"type": "text", "content": SYSTEM_PROMPT}]}]
    for role, text in history:
        messages.append({"role": role, "parts": [{"type": "text", "content": text}]})
    messages.append({"role": "user", "parts": [{"type": "text", "content": question}]})
    return messages


class _Generator:
    def __init__(self, texts: list[str], seed: int):
        self.texts = texts
        self.rng = random.Random(seed)

    def hex_id(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def question(self, turn: int) -> str:
        rng = self.rng
        if turn > 0 and rng.random() < SHARE_FOLLOW_UP:
            text = rng.choice(FOLLOW_UPS)
        else:
            text = rng.choice(QUESTIONS).format(review=_excerpt(rng.choice(self.texts), EXCERPT_CHARS))
        if rng.random() < SHARE_PII:
            text += _personal_data(rng)
        return text

    def answer(self) -> str:
        rng = self.rng
        return rng.choice(ANSWERS).format(
            theme=rng.choice(THEMES), quote=_excerpt(rng.choice(self.texts), 140)
        )

    def session(self, n_turns: int) -> list[dict]:
        rng = self.rng
        conversation = f"conv_{self.hex_id(64)}"
        start_ns = _START_NS + rng.randrange(_RANGE_NS)
        history: list[tuple[str, str]] = []
        calls = []
        for turn in range(n_turns):
            call = self.call(conversation, turn, start_ns, history)
            calls.append(call)
            if call["answer"] is not None:
                history = [("user", call["question"]), ("assistant", call["answer"])]
            start_ns = call["end_ns"] + rng.randint(15, 240) * _NS
        return calls

    def call(self, conversation: str, turn: int, start_ns: int, history: list[tuple[str, str]]) -> dict:
        rng = self.rng
        model = MODELS[0] if start_ns < _SWITCH_NS else MODELS[1]
        question = self.question(turn)
        error = None
        if rng.random() < SHARE_ERROR:
            error = "rate_limited" if rng.random() < 2 / 3 else "timeout"
        answer = self.answer() if error is None else None
        if error == "timeout":
            latency_ms = 30_000.0
        elif error == "rate_limited":
            latency_ms = rng.uniform(40, 200)
        else:
            latency_ms = _MEDIAN_LATENCY_MS[model] * rng.lognormvariate(0, 0.45)
        parent = rng.random()
        shape = (
            "orphan"
            if parent < SHARE_ORPHAN
            else "root"
            if parent < SHARE_ORPHAN + SHARE_NO_PARENT
            else "child"
        )
        llm_start = start_ns + rng.randint(2, 15) * 1_000_000
        llm_end = llm_start + int(latency_ms * 1_000_000)
        prompt_chars = len(SYSTEM_PROMPT) + len(question) + sum(len(text) for _, text in history)
        return {
            "trace_id": self.hex_id(128),
            "agent_id": self.hex_id(64),
            "span_id": self.hex_id(64),
            "conversation": conversation,
            "turn": turn,
            "start_ns": start_ns,
            "llm_start": llm_start,
            "llm_end": llm_end,
            "end_ns": llm_end + rng.randint(3, 30) * 1_000_000,
            "model": model,
            "host": DISALLOWED_HOST if rng.random() < SHARE_DISALLOWED_REGION else ALLOWED_HOST,
            "old_names": rng.random() < SHARE_OLD_NAMES,
            "structured": rng.random() < 0.5,
            "shape": shape,
            "question": question,
            "history": list(history),
            "answer": answer,
            "error": error,
            "tokens_in": None if error else prompt_chars // 4 + 7,
            "tokens_out": None if answer is None else len(answer) // 4 + 1,
            "response_id": f"chatcmpl-{self.hex_id(96)}" if answer is not None else None,
        }


def _status(error: str | None) -> dict:
    return {"code": 2, "message": ERROR_MESSAGES[error]} if error else {}


def _agent_span(call: dict) -> dict:
    error = call["error"]
    http_status = {None: 200, "rate_limited": 429, "timeout": 504}[error]
    return {
        "traceId": call["trace_id"],
        "spanId": call["agent_id"],
        "name": "invoke_agent drug-answers",
        "kind": 2,
        "startTimeUnixNano": str(call["start_ns"]),
        "endTimeUnixNano": str(call["end_ns"]),
        "attributes": _attributes(
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "drug-answers",
                "gen_ai.conversation.id": call["conversation"],
                "http.request.method": "POST",
                "http.route": "/v1/answers",
                "http.response.status_code": http_status,
                "error.type": error,
            }
        ),
        "status": _status(error),
    }


def _event(time: str, name: str, attributes: dict[str, Any]) -> dict:
    return {"timeUnixNano": time, "name": name, "attributes": _attributes(attributes)}


def _llm_span(call: dict) -> dict:
    old, error, answer = call["old_names"], call["error"], call["answer"]
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system" if old else "gen_ai.provider.name": PROVIDER_OLD if old else PROVIDER,
        "gen_ai.request.model": call["model"],
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 512,
        "server.address": call["host"],
        "server.port": 443,
        "gen_ai.response.model": call["model"] if answer is not None else None,
        "gen_ai.response.id": call["response_id"],
        "gen_ai.response.finish_reasons": ["stop"] if answer is not None else None,
        "gen_ai.usage.prompt_tokens" if old else "gen_ai.usage.input_tokens": call["tokens_in"],
        "gen_ai.usage.completion_tokens" if old else "gen_ai.usage.output_tokens": call["tokens_out"],
        "error.type": error,
    }
    if call["shape"] != "child":
        attributes["gen_ai.conversation.id"] = call["conversation"]
    events: list[dict] = []
    if old:
        asked = str(call["llm_start"])
        events.append(_event(asked, "gen_ai.system.message", {"content": SYSTEM_PROMPT}))
        events += [
            _event(asked, f"gen_ai.{role}.message", {"content": text}) for role, text in call["history"]
        ]
        events.append(_event(asked, "gen_ai.user.message", {"content": call["question"]}))
        if answer is not None:
            message = {"role": "assistant", "content": answer}
            choice = {"index": 0, "finish_reason": "stop", "message": message}
            events.append(_event(str(call["llm_end"]), "gen_ai.choice", choice))
    else:
        messages = _messages(call["history"], call["question"])
        output = [
            {"role": "assistant", "parts": [{"type": "text", "content": answer}], "finish_reason": "stop"}
        ]
        if call["structured"]:
            attributes["gen_ai.input.messages"] = messages
            attributes["gen_ai.output.messages"] = output if answer is not None else None
        else:
            attributes["gen_ai.input.messages"] = json.dumps(messages, ensure_ascii=False)
            attributes["gen_ai.output.messages"] = (
                json.dumps(output, ensure_ascii=False) if answer is not None else None
            )
    span = {
        "traceId": call["trace_id"],
        "spanId": call["span_id"],
        "parentSpanId": call["agent_id"] if call["shape"] != "root" else "",
        "name": f"chat {call['model']}",
        "kind": 3,
        "startTimeUnixNano": str(call["llm_start"]),
        "endTimeUnixNano": str(call["llm_end"]),
        "attributes": _attributes(attributes),
        "status": _status(error),
    }
    if events:
        span["events"] = events
    return span


_RESOURCE = {
    "attributes": _attributes(
        {"service.name": SERVICE, "service.version": "0.3.1", "deployment.environment.name": "production"}
    )
}
_AGENT_SCOPE = {"name": "drug_answers.agent", "version": "0.3.1"}
_LLM_SCOPE = {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"}


def _line(spans: list[tuple[str, dict]]) -> str:
    agent = [span for scope, span in spans if scope == "agent"]
    llm = [span for scope, span in spans if scope == "llm"]
    scopes = []
    if agent:
        scopes.append({"scope": _AGENT_SCOPE, "spans": agent})
    if llm:
        scopes.append({"scope": _LLM_SCOPE, "spans": llm})
    document = {"resourceSpans": [{"resource": _RESOURCE, "scopeSpans": scopes}]}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def generate_otlp(reviews: list[str], n_spans: int, seed: int, out: Path) -> Path:
    """Write ``n_spans`` LLM calls (plus their parent spans) as OTLP JSON lines to ``out``; return ``out``.

    ``reviews`` are the real texts the prompts quote (whitespace is collapsed, nothing else changed).
    The same arguments write the same bytes.
    """
    texts = [" ".join(text.split()) for text in reviews if isinstance(text, str) and text.strip()]
    if not texts:
        raise ValueError("generate_otlp needs at least one non-empty review text")
    if n_spans < 0:
        raise ValueError(f"n_spans must be 0 or more, got {n_spans}")
    # every call is kept until they are sorted: the cyclic collector would walk them over and over
    with cyclic_gc_paused():
        return _write(_Generator(texts, seed), n_spans, Path(out))


def _write(generator: _Generator, n_spans: int, out: Path) -> Path:
    calls: list[dict] = []
    while len(calls) < n_spans:
        n_turns = min(generator.rng.randint(1, 6), n_spans - len(calls))
        calls += generator.session(n_turns)
    calls.sort(key=lambda call: (call["start_ns"], call["span_id"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as stream:
        batch: list[tuple[str, dict]] = []
        for call in calls:
            if call["shape"] == "child":
                batch.append(("agent", _agent_span(call)))
            batch.append(("llm", _llm_span(call)))
            if len(batch) >= SPANS_PER_LINE:
                stream.write(_line(batch))
                batch = []
        if batch:
            stream.write(_line(batch))
    return out
