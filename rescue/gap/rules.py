"""Computed checks: each rule reads the spec and the week's artifacts and returns an Outcome.

A rule never guesses: when the evidence it needs does not exist yet (a later day's artifact),
it returns ``unknown`` with ``pending`` naming the day that will produce it.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import InputFileError
from ..inputs import read_contract, read_demo, read_table
from ..spec import Spec
from ..systems.function import notebook_code
from ..units import quantity


@dataclass(frozen=True)
class Outcome:
    status: str  # pass | fail | unknown
    evidence: str
    inputs: list[str] = field(default_factory=list)  # what the computation read
    pending: str | None = None  # the day/artifact that will settle an unknown


@dataclass
class Context:
    """What the rules may read: the spec and the artifacts present in the output folder."""

    spec: Spec
    artifacts: dict[str, dict[str, Any] | None]


Rule = Callable[..., Outcome]
RULES: dict[str, Rule] = {}


def rule(fn: Rule) -> Rule:
    RULES[fn.__name__] = fn
    return fn


_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq}
OP_WORDS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "="}


def _plural(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: ``1 source``, ``3 sources``."""
    return f"{n:,} {noun if n == 1 else noun + 's'}"


def _says(template: str, value: float, unit: str) -> str:
    """``template`` with ``{value}`` the quantity in its unit and ``{s}`` the plural ending it takes."""
    return template.format(value=quantity(value, unit), s="" if value == 1 else "s")


@rule
def target_set(ctx: Context, targets: dict[str, dict[str, str]], mode: str = "all") -> Outcome:
    """Targets are set in the spec: all of them, or with ``mode: any`` at least one.

    ``targets`` maps each target of ``rescue.yaml`` to how the evidence says it: ``says`` (a sentence with
    ``{value}``) and the target's ``unit`` (see :func:`quantity`).
    """
    values = {t: getattr(ctx.spec.targets, t) for t in targets}
    inputs = [f"rescue.yaml targets.{t}" for t in targets]
    present = [v is not None for v in values.values()]
    ok = any(present) if mode == "any" else all(present)
    if ok:
        shown = ", ".join(
            _says(targets[k]["says"], v, targets[k]["unit"]) for k, v in values.items() if v is not None
        )
        return Outcome("pass", shown, inputs)
    missing = [f"targets.{k}" for k, v in values.items() if v is None]
    return Outcome("fail", f"not set: {(' or ' if mode == 'any' else ', ').join(missing)}", inputs)


