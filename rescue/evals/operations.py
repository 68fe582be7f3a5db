"""What running the PoC costs and how it behaves, for either kind of PoC: errors, latency, cost, contracts.

Latency comes from live calls only (the ledger's cached answers are never timed). Cost is the tokens a system
reported × the model's price (``prices.yaml``, then the genai-prices database: :mod:`rescue.prices`;
estimated from text length when it reports no usage), or a fixed price per call from the spec.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from ..errors import InputFileError
from ..inputs import read_contract
from ..ledger import Call
from ..prices import Price, lookup, unknown_model
from ..spec import PocSpec, Spec
from ..stats import percentile_with_interval, wilson
from ..systems.watch import is_loopback
from .display.common import p_text

CHARS_PER_TOKEN = 4  # a common rule of thumb, used only when the PoC reports no token usage


def reported_model(calls: list[Call]) -> str | None:
    """The model the answers say they came from (an SDK response's ``model``, else the model the provider's
    responses named on the wire: ``gen_ai.response.model``), the most frequent one."""
    models = Counter(
        c.raw.get("model") for c in calls if c.ok and isinstance(c.raw, dict) and c.raw.get("model")
    )
    if not models:
        models = Counter(m for c in calls if c.ok for m in _span_values(c, "gen_ai.response.model"))
    return models.most_common(1)[0][0] if models else None


def _span_values(call: Call, attribute: str) -> list[Any]:
    return [
        s["attributes"][attribute] for s in call.spans or [] if s["attributes"].get(attribute) is not None
    ]


def _reported_by_spans(call: Call) -> bool:
    """Whether the call's tokens are the ones its HTTP responses reported (the answer itself had none)."""
    return bool(_span_values(call, "gen_ai.usage.input_tokens")) and not (
        isinstance(call.raw, dict) and isinstance(call.raw.get("usage"), dict)
    )


def errors_summary(calls: list[Call]) -> dict[str, Any]:
    """Failed calls by kind, their rate with its interval, how many calls needed a retry, the most frequent
    messages (redacted in the ledger already) and what they most likely mean."""
    failed = [c for c in calls if not c.ok]
    kinds = Counter(c.error_kind for c in failed)
    messages = Counter(_message_shape(c.error or "") for c in failed).most_common(3)
    return {"total": len(failed), "rate": wilson(len(failed), len(calls)), "by_kind": dict(sorted(kinds.items())),
            "retried_calls": sum(1 for c in calls if c.attempts > 1),
            "top_messages": [{"message": m, "count": n} for m, n in messages],
            "likely_cause": likely_cause(kinds, [m for m, _ in messages]) if failed else None}  # fmt: skip


def _message_shape(message: str) -> str:
    """A failure message as it is counted: whitespace folded, at most 200 characters."""
    text = " ".join(message.split())
    return text if len(text) <= 200 else text[:197] + "..."


# what a failure most likely means, by its kind, or by what its message says (first match wins)
CAUSES: list[tuple[str, str]] = [
    (
        "NameError",
        "the PoC's function needs a name its notebook sets in a cell rescue skipped: the message says "
        "which cell; tag it rescue-setup or list it in poc.setup_cells",
    ),
    (
        "ModuleNotFoundError",
        "the PoC imports a package this interpreter does not have: install it, or point "
        "poc.python at the PoC's own virtualenv",
    ),
    ("auth", "the provider refuses the credentials: check the API key's environment variable"),
    ("connection", "the PoC cannot reach its endpoint: check the URL, the network and any proxy"),
    ("ConnectionError", "the PoC cannot reach its endpoint: check the URL, the network and any proxy"),
    ("timeout", "calls take longer than poc.timeout_s: raise it, or look at why the PoC is slow"),
    ("rate_limited", "the provider rate-limits the calls: lower poc.concurrency"),
    ("http_5xx", "the endpoint fails on its side (HTTP 5xx)"),
    (
        "http_4xx",
        "the endpoint refuses the requests (HTTP 4xx): check the model name, the URL and the request",
    ),
    ("bad_response", "the endpoint answers in a shape rescue cannot read: check response_path"),
    ("crash", "the PoC's process dies on these items (a crash, sys.exit or out of memory)"),
]


def likely_cause(kinds: Counter, messages: list[str]) -> str:
    """The most likely reason for the failures, from :data:`CAUSES` (kinds first, then the messages)."""
    for key, cause in CAUSES:
        if key in kinds or any(m.startswith(key) or f" {key}" in m for m in messages):
            return cause
    return "the PoC's own code raises on these items: see the messages"


