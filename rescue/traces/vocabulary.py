"""One vocabulary for an LLM call, whichever convention the trace was written in.

An LLM app's traces name the same facts in several ways: the OpenTelemetry GenAI semantic conventions
as they are now (``gen_ai.provider.name``, ``gen_ai.input.messages``), the same conventions as they were
up to v1.36 (``gen_ai.system``, ``gen_ai.usage.prompt_tokens``, span events ``gen_ai.user.message`` /
``gen_ai.choice``, the attribute ``gen_ai.prompt``), Arize OpenInference (``llm.model_name``,
``llm.token_count.prompt``, ``input.value``, ``openinference.span.kind``) and Traceloop OpenLLMetry
(``gen_ai.prompt.0.content``, ``llm.usage.prompt_tokens``, ``traceloop.association.properties.session_id``).
:data:`ATTRIBUTES` is the one table from every name onto the fields of :data:`FIELDS`; the readers of
``rescue.traces`` look every span attribute up in it and nowhere else.

How the table is read:

- **Precedence.** When a span carries several names for one field, the row that comes first in the table
  wins (the current OpenTelemetry name before the older one, before OpenInference, before OpenLLMetry),
  and a value that reads as nothing (an empty text, a token count that is not a number) falls through to
  the next name. ``model`` prefers the model that answered (``gen_ai.response.model``) over the one that
  was asked for (``gen_ai.request.model``).
- **Indexed names.** A name written with ``<i>`` is a flattened list (``gen_ai.prompt.0.role``,
  ``gen_ai.prompt.0.content``, ``llm.input_messages.1.message.content``): every attribute under the same
  prefix with a number after it is gathered, in index order, into one list of messages.
- **Messages to text.** ``input_text`` is the text of the last user message sent (the question), and
  ``output_text`` the text of the first choice returned, whatever the shape: OpenTelemetry messages with
  ``parts``, OpenAI-style ``{"role", "content"}``, OpenInference ``message.role`` / ``message.content`` /
  ``message.contents``, a JSON string of any of these, or plain text.
- **Provider values** are lower-cased and the older ``gen_ai.system`` values renamed to the current
  ``gen_ai.provider.name`` ones (:data:`PROVIDER_RENAMES`); no other value is changed.
- **Known, not read.** Rows with no field (``field == ""``) and the prefixes of :data:`KNOWN_PREFIXES` are
  names the conventions define that an LLM call's row does not need (temperature, finish reasons, costs,
  tool definitions). Any other name is *unknown*: the readers count it, by name, so an audit sees which
  convention a PoC speaks that this table does not (numbers in a name are written ``<i>``).
- **Events.** Span events are read after the span's own attributes, at a lower precedence:
  :data:`EVENTS` lists the event names read, and the attributes of any other event are looked up in
  :data:`ATTRIBUTES` (``gen_ai.prompt`` on ``gen_ai.content.prompt``, ``exception.type`` on ``exception``).

Which span is an LLM call: :meth:`SpanFields.not_llm_call` says, from ``gen_ai.operation.name``
(:data:`LLM_OPERATIONS`), else the span kind a convention sets (``openinference.span.kind`` ``LLM``,
``langfuse.observation.type`` ``generation``), else whether the span names a model or a provider at all.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit

OTEL_GENAI = "OpenTelemetry GenAI semantic conventions (current)"
OTEL_GENAI_OLD = "OpenTelemetry GenAI semantic conventions, v1.36 or earlier (deprecated)"
OTEL = "OpenTelemetry general semantic conventions"
OTEL_OLD = "OpenTelemetry general semantic conventions, before server.* (deprecated)"
OPENINFERENCE = "OpenInference (Arize Phoenix)"
OPENLLMETRY = "OpenLLMetry (Traceloop)"
LANGFUSE_OTEL = "Langfuse OpenTelemetry property mapping"
SDKS = "emitted by several SDKs, defined by none of these conventions"

FIELDS: tuple[str, ...] = (
    "operation",  # what the call did: chat, text_completion, embeddings, invoke_agent ...
    "provider",  # who served it: openai, azure.ai.openai, anthropic ...
    "model",  # the model that answered, else the one asked for
    "input_text",  # the last user message (the question)
    "output_text",  # the first choice returned
    "tokens_in",
    "tokens_out",
    "error_type",  # a low-cardinality error class (rate_limited, timeout, 500, an exception's type)
    "server_address",  # where the call went: the destination host
    "server_port",
    "session_id",  # the conversation the call belongs to
    "kind",  # the span kind a convention sets (openinference.span.kind, traceloop.span.kind), lower-cased
)
"""The fields of an LLM call that the table fills."""


class Alias(NamedTuple):
    """One attribute name: the field it fills, the convention it comes from, how its value is read."""

    name: str  # ``<i>`` stands for a list index in a flattened name
    field: str  # one of FIELDS, or "" for a name known and deliberately not read
    convention: str
    parse: str  # text, int, provider, operation, kind, input, output, host (see PARSERS)


# fmt: off
ATTRIBUTES: tuple[Alias, ...] = (
    Alias("gen_ai.operation.name", "operation", OTEL_GENAI, "operation"),
    Alias("llm.request.type", "operation", OPENLLMETRY, "operation"),

    Alias("gen_ai.provider.name", "provider", OTEL_GENAI, "provider"),
    Alias("gen_ai.system", "provider", OTEL_GENAI_OLD, "provider"),
    Alias("llm.provider", "provider", OPENINFERENCE, "provider"),
    Alias("llm.system", "provider", OPENINFERENCE, "provider"),
    Alias("llm.vendor", "provider", OPENLLMETRY, "provider"),

    Alias("gen_ai.response.model", "model", OTEL_GENAI, "text"),
    Alias("llm.response.model_name", "model", OPENINFERENCE, "text"),
    Alias("llm.response.model", "model", OPENLLMETRY, "text"),
    Alias("gen_ai.request.model", "model", OTEL_GENAI, "text"),
    Alias("llm.request.model_name", "model", OPENINFERENCE, "text"),
    Alias("llm.model_name", "model", OPENINFERENCE, "text"),
    Alias("llm.request.model", "model", OPENLLMETRY, "text"),

    Alias("gen_ai.input.messages", "input_text", OTEL_GENAI, "input"),
    Alias("llm.input_messages", "input_text", OPENINFERENCE, "input"),  # unflattened (Phoenix dataframes)
    Alias("llm.input_messages.<i>.message.role", "input_text", OPENINFERENCE, "input"),
    Alias("llm.input_messages.<i>.message.content", "input_text", OPENINFERENCE, "input"),
    Alias("llm.input_messages.<i>.message.contents.<i>.message_content.text", "input_text", OPENINFERENCE, "input"),
    Alias("gen_ai.prompt.<i>.role", "input_text", OPENLLMETRY, "input"),
    Alias("gen_ai.prompt.<i>.content", "input_text", OPENLLMETRY, "input"),
    Alias("llm.prompts.<i>.prompt.text", "input_text", OPENINFERENCE, "input"),
    Alias("gen_ai.prompt", "input_text", OTEL_GENAI_OLD, "input"),  # the whole prompt, a JSON string
    Alias("input.value", "input_text", OPENINFERENCE, "input"),

    Alias("gen_ai.output.messages", "output_text", OTEL_GENAI, "output"),
    Alias("llm.output_messages", "output_text", OPENINFERENCE, "output"),
    Alias("llm.output_messages.<i>.message.role", "output_text", OPENINFERENCE, "output"),
    Alias("llm.output_messages.<i>.message.content", "output_text", OPENINFERENCE, "output"),
    Alias("llm.output_messages.<i>.message.contents.<i>.message_content.text", "output_text", OPENINFERENCE, "output"),
    Alias("gen_ai.completion.<i>.role", "output_text", OPENLLMETRY, "output"),
    Alias("gen_ai.completion.<i>.content", "output_text", OPENLLMETRY, "output"),
    Alias("llm.choices.<i>.completion.text", "output_text", OPENINFERENCE, "output"),
    Alias("gen_ai.completion", "output_text", OTEL_GENAI_OLD, "output"),
    Alias("output.value", "output_text", OPENINFERENCE, "output"),

    Alias("gen_ai.usage.input_tokens", "tokens_in", OTEL_GENAI, "int"),
    Alias("gen_ai.usage.prompt_tokens", "tokens_in", OTEL_GENAI_OLD, "int"),
    Alias("llm.token_count.prompt", "tokens_in", OPENINFERENCE, "int"),
    Alias("llm.usage.prompt_tokens", "tokens_in", OPENLLMETRY, "int"),

    Alias("gen_ai.usage.output_tokens", "tokens_out", OTEL_GENAI, "int"),
    Alias("gen_ai.usage.completion_tokens", "tokens_out", OTEL_GENAI_OLD, "int"),
    Alias("llm.token_count.completion", "tokens_out", OPENINFERENCE, "int"),
    Alias("llm.usage.completion_tokens", "tokens_out", OPENLLMETRY, "int"),

    Alias("error.type", "error_type", OTEL, "text"),
    Alias("exception.type", "error_type", OTEL, "text"),  # on the span event "exception"

    Alias("server.address", "server_address", OTEL, "text"),
    Alias("net.peer.name", "server_address", OTEL_OLD, "text"),
    Alias("gen_ai.openai.api_base", "server_address", OPENLLMETRY, "host"),  # a URL: its host is read

    Alias("server.port", "server_port", OTEL, "int"),
    Alias("net.peer.port", "server_port", OTEL_OLD, "int"),

    Alias("gen_ai.conversation.id", "session_id", OTEL_GENAI, "text"),
    Alias("session.id", "session_id", OPENINFERENCE, "text"),
    Alias("langfuse.session.id", "session_id", LANGFUSE_OTEL, "text"),
    Alias("traceloop.association.properties.session_id", "session_id", OPENLLMETRY, "text"),

    Alias("openinference.span.kind", "kind", OPENINFERENCE, "kind"),
    Alias("traceloop.span.kind", "kind", OPENLLMETRY, "kind"),
    Alias("langfuse.observation.type", "kind", LANGFUSE_OTEL, "kind"),

    # known, not read
    Alias("gen_ai.system_instructions", "", OTEL_GENAI, ""),
    Alias("gen_ai.output.type", "", OTEL_GENAI, ""),
    Alias("gen_ai.conversation.name", "", OTEL_GENAI, ""),
    Alias("gen_ai.data_source.id", "", OTEL_GENAI, ""),
    Alias("gen_ai.usage.total_tokens", "", SDKS, ""),
    Alias("gen_ai.usage.cache_creation.input_tokens", "", OTEL_GENAI, ""),
    Alias("gen_ai.usage.cache_read.input_tokens", "", OTEL_GENAI, ""),
    Alias("gen_ai.usage.reasoning.output_tokens", "", OTEL_GENAI, ""),
    Alias("gen_ai.usage.audio.input_tokens", "", OTEL_GENAI, ""),
    Alias("gen_ai.usage.audio.output_tokens", "", OTEL_GENAI, ""),
    Alias("gen_ai.usage.image.input_tokens", "", OTEL_GENAI, ""),
    Alias("gen_ai.usage.text.input_tokens", "", OTEL_GENAI, ""),
    Alias("gen_ai.usage.text.output_tokens", "", OTEL_GENAI, ""),
    Alias("gen_ai.usage.video.input_tokens", "", OTEL_GENAI, ""),
    Alias("llm.invocation_parameters", "", OPENINFERENCE, ""),
    Alias("llm.function_call", "", OPENINFERENCE, ""),
    Alias("llm.finish_reason", "", OPENINFERENCE, ""),
    Alias("llm.tools.<i>.tool.json_schema", "", OPENINFERENCE, ""),
    Alias("input.mime_type", "", OPENINFERENCE, ""),
    Alias("output.mime_type", "", OPENINFERENCE, ""),
    Alias("metadata", "", OPENINFERENCE, ""),
    Alias("tag.tags", "", OPENINFERENCE, ""),
    Alias("user.id", "", OPENINFERENCE, ""),
    Alias("llm.usage.total_tokens", "", OPENLLMETRY, ""),
    Alias("llm.is_streaming", "", OPENLLMETRY, ""),
    Alias("llm.user", "", OPENLLMETRY, ""),
    Alias("llm.headers", "", OPENLLMETRY, ""),
    Alias("llm.top_k", "", OPENLLMETRY, ""),
    Alias("llm.frequency_penalty", "", OPENLLMETRY, ""),
    Alias("llm.presence_penalty", "", OPENLLMETRY, ""),
    Alias("llm.request.functions.<i>.name", "", OPENLLMETRY, ""),
    Alias("llm.response.finish_reason", "", OPENLLMETRY, ""),
    Alias("llm.response.stop_reason", "", OPENLLMETRY, ""),
    Alias("exception.message", "", OTEL, ""),
    Alias("exception.stacktrace", "", OTEL, ""),
    Alias("exception.escaped", "", OTEL, ""),
)

KNOWN_PREFIXES: tuple[tuple[str, str], ...] = (
    # families of names the conventions define and an LLM call's row does not need (token counts are
    # listed one by one above, so that a misspelt one, gen_ai.usage.input_token, shows as unknown)
    ("gen_ai.request.", OTEL_GENAI),  # temperature, max_tokens, top_p, seed, stop_sequences ...
    ("gen_ai.response.", OTEL_GENAI),  # id, finish_reasons, time_to_first_chunk ...
    ("gen_ai.agent.", OTEL_GENAI),
    ("gen_ai.tool.", OTEL_GENAI),
    ("gen_ai.embeddings.", OTEL_GENAI),
    ("gen_ai.openai.", OTEL_GENAI_OLD),
    ("llm.token_count.", OPENINFERENCE),  # total, prompt_details, completion_details
    ("llm.cost.", OPENINFERENCE),
    ("llm.prompt_template.", OPENINFERENCE),
    ("retrieval.", OPENINFERENCE),  # retrieved documents, on RETRIEVER spans and sometimes on LLM ones
    ("document.", OPENINFERENCE),
    ("embedding.", OPENINFERENCE),
    ("reranker.", OPENINFERENCE),
    ("tool.", OPENINFERENCE),
    ("tool_call.", OPENINFERENCE),
    ("llm.chat.", OPENLLMETRY),
    ("traceloop.", OPENLLMETRY),  # entity names, inputs and outputs of workflow spans, other association properties
    ("langfuse.", LANGFUSE_OTEL),
)

EVENTS: tuple[tuple[str, str, str, str], ...] = (
    # (event name, attribute, field, convention): OpenTelemetry GenAI events of v1.28-v1.36, whose body is
    # recorded as the span event's attributes
    ("gen_ai.user.message", "content", "input_text", OTEL_GENAI_OLD),  # the last one is the question
    ("gen_ai.user.message", "gen_ai.event.content", "input_text", OTEL_GENAI_OLD),  # the body as JSON
    ("gen_ai.choice", "message", "output_text", OTEL_GENAI_OLD),  # {role, content}; the first one is read
    ("gen_ai.choice", "gen_ai.event.content", "output_text", OTEL_GENAI_OLD),
)
# fmt: on

PROVIDER_RENAMES: dict[str, str] = {
    # gen_ai.system values (v1.36 or earlier) that gen_ai.provider.name spells differently
    "az.ai.inference": "azure.ai.inference",
    "az.ai.openai": "azure.ai.openai",
    "vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "xai": "x_ai",
}

OPERATION_RENAMES: dict[str, str] = {
    # llm.request.type (OpenLLMetry) values onto gen_ai.operation.name values
    "completion": "text_completion",
    "embedding": "embeddings",
}

LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
"""``gen_ai.operation.name`` values of an LLM call (a model generating a response)."""

OTHER_OPERATIONS = frozenset(
    {
        "embeddings",
        "execute_tool",
        "invoke_agent",
        "create_agent",
        "invoke_workflow",
        "plan",
        "retrieval",
        "rerank",
        "create_memory",
        "create_memory_store",
        "delete_memory",
        "delete_memory_store",
        "search_memory",
        "update_memory",
        "upsert_memory",
    }
)
"""``gen_ai.operation.name`` values (and ``llm.request.type`` ones) of spans that are not LLM calls."""

LLM_KINDS = frozenset({"llm", "generation"})
"""Span kinds (lower-cased) that mark an LLM call: OpenInference ``LLM``, Langfuse ``generation``."""

# --- reading values ------------------------------------------------------------------------------

_LITERAL_LIMIT = 1_000_000  # a longer text that looks like a Python literal is kept as text


def decoded(value: Any) -> Any:
    """A text holding JSON (or a Python literal, as pandas writes lists to CSV) as the object it holds;
    anything else as it is."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("[", "{"):
            try:
                return json.loads(text)
            except ValueError:
                pass
            if len(text) < _LITERAL_LIMIT:
                try:
                    return ast.literal_eval(text)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    pass
    return value


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value)
    return text if text.strip() else None


def to_int(value: Any) -> int | None:
    """A count from an int, a float with no fraction or a text of one; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if value != value or not value.is_integer():
            return None
        number = int(value)
    elif isinstance(value, str):
        try:
            as_float = float(value)
        except ValueError:
            return None
        if not as_float.is_integer():
            return None
        number = int(as_float)
    else:
        return None
    return number if number >= 0 else None


def _provider(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    name = text.strip().lower()
    return PROVIDER_RENAMES.get(name, name)


def _operation(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    name = text.strip().lower()
    return OPERATION_RENAMES.get(name, name)


def _kind(value: Any) -> str | None:
    text = _text(value)
    return text.strip().lower() if text is not None else None


def _host(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return urlsplit(text if "//" in text else "//" + text).hostname
    except ValueError:
        return None


_TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})


def _part_text(part: Any) -> str | None:
    """The text of one content part: ``{"type": "text", "content"|"text": ...}`` or a plain string."""
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return None
    kind = part.get("type", part.get("message_content.type"))
    if kind is not None and kind not in _TEXT_PART_TYPES:
        return None  # tool calls, images, reasoning
    for key in ("content", "text", "message_content.text"):
        if isinstance(part.get(key), str):
            return part[key]
    inner = part.get("message_content")
    return _part_text(inner) if isinstance(inner, dict) else None


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [t for t in (_part_text(p) for p in content) if t]
        return "\n".join(texts) if texts else None
    if isinstance(content, dict):
        return _message_text(content)
    return None


def _role(message: dict) -> str | None:
    role = message.get("role", message.get("message.role"))
    if role is None and isinstance(message.get("message"), dict):
        role = message["message"].get("role")
    return role.lower() if isinstance(role, str) else None


def _message_text(message: dict) -> str | None:
    """The text of one message, in any of the shapes the conventions write."""
    inner = message.get("message")
    if isinstance(inner, dict) and not ({"content", "parts", "text"} & message.keys()):
        message = inner  # OpenInference {"message": {...}}, a choice {"message": {...}}
    for key in ("content", "message.content", "text", "prompt.text", "completion.text"):
        if key in message:
            text = _content_text(message[key])
            if text:
                return text
    for key in ("parts", "message.contents", "contents"):
        if isinstance(message.get(key), list):
            text = _content_text(message[key])
            if text:
                return text
    # flattened OpenInference contents: message.contents.<i>.message_content.text
    texts = [
        v for k, v in sorted(message.items()) if k.endswith("message_content.text") and isinstance(v, str)
    ]
    return "\n".join(texts) if texts else None


def _looks_like_message(value: dict) -> bool:
    return bool(
        {"role", "content", "parts", "text", "message", "message.role", "message.content"} & value.keys()
    ) or any(k.endswith("message_content.text") for k in value)


def _compact(value: Any) -> str | None:
    if not value:
        return None
    return json.dumps(value, ensure_ascii=False, default=str)


def input_text(value: Any) -> str | None:
    """The question in what was sent: the text of the last user message (else of the last message)."""
    value = decoded(value)
    if isinstance(value, dict):
        if "messages" in value:
            return input_text(value["messages"])
        if _looks_like_message(value):
            return _message_text(value)
        return _compact(value)
    if isinstance(value, list):
        messages = [m for m in value if isinstance(m, dict)]
        if not messages:
            return _content_text(value)
        users = [m for m in messages if _role(m) in ("user", "human")]
        return _message_text(users[-1] if users else messages[-1])
    return _text(value)


def output_text(value: Any) -> str | None:
    """The answer in what came back: the text of the first choice (message, candidate)."""
    value = decoded(value)
    if isinstance(value, dict):
        if isinstance(value.get("choices"), list) and value["choices"]:
            return output_text(value["choices"][0])
        if _looks_like_message(value):
            return _message_text(value)
        return _compact(value)
    if isinstance(value, list):
        messages = [m for m in value if isinstance(m, dict)]
        if not messages:
            return _content_text(value)
        return _message_text(messages[0])
    return _text(value)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "int": to_int,
    "provider": _provider,
    "operation": _operation,
    "kind": _kind,
    "input": input_text,
    "output": output_text,
    "host": _host,
}
"""How a value is read, by the ``parse`` of its :class:`Alias`."""

# --- looking names up ------------------------------------------------------------------------------

_INDEX = re.compile(r"\.(\d+)(?=\.|$)")
_RANK = {alias: rank for rank, alias in enumerate(ATTRIBUTES)}
_EXACT: dict[str, Alias] = {a.name: a for a in reversed(ATTRIBUTES) if "<i>" not in a.name}
_FAMILIES: dict[str, Alias] = {
    a.name.split(".<i>.", 1)[0]: a for a in reversed(ATTRIBUTES) if "<i>" in a.name
}
_EVENT_FIELDS: dict[tuple[str, str], str] = {(event, attr): f for event, attr, f, _ in EVENTS}
_EVENT_RANK = len(ATTRIBUTES)  # event values come after every span attribute

_UNKNOWN, _MAPPED, _INDEXED, _IGNORED = range(4)
_CACHE_LIMIT = 100_000
_resolved: dict[str, tuple] = {}


def _resolve(name: str) -> tuple:
    alias = _EXACT.get(name)
    if alias is not None:
        return (
            (_MAPPED, alias, _RANK[alias], alias.field, PARSERS[alias.parse]) if alias.field else (_IGNORED,)
        )
    found = _INDEX.search(name)
    if found:
        family = name[: found.start()]
        alias = _FAMILIES.get(family)
        if alias is not None:
            if not alias.field:
                return (_IGNORED,)
            return (_INDEXED, alias, _RANK[alias], family, int(found.group(1)), name[found.end() + 1 :])
    if any(name.startswith(prefix) for prefix, _ in KNOWN_PREFIXES):
        return (_IGNORED,)
    return (_UNKNOWN, _INDEX.sub(".<i>", name))


def lookup(name: str) -> tuple:
    """How ``name`` is read: ``(kind, ...)``, cached (the same few names recur on every span)."""
    hit = _resolved.get(name)
    if hit is None:
        if len(_resolved) >= _CACHE_LIMIT:
            _resolved.clear()
        hit = _resolved[name] = _resolve(name)
    return hit


def alias_of(name: str) -> Alias | None:
    """The row of :data:`ATTRIBUTES` that reads ``name`` (indexed names too), None when it is not read."""
    hit = lookup(name)
    return hit[1] if hit[0] in (_MAPPED, _INDEXED) else None


def is_known(name: str) -> bool:
    """Whether ``name`` is in the vocabulary, read or deliberately not."""
    return lookup(name)[0] != _UNKNOWN


@dataclass(slots=True)
class SpanFields:
    """The vocabulary's fields of one span, and the names on it that the vocabulary does not know."""

    operation: str | None = None
    provider: str | None = None
    model: str | None = None
    input_text: str | None = None
    output_text: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    error_type: str | None = None
    server_address: str | None = None
    server_port: int | None = None
    session_id: str | None = None
    kind: str | None = None
    unknown: list[str] = field(default_factory=list)

    def not_llm_call(self) -> str | None:
        """None when the span is an LLM call; else what it is instead (an operation, a kind)."""
        operation = self.operation
        if operation in LLM_OPERATIONS:
            return None
        if operation in OTHER_OPERATIONS:
            return operation
        if self.kind in LLM_KINDS:
            return None
        if self.kind:
            return self.kind
        if operation or self.model or self.provider:
            return None
        return "no GenAI attributes"


def map_attributes(
    attributes: Mapping[str, Any],
    events: Iterable[tuple[str, Mapping[str, Any]]] = (),
    value_of: Callable[[Any], Any] | None = None,
) -> SpanFields:
    """The fields of a span from its attributes (names as the conventions write them) and its events
    (``(name, attributes)``), by the precedence of :data:`ATTRIBUTES`.

    Values are Python values; or, with ``value_of``, raw values that ``value_of`` turns into Python values
    (OTLP's ``AnyValue``), called only for the names the vocabulary reads.
    """
    # a candidate is (rank, parser, value): the parser found once per name, in the cache of lookup
    candidates: dict[str, list[tuple[int, Callable[[Any], Any], Any]]] = {}
    lists: dict[str, tuple[Alias, int, dict[int, dict[str, Any]]]] = {}
    unknown: list[str] = []
    resolved = _resolved
    for name, value in attributes.items():
        hit = resolved.get(name) or lookup(name)
        kind = hit[0]
        if kind == _MAPPED:
            if value_of is not None:
                value = value_of(value)
            if value is None:
                continue
            options = candidates.get(hit[3])
            if options is None:
                candidates[hit[3]] = [(hit[2], hit[4], value)]
            else:
                options.append((hit[2], hit[4], value))
        elif kind == _INDEXED:
            if value_of is not None:
                value = value_of(value)
            if value is None:
                continue
            family, index, rest = hit[3:]
            items = lists.setdefault(family, (hit[1], hit[2], {}))[2]
            items.setdefault(index, {})[rest or "text"] = value  # ``llm.prompts.0``: the item is the text
        elif kind == _UNKNOWN:
            unknown.append(hit[1])
    for alias, rank, items in lists.values():
        messages = [items[i] for i in sorted(items)]
        candidates.setdefault(alias.field, []).append((rank, PARSERS[alias.parse], messages))
    if events:
        _add_event_candidates(events, candidates, value_of)
    found = SpanFields(unknown=unknown)
    for name, options in candidates.items():
        if len(options) > 1:
            options.sort(key=_rank)
        for _, parse, value in options:
            parsed = parse(value)
            if parsed is not None:
                setattr(found, name, parsed)
                break
    return found


def _rank(option: tuple) -> int:
    return option[0]


def _add_event_candidates(
    events: Iterable[tuple[str, Mapping[str, Any]]],
    candidates: dict[str, list[tuple[int, Callable[[Any], Any], Any]]],
    value_of: Callable[[Any], Any] | None,
) -> None:
    questions: list[Any] = []
    answer: Any = None
    for event_name, event_attributes in events:
        for name, value in event_attributes.items():
            target = _EVENT_FIELDS.get((event_name, name))
            hit = lookup(name) if target is None else None
            if target is None and hit[0] != _MAPPED:
                continue
            if value_of is not None:
                value = value_of(value)
            if value is None:
                continue
            if target == "input_text":
                questions.append(value)
            elif target == "output_text":
                if answer is None:
                    answer = value
            else:
                candidates.setdefault(hit[3], []).append((_EVENT_RANK + hit[2], hit[4], value))
    if questions:
        # the last user message is the question: read the events from the last back
        for offset, value in enumerate(reversed(questions)):
            candidates.setdefault("input_text", []).append((_EVENT_RANK + offset, input_text, value))
    if answer is not None:
        candidates.setdefault("output_text", []).append((_EVENT_RANK, output_text, answer))