def _pointer(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.strip("/").split("/"):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(pointer)
        node = node[part]
    return node


@rule
def artifact_value(
    ctx: Context,
    artifact: str,
    day: int,
    pointer: str,
    op: str,
    target: str | None = None,
    value: float | None = None,
    says: str = "measured {value}",
    says_none: str | None = None,
    unit: str = "count",
    observed: dict[str, str] | None = None,
) -> Outcome:
    """Compare a number in a later day's artifact with a target from the spec (or a constant).

    The evidence says what was measured in words and in its unit: ``says`` with ``{value}`` the measured
    quantity (:func:`quantity` in ``unit``; a list counts its names) and ``{s}`` its plural ending, then
    whether it meets the target; ``says_none`` replaces it when nothing was counted (a count of 0, no names).
    A bound of 0 on a count (``> 0``, ``== 0``) goes without saying.

    ``observed`` adds what Day 2's production traces observed of the same quantity beside it, as evidence only
    (the status is the measurement's): ``pointer`` into ``data_picture.json``, ``calls`` (the pointer to the
    calls it is over), ``says`` and ``unknown`` (the pointer to why it could not be known). The measurement is
    then labelled "measured on replay", the traces' figure "observed in production".
    """
    outcome = _compared(ctx, artifact, day, pointer, op, target, value, says, says_none, unit)
    if observed is None:
        return outcome
    return _beside_production(ctx, outcome, op, target, value, unit, **observed)


def _compared(
    ctx: Context,
    artifact: str,
    day: int,
    pointer: str,
    op: str,
    target: str | None,
    value: float | None,
    says: str,
    says_none: str | None,
    unit: str,
) -> Outcome:
    inputs = [f"{artifact}.json {pointer}"]
    if target is not None:
        inputs.append(f"rescue.yaml targets.{target}")
        bound = getattr(ctx.spec.targets, target)
        if bound is None:
            return Outcome("unknown", f"no targets.{target} to compare with", inputs)
    else:
        bound = value
    document = ctx.artifacts.get(artifact)
    if document is None:
        return Outcome(
            "unknown",
            f"not measured until day {day} has run (it writes {artifact}.json)",
            inputs,
            f"day {day}",
        )
    # the day ran: a value it did not measure stays unknown, but re-running Day 1 after it would not change that
    try:
        measured = _pointer(document, pointer)
    except KeyError:
        return Outcome(
            "unknown", f"day {day} ran but measured nothing here ({artifact}.json has no {pointer})", inputs
        )
    if measured is None:
        return Outcome(
            "unknown", f"day {day} ran but measured nothing here ({artifact}.json {pointer} is empty)", inputs
        )
    names = ""
    if isinstance(measured, list):  # a list of names (e.g. sources) compares by its length
        names = ", ".join(map(str, measured))
        measured = len(measured)
    ok = _OPS[op](measured, bound)
    if measured == 0 and says_none:
        shown = says_none
    else:
        shown = _says(says, measured, unit) + (f": {names}" if names else "")
    if not (bound == 0 and op in (">", "==")):
        verdict = "meets" if ok else "misses"
        shown += (
            f", {verdict} the {'target' if target else 'requirement'} {OP_WORDS[op]} {quantity(bound, unit)}"
        )
    return Outcome("pass" if ok else "fail", shown, inputs)


def _beside_production(
    ctx: Context,
    outcome: Outcome,
    op: str,
    target: str | None,
    value: float | None,
    unit: str,
    pointer: str,
    says: str,
    calls: str | None = None,
    unknown: str | None = None,
) -> Outcome:
    """``outcome`` (measured on replay) with what the production traces observed beside it, when they did."""
    picture = ctx.artifacts.get("data_picture")
    if not (picture or {}).get("production"):
        return outcome
    try:
        measured = _pointer(picture, pointer)
        n = _pointer(picture, calls) if calls else None
        why = _pointer(picture, unknown) if unknown else None
    except KeyError:
        return outcome
    if measured is None:
        seen = f"not known ({why})" if why else "not measured"
    else:
        seen = _says(says, measured, unit) + (f" over {_plural(n, 'call')}" if n else "")
        bound = getattr(ctx.spec.targets, target) if target is not None else value
        if bound is not None:
            verdict = "meets" if _OPS[op](measured, bound) else "misses"
            kind = "target" if target else "requirement"
            seen += f", {verdict} the {kind} {OP_WORDS[op]} {quantity(bound, unit)}"
    return Outcome(outcome.status, f"measured on replay: {outcome.evidence}; observed in production: {seen}",
                   [*outcome.inputs, f"data_picture.json {pointer}"], outcome.pending)  # fmt: skip


@rule
def quality_target_met(ctx: Context) -> Outcome:
    """Macro-F1's lower bound against targets.min_macro_f1; for a free-text PoC, every rubric criterion's
    pass-rate lower bound (prediction-powered, or from people's grades alone) against targets.min_pass_rate."""
    position = ctx.artifacts.get("eval_position")
    if position is None or position.get("task") != "generation":
        return artifact_value(
            ctx, "eval_position", 4, "/scores/macro_f1/low", ">=", target="min_macro_f1",
            says="macro-F1 {value} at the low end of its 95% interval", unit="score",
        )  # fmt: skip
    return artifact_value(
        ctx, "eval_position", 4, "/target/lowest_pass_rate_low", ">=", target="min_pass_rate",
        says="the weakest rubric criterion passes {value} of questions at the low end of its 95% interval",
        unit="share",
    )  # fmt: skip


@rule
def contracts_valid(ctx: Context) -> Outcome:
    spec = ctx.spec
    if not spec.integration:
        return Outcome(
            "fail", "no downstream contract declared under integration", ["rescue.yaml integration"]
        )
    problems, names = [], []
    for c in spec.integration:
        names.append(c.name)
        try:
            read_contract(spec, c)
        except InputFileError as exc:
            problems.append(f"{c.name}: {exc}")
    inputs = [c.schema_path for c in spec.integration]
    if problems:
        return Outcome("fail", "invalid contract: " + "; ".join(problems), inputs)
    return Outcome("pass", f"{_plural(len(names), 'valid JSON Schema contract')}: {', '.join(names)}", inputs)


def _defined_functions(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


@rule
def poc_callable(ctx: Context) -> Outcome:
    poc = ctx.spec.poc
    if poc.kind == "http":
        return Outcome("pass", f"HTTP endpoint {poc.url}", ["rescue.yaml poc.url"])
    if poc.kind == "openai":
        return Outcome(
            "pass", f"OpenAI-compatible endpoint {poc.url} (model {poc.model})", ["rescue.yaml poc.url"]
        )
    if poc.kind == "predictions":
        return Outcome(
            "fail", "only a file of predictions: the PoC cannot be called on new inputs", ["rescue.yaml poc"]
        )
    path = ctx.spec.path(poc.path or "")
    code = "\n".join(notebook_code(path)) if poc.kind == "notebook" else path.read_text(encoding="utf-8")
    found = poc.function in _defined_functions(code)
    if found:
        return Outcome("pass", f"{poc.path} defines {poc.function}()", [poc.path or ""])
    return Outcome("fail", f"{poc.path} defines no function {poc.function}()", [poc.path or ""])


@rule
def personal_data_declared(ctx: Context) -> Outcome:
    sources = ctx.spec.sources
    if not sources:
        return Outcome("unknown", "no sources declared", ["rescue.yaml sources"])
    missing = [s.name for s in sources if s.contains_personal_data is None]
    inputs = ["rescue.yaml sources[*].contains_personal_data"]
    if missing:
        return Outcome("fail", f"not stated for: {', '.join(missing)}", inputs)
    pii = [s.name for s in sources if s.contains_personal_data]
    return Outcome(
        "pass",
        f"stated for every source ({_plural(len(sources), 'source')}); personal data in: {', '.join(pii) or 'none'}",
        inputs,
    )


@rule
def residency(ctx: Context) -> Outcome:
    spec = ctx.spec
    allowed = set(spec.compliance.allowed_regions)
    inputs = ["rescue.yaml compliance", "rescue.yaml sources[*].region"]
    if not allowed:
        return Outcome("unknown", "compliance.allowed_regions is not set", inputs)
    personal = [s for s in spec.sources if s.contains_personal_data]
    violations = [f"source {s.name} in {s.region}" for s in personal if s.region and s.region not in allowed]
    unknown = [f"source {s.name} has no region" for s in personal if not s.region]
    if personal or any(s.contains_personal_data is None for s in spec.sources):
        for p in spec.compliance.providers:
            if p.receives_personal_data is False:
                continue
            if p.region not in allowed:
                violations.append(f"provider {p.name} in {p.region}")
    observed, seen = _observed_destinations(ctx)
    if seen is not None:
        inputs.append("data_picture.json /production")
        violations += observed["outside"]
        unknown += observed["undeclared"]
    replay, replayed = _replayed_destinations(ctx)
    if replayed is not None:
        inputs.append("eval_position.json network")
        violations += [f"Day 4 saw {_sent(d)} go to {d['host']}:{d['port']} ({d['provider']}, {d['region']})"
                       for d in replay["outside"]]  # fmt: skip
        unknown += [f"Day 4 saw {_sent(d)} go to {d['host']}:{d['port']}, which no compliance.providers entry "
                    "covers: its region is unknown" for d in replay["undeclared"]]  # fmt: skip
    allowed_text = ", ".join(sorted(allowed))
    if violations:
        return Outcome("fail", f"outside allowed regions ({allowed_text}): {'; '.join(violations)}", inputs)
    if unknown:
        return Outcome("unknown", "; ".join(unknown), inputs)
    shown = f"; observed in production: {seen}" if seen else ""
    shown += f"; observed on Day 4: {replayed}" if replayed else ""
    return Outcome("pass", f"all personal data stays in {allowed_text}{shown}", inputs)


def _sent(d: dict[str, Any]) -> str:
    """What went to a Day 4 destination that holds personal data, in words ("" for none)."""
    n = sum(d.get("personal_data_sent", {}).values())
    if not n:
        return ""
    what = "request" if d.get("personal_data_from") == "requests" else "input"
    return f"{n:,} {what}{'s' if n != 1 else ''} with personal data"


def _replayed_destinations(ctx: Context) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """What Day 4 saw the PoC's calls send off this machine, for the residency and DPA checks: the destinations
    outside the allowed regions and those no provider covers, when personal data was found in what went there;
    and every destination in words (None when Day 4 watched no call that left this machine)."""
    net = (ctx.artifacts.get("eval_position") or {}).get("network")
    off = [d for d in (net or {}).get("destinations", []) if not d["loopback"]]
    if not off:
        return {"outside": [], "undeclared": []}, None
    outside = [d for d in off if d["allowed"] is False and _sent(d)]
    undeclared = [d for d in off if d["provider"] is None and _sent(d)]
    seen = ", ".join(
        f"{d['host']} ({d['provider'] or 'undeclared'}, {_plural(d['items'], 'call')})" for d in off
    )
    return {"outside": outside, "undeclared": undeclared}, seen


def _observed_destinations(ctx: Context) -> tuple[dict[str, list[str]], str | None]:
    """What Day 2's production traces saw of the calls' destinations, for the residency check: the
    destinations outside the allowed regions and those no provider covers, when their calls carry personal
    data (found in them, or the traces source is not declared free of it); and what was observed, in words
    (None without traces)."""
    production = (ctx.artifacts.get("data_picture") or {}).get("production")
    if not production:
        return {"outside": [], "undeclared": []}, None

    def personal(d: dict[str, Any]) -> bool:
        return bool(d["personal_data"]) or d["personal_data_declared"] is not False

    def said(d: dict[str, Any]) -> str:
        found = ", with personal data found in them" if d["personal_data"] else ""
        where = f"(traces source {d['source']}) went to {d['destination']}"
        return f"{_plural(d['calls'], 'call')} observed in production {where}{found}"

    outside = [f"{said(d)} ({d['declared_as']}, {d['region']})" for d in production["outside_allowed_regions"]
               if personal(d)]  # fmt: skip
    undeclared = [f"{said(d)}, which no compliance.providers entry covers: its region is unknown"
                  for d in production["undeclared_destinations"] if personal(d)]  # fmt: skip
    seen = (f"{_plural(production['calls'], 'call')} in the traces, none with personal data to a destination "
            "outside the allowed regions or undeclared")  # fmt: skip
    return {"outside": outside, "undeclared": undeclared}, seen


@rule
def observed_destinations(ctx: Context) -> Outcome:
    """Where Day 4 saw the PoC's calls go: every destination off this machine must be a declared provider's host
    in the allowed regions."""
    inputs = [
        "eval_position.json network",
        "rescue.yaml compliance.providers[*].hosts",
        "rescue.yaml compliance",
    ]
    pos = ctx.artifacts.get("eval_position")
    if pos is None:
        return Outcome("unknown", "not observed until day 4 has run (it watches every call)", inputs, "day 4")
    net = pos.get("network")
    if not net:
        return Outcome("unknown", "day 4 made no call of the PoC to watch", inputs)
    off = [d for d in net["destinations"] if not d["loopback"]]
    if not off:
        return Outcome(
            "pass", f"none of the {_plural(net['calls_watched'], 'call')} left this machine", inputs
        )
    problems = [f"{d['host']}:{d['port']} is undeclared (no compliance provider lists it)" for d in off
                if d["provider"] is None]  # fmt: skip
    problems += [f"{d['host']}:{d['port']} is {d['provider']} in {d['region']}, outside the allowed regions"
                 for d in off if d["allowed"] is False]  # fmt: skip
    sent = [f"{_sent(d)} went to {d['host']}" for d in off
            if _sent(d) and (d["provider"] is None or d["allowed"] is False)]  # fmt: skip
    if problems:
        return Outcome("fail", "; ".join(problems + sent), inputs)
    if any(d["allowed"] is None for d in off):
        return Outcome("unknown", "compliance.allowed_regions is not set: the destinations' regions cannot be judged",
                       inputs)  # fmt: skip
    shown = ", ".join(f"{d['host']} ({d['provider']}, {d['region']})" for d in off)
    return Outcome(
        "pass", f"every destination is a declared provider in the allowed regions: {shown}", inputs
    )


def _undeclared_endpoints(spec: Spec) -> list[str]:
    """Systems that send items to an endpoint off this machine without naming their provider."""
    return [
        f"{where} → {urlsplit(system.url or '').hostname or ''}"
        for where, system in spec.systems()
        if system.kind in ("http", "openai") and not system.provider and not system.on_loopback
    ]


@rule
def providers_dpa(ctx: Context) -> Outcome:
    providers = ctx.spec.compliance.providers
    inputs = ["rescue.yaml compliance.providers"]
    undeclared = _undeclared_endpoints(ctx.spec)
    if undeclared:
        return Outcome("unknown", "data goes to endpoints no compliance.providers entry names (set their provider): "
                       + ", ".join(undeclared), [*inputs, "rescue.yaml poc/eval urls"])  # fmt: skip
    replay, replayed = _replayed_destinations(ctx)
    if replayed is not None:
        inputs.append("eval_position.json network")
    # personal data to a destination no provider names: no DPA can cover it
    uncovered = [f"Day 4 saw {_sent(d)} go to {d['host']}:{d['port']}, which no provider names: no DPA covers it"
                 for d in replay["undeclared"]]  # fmt: skip
    if not providers and not uncovered:
        said = (f"Day 4 found no personal data in what the PoC sent off this machine ({replayed})" if replayed
                else "the PoC sends data to no third-party provider")  # fmt: skip
        return Outcome("pass", said, inputs)
    without = [p.name for p in providers if p.dpa_signed is False]
    unknown = [p.name for p in providers if p.dpa_signed is None]
    if without or uncovered:
        said = [f"no DPA with: {', '.join(without)}"] if without else []
        return Outcome("fail", "; ".join(said + uncovered), inputs)
    if unknown:
        return Outcome("unknown", f"DPA status not stated for: {', '.join(unknown)}", inputs)
    shown = f"; observed on Day 4: {replayed}" if replayed else ""
    return Outcome(
        "pass", f"a DPA is stated for every provider ({_plural(len(providers), 'provider')}){shown}", inputs
    )


# Patterns of credentials that should never sit in code. Kept conservative to avoid noise.
_SECRET_PATTERNS = {
    "OpenAI-style API key": re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),
    "AWS access key id": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "private key block": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:[^\s/@'\"]+@"),
    "assigned key/token/password": re.compile(
        r"(?i)\b(api[_-]?key|secret|token|password|passwd)\b\s*[:=]\s*['\"][^'\"\s]{8,}['\"]"
    ),
}


def _poc_files(spec: Spec) -> list[Path]:
    if not spec.poc.path:
        return []
    path = spec.path(spec.poc.path)
    if path.is_file():
        return [path]
    return []


@rule
def no_hardcoded_secrets(ctx: Context) -> Outcome:
    files = _poc_files(ctx.spec)
    inputs = [str(f.relative_to(ctx.spec.root)) for f in files]
    if not files:
        return Outcome("unknown", "no PoC source file to scan (http PoC): attest it instead", inputs)
    hits: list[str] = []
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        for what, pattern in _SECRET_PATTERNS.items():
            n = len(pattern.findall(text))
            if n:
                # never echo the match itself: it may be a live credential
                hits.append(f"{f.name}: {n} × {what}")
    if hits:
        return Outcome("fail", "credentials found in code: " + "; ".join(hits), inputs)
    return Outcome(
        "pass",
        f"no credentials found: scanned {_plural(len(files), 'file')} for "
        f"{len(_SECRET_PATTERNS)} kinds of credential",
        inputs,
    )


@rule
def secrets_resolvable(ctx: Context) -> Outcome:
    refs = ctx.spec.secret_refs()
    inputs = [f"rescue.yaml {where}" for where in refs]
    if not refs:
        return Outcome("pass", "the spec references no credentials", inputs)
    missing = sorted({str(ref) for ref in refs.values() if not ref.is_set()})
    if missing:
        return Outcome("fail", f"not set in this environment: {', '.join(missing)}", inputs)
    return Outcome("pass", f"every credential the spec references is set here ({_plural(len(refs), 'reference')}; "
                   "values not shown)", inputs)  # fmt: skip


@rule
def sources_declared(ctx: Context) -> Outcome:
    sources = ctx.spec.sources
    inputs = ["rescue.yaml sources"]
    if not sources:
        return Outcome("fail", "no production source declared: the data exists only in the demo", inputs)
    kinds = sorted({s.kind for s in sources})
    return Outcome("pass", f"{_plural(len(sources), 'source')} declared ({', '.join(kinds)})", inputs)


@rule
def sources_owned(ctx: Context) -> Outcome:
    sources = ctx.spec.sources
    inputs = ["rescue.yaml sources[*].owner"]
    if not sources:
        return Outcome("unknown", "no sources declared", inputs)
    unowned = [s.name for s in sources if s.owner is None]
    no_evidence = [s.name for s in sources if s.owner is not None and not s.owner.evidence]
    if unowned or no_evidence:
        parts = []
        if unowned:
            parts.append(f"no owner: {', '.join(unowned)}")
        if no_evidence:
            parts.append(f"owner without evidence: {', '.join(no_evidence)}")
        return Outcome("fail", "; ".join(parts), inputs)
    return Outcome(
        "pass", f"every source has an owner, with evidence ({_plural(len(sources), 'source')})", inputs
    )


@rule
def labeled_production_set(ctx: Context, min_rows: int, min_ratio_to_demo: float) -> Outcome:
    spec = ctx.spec
    inputs = ["rescue.yaml eval"]
    if not spec.eval.labels:
        return Outcome("fail", "no labeled production set (eval.labels)", inputs, "day 3")
    labels_path = spec.path(spec.eval.labels)
    inputs.append(spec.eval.labels)
    frame = read_table(labels_path)
    column = spec.eval.label_column
    if column not in frame.columns:
        return Outcome("fail", f"{spec.eval.labels} has no column {column!r}", inputs)
    n = int((frame[column].str.strip() != "").sum())
    n_demo = 0
    demo = read_demo(spec)
    if demo is not None:
        inputs.append(spec.eval.demo_examples)
        n_demo = len(demo.frame)
    ratio = n / n_demo if n_demo else float("inf")
    shown = f"{_plural(n, 'labeled production item')} vs {_plural(n_demo, 'demo example')}"
    origin_column = next((c for c in ("label_origin", "reference_origin") if c in frame.columns), None)
    if origin_column:
        origins = frame[origin_column].replace("", "unstated").value_counts()
        shown += " (labels from " + ", ".join(f"{k}: {v:,}" for k, v in origins.items()) + ")"
    if n >= min_rows and ratio >= min_ratio_to_demo:
        return Outcome("pass", shown, inputs)
    return Outcome(
        "fail", f"{shown} (need ≥ {min_rows} and ≥ {min_ratio_to_demo:g}× the demo)", inputs, "day 3"
    )


@rule
def owner_named(ctx: Context) -> Outcome:
    owner = ctx.spec.owner
    inputs = ["rescue.yaml owner"]
    if owner is None or not owner.name:
        return Outcome("fail", "no owner named", inputs)
    if owner.on_customer_team is None:
        return Outcome("unknown", f"{owner.name}: not stated whether on the customer team", inputs)
    if not owner.on_customer_team:
        team = f" ({owner.team})" if owner.team else ""
        return Outcome("fail", f"{owner.name}{team} is not on the customer team", inputs)
    return Outcome("pass", f"{owner.name}, {owner.team or 'team not stated'}", inputs)


@rule
def backup_named(ctx: Context) -> Outcome:
    owner = ctx.spec.owner
    inputs = ["rescue.yaml owner.backup"]
    if owner is None or not owner.backup:
        return Outcome("fail", "no backup owner named", inputs)
    return Outcome("pass", f"backup: {owner.backup}", inputs)