def network_summary(spec: Spec, calls: list[Call], items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Where the PoC's calls went (seen by :mod:`rescue.systems.watch` inside the PoC's process; for an HTTP PoC,
    which rescue calls itself, its url): each destination with the items that reached it, matched to a declared
    provider (``compliance.providers[].hosts``) and its region, and the personal data in the inputs sent there
    (counts per kind, never values). None when there is nothing to say (no call)."""
    from ..pii import count_pii

    watched = [(c, it) for c, it in zip(calls, items, strict=True)
               if c.destinations is not None or c.spans is not None]  # fmt: skip
    if not watched and spec.poc.url and calls:  # rescue sends an HTTP PoC's calls itself: to its url
        url = urlsplit(spec.poc.url)
        port = url.port or (443 if url.scheme == "https" else 80)
        reached = [
            {"host": url.hostname or "", "port": port, "loopback": spec.poc.on_loopback, "connections": 1}
        ]
        watched = [
            (dataclasses.replace(c, destinations=reached), it) for c, it in zip(calls, items, strict=True)
        ]
    if not watched:
        return None
    allowed = set(spec.compliance.allowed_regions)
    found: dict[tuple[str, Any], dict[str, Any]] = {}
    texts: dict[tuple[str, Any], list[str]] = {}
    in_requests: dict[tuple[str, Any], Counter[str]] = {}
    reaching = 0
    for call, item in watched:
        reached = {(str(d["host"]), d.get("port")): d for d in call.destinations or []}
        requests = Counter((str(a.get("server.address", "")), a.get("server.port"))
                           for a in (s["attributes"] for s in call.spans or []))  # fmt: skip
        left = False  # whether this call reached a destination off this machine (by connection or request)
        for key in dict.fromkeys([*reached, *requests]):
            d = reached.get(key, {})
            entry = found.setdefault(key, {"host": key[0], "port": key[1], "items": 0, "connections": 0,
                                           "requests": 0, "loopback": bool(d.get("loopback")) if d
                                           else is_loopback(key[0])})  # fmt: skip
            left = left or not entry["loopback"]
            entry["items"] += 1
            entry["connections"] += int(d.get("connections") or 0)
            entry["requests"] += requests.get(key, 0)
            texts.setdefault(key, []).append(str(item.get("text", "")))
        reaching += left
        for span in call.spans or []:
            a = span["attributes"]
            if "rescue.personal_data" in a:
                key = (str(a.get("server.address", "")), a.get("server.port"))
                in_requests.setdefault(key, Counter()).update(
                    {k: 1 for k, v in a["rescue.personal_data"].items() if v}
                )
    for key, entry in found.items():
        provider = next((p for p in spec.compliance.providers if p.covers(entry["host"])), None)
        entry["provider"] = provider.name if provider else None
        entry["region"] = provider.region if provider else None
        entry["allowed"] = None if (provider is None or not allowed) else provider.region in allowed
        # the requests' own bodies when they were seen (requests per kind); else the inputs sent (items per kind)
        entry["personal_data_from"] = "requests" if key in in_requests else "inputs"
        entry["personal_data_sent"] = {} if entry["loopback"] else (
            dict(sorted(in_requests[key].items())) if key in in_requests
            else {k: v for k, v in count_pii(texts[key]).items() if v})  # fmt: skip
    destinations = sorted(found.values(), key=lambda d: (d["loopback"], -d["items"], d["host"]))
    off_machine = [d for d in destinations if not d["loopback"]]
    outside = [
        f"{d['host']}:{d['port']} ({d['provider']}, {d['region']})"
        for d in off_machine
        if d["allowed"] is False
    ]
    return {
        "calls_watched": len(watched),
        "items_reaching_network": reaching,
        "connections_per_call": round(sum(d["connections"] for d in destinations) / len(watched), 3),
        "requests": requests_summary([c for c, _ in watched]),
        "destinations": destinations,
        "undeclared": [f"{d['host']}:{d['port']}" for d in off_machine if d["provider"] is None],
        "outside_allowed": outside,
    }


def requests_summary(calls: list[Call]) -> dict[str, Any] | None:
    """The HTTP requests the PoC's calls sent (:mod:`rescue.systems.spans`): how many a call, the time the
    calls spent waiting on them (the provider's time: the union of the requests' spans) against the PoC's own
    time (the rest of the call), the tokens the responses reported, the models they named and the statuses.
    None when no call's requests were captured (an interpreter without OpenTelemetry, a PoC that sends through
    another client than httpx)."""
    seen = [c for c in calls if c.spans is not None]
    if not seen:
        return None
    per_call = Counter(len(c.spans or []) for c in seen)
    provider, own = [], []
    for c in seen:
        if c.ok and c.latency_ms is not None and c.spans:
            waited = _union_ms([(s["start_ms"], s["start_ms"] + s["duration_ms"]) for s in c.spans])
            provider.append(waited)
            own.append(max(c.latency_ms - waited, 0.0))
    attributes = [s["attributes"] for c in seen for s in c.spans or []]
    tokens_in = [
        a["gen_ai.usage.input_tokens"] for a in attributes if a.get("gen_ai.usage.input_tokens") is not None
    ]
    tokens_out = [a["gen_ai.usage.output_tokens"] for a in attributes
                  if a.get("gen_ai.usage.output_tokens") is not None]  # fmt: skip
    statuses = Counter(
        str(a.get("http.response.status_code", a.get("error.type", "no answer"))) for a in attributes
    )
    models = Counter(str(a["gen_ai.response.model"]) for a in attributes if a.get("gen_ai.response.model"))
    return {
        "calls": len(seen),
        "total": len(attributes),
        "per_call": round(len(attributes) / len(seen), 3),
        "per_call_counts": {str(k): v for k, v in sorted(per_call.items())},
        "provider_ms": {"p50": percentile_with_interval(provider, 50), "p95": percentile_with_interval(provider, 95)},
        "own_ms": {"p50": percentile_with_interval(own, 50), "p95": percentile_with_interval(own, 95)},
        "provider_share": None if not provider else round(sum(provider) / max(sum(provider) + sum(own), 1e-9), 4),
        "tokens": {"requests_reporting": len(tokens_in), "input": sum(tokens_in), "output": sum(tokens_out)},
        "models": dict(models.most_common()),
        "statuses": dict(sorted(statuses.items())),
    }  # fmt: skip


def _union_ms(intervals: list[tuple[float, float]]) -> float:
    """The time covered by intervals that may overlap (requests sent side by side count once)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return round(total, 3)


def latency_summary(calls: list[Call], target_ms: float | None) -> dict[str, Any]:
    """p50/p95/p99 of the live calls with intervals, against the p95 target."""
    # the ledger holds the latency measured when each call was live; cache hits are never timed
    live = [c.latency_ms for c in calls if c.ok and c.latency_ms is not None]
    out: dict[str, Any] = {"n": len(live), "target_p95_ms": target_ms}
    for q in (50, 95, 99):
        out[f"p{q}"] = percentile_with_interval(live, q)
    out["p95_ms"] = out["p95"]["value"]
    out["meets_target"] = None if (target_ms is None or out["p95_ms"] is None) else out["p95_ms"] <= target_ms
    out["histogram_ms"] = live
    return out


def cost_summary(spec: Spec, calls: list[Call], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The PoC's cost per call and per month, and against the cost target; the price's source and date."""
    poc = spec.poc
    ok = [(c, it) for c, it in zip(calls, items, strict=True) if c.ok]
    per_call = None
    basis = None
    model = poc.model or reported_model(calls)
    price = lookup(model, poc.url if poc.url and not poc.on_loopback else None)
    if price and ok:
        tin, tout, estimated = 0.0, 0.0, False
        for c, it in ok:
            if c.tokens_in is None:
                estimated = True
            tin += c.tokens_in if c.tokens_in is not None else len(it["text"]) / CHARS_PER_TOKEN
            tout += (
                c.tokens_out
                if c.tokens_out is not None
                else len(json.dumps(c.output, default=str)) / CHARS_PER_TOKEN
            )
        per_call = price.cost_eur(tin, tout) / len(ok)
        on_wire = sum(1 for c, _ in ok if _reported_by_spans(c))
        tokens = ("tokens estimated from text length (≈4 characters a token; the PoC reports no usage)" if estimated
                  else "tokens the provider's HTTP responses reported" if on_wire == len(ok)
                  else "tokens reported by the PoC")  # fmt: skip
        basis = f"{price.describe()}; {tokens}"
    elif poc.cost_per_call_eur is not None:
        per_call, basis = poc.cost_per_call_eur, "fixed price per call (poc.cost_per_call_eur)"
    volume = spec.targets.monthly_volume
    target = spec.targets.cost_per_call_eur
    return {
        "per_call_eur": None if per_call is None else round(per_call, 6),
        "per_month_eur": None if (per_call is None or volume is None) else round(per_call * volume, 2),
        "monthly_volume": volume,
        "target_per_call_eur": target,
        "basis": basis or unknown_model(model),
        "meets_target": None if (per_call is None or target is None) else per_call <= target,
        "price": None if price is None else _price_used(price),
    }


def _price_used(price: Price) -> dict[str, Any]:
    """The price as the artifact records it."""
    return {"model": price.model, "source": price.source, "as_of": price.as_of,
            "input_per_mtok_eur": price.input_per_mtok, "output_per_mtok_eur": price.output_per_mtok}  # fmt: skip


def judge_cost(spec: Spec, calls: list[Call]) -> dict[str, Any]:
    """What the judge's calls cost (apart from the PoC's)."""
    judge: PocSpec | None = spec.eval.judge
    live = [c for c in calls if c.ok]
    out: dict[str, Any] = {"calls": len(calls), "tokens_in": sum(c.tokens_in or 0 for c in live),
                           "tokens_out": sum(c.tokens_out or 0 for c in live), "total_eur": None, "basis": None}  # fmt: skip
    if judge is None or not live:
        return out
    price = lookup(judge.model or reported_model(calls))
    if price:
        out["total_eur"] = round(price.cost_eur(out["tokens_in"], out["tokens_out"]), 4)
        out["basis"] = f"{price.describe()}; tokens the judge reported"
    elif judge.cost_per_call_eur is not None:
        out["total_eur"] = round(judge.cost_per_call_eur * len(live), 4)
        out["basis"] = "fixed price per call (eval.judge.cost_per_call_eur)"
    else:
        out["basis"] = unknown_model(judge.model).replace(
            "poc.cost_per_call_eur", "eval.judge.cost_per_call_eur"
        )
    return out


def contract_summary(spec: Spec, calls: list[Call]) -> dict[str, Any] | None:
    """The PoC's outputs checked against each integration contract (JSON Schema): valid rate, top violations."""
    if not spec.integration:
        return None
    outputs = [c.output for c in calls if c.ok]
    result: dict[str, Any] = {"contracts": []}
    valid_all = [True] * len(outputs)
    unusable = False
    for contract in spec.integration:
        try:
            schema = read_contract(spec, contract)
        except InputFileError as exc:  # named, and the rest of the day still renders
            result["contracts"].append({"name": contract.name, "valid": wilson(0, 0), "top_violations": [],
                                        "unusable": str(exc)})  # fmt: skip
            unusable = True
            continue
        validator = jsonschema.validators.validator_for(schema)(schema)
        violations: Counter[str] = Counter()
        valid = 0
        for i, output in enumerate(outputs):
            errors = list(validator.iter_errors(output))
            if errors:
                valid_all[i] = False
                for err in errors:
                    where = "/".join(map(str, err.absolute_path)) or "(record)"
                    violations[f"{where}: {err.message}"[:160]] += 1
            else:
                valid += 1
        result["contracts"].append({"name": contract.name, "valid": wilson(valid, len(outputs)),
                                    "top_violations": [{"violation": v, "count": n} for v, n in violations.most_common(8)]})  # fmt: skip
    # with a contract that could not be read, nobody knows whether the outputs fit every contract
    result["valid_rate"] = round(sum(valid_all) / len(outputs), 4) if outputs and not unusable else None
    return result


def comparison_sentence(n: int, items: str, claim: str, difference: dict[str, Any], test: str,
                        p_value: float | None, ci_unit: str = "") -> str:  # fmt: skip
    """One sentence for the PoC against its baseline on the same items: what differs (``claim``), the paired
    difference's 95% interval (in points), the test's p-value and whether this sample can show a difference."""
    low, high = difference["low"] * 100, difference["high"] * 100
    shown_p = p_text(p_value, named=True)
    verdict = (
        "a real difference"
        if p_value is not None and p_value < 0.05
        else "no difference this sample can show"
    )
    return f"On the same {n} production {items} {claim} (95% CI {low:+.1f} to {high:+.1f}{ci_unit}; {test} {shown_p}): {verdict}."
