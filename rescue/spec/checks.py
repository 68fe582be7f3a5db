"""Rules of ``rescue.yaml`` that need more than one field: per-kind requirements, unique names, files that exist."""

from __future__ import annotations

import csv
import re
from urllib.parse import parse_qsl, urlsplit

from ..errors import MISSING, SpecIssue
from .models import FILE_KINDS, PocSpec, Spec
from .secrets import EnvRef, secret_name


def _unknown_placeholders(spec: Spec, template: str) -> list[str]:
    """``{field}`` placeholders of a prompt that name no column of the eval labels file (when it can be read)."""
    fields = set(re.findall(r"\{(\w+)\}", template))
    if not fields or not spec.eval.labels or not spec.path(spec.eval.labels).is_file():
        return []
    try:
        with spec.path(spec.eval.labels).open(encoding="utf-8") as f:
            header = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    known = set(header) | {"text", "item_id", "source", "source_id", "label"}
    return sorted(fields - known)


def _check_eval(spec: Spec) -> list[SpecIssue]:
    ev = spec.eval
    issues: list[SpecIssue] = []
    if ev.task == "generation" and not ev.labels:
        issues.append(
            SpecIssue(
                "eval.labels",
                MISSING,
                "a file of questions with reference answers when eval.task is generation",
            )
        )
    if ev.grades and not ev.rubric:
        issues.append(SpecIssue("eval.rubric", MISSING, "the rubric the grades in eval.grades are for"))
    if ev.baseline == "system" and ev.baseline_system is None:
        issues.append(
            SpecIssue("eval.baseline_system", MISSING, "a system to call when eval.baseline is system")
        )
    if ev.baseline_system is not None and ev.baseline != "system":
        issues.append(SpecIssue("eval.baseline", str(ev.baseline), "system when eval.baseline_system is set"))
    if ev.task == "generation" and ev.baseline in ("majority", "stratified"):
        issues.append(
            SpecIssue("eval.baseline", ev.baseline, "system (or none) when eval.task is generation")
        )
    if ev.baseline == "recorded" and not any(src.kind == "traces" for src in spec.sources):
        issues.append(SpecIssue("eval.baseline", "recorded", "a traces source whose recorded outputs to score "
                                "(sources[*].kind: traces)"))  # fmt: skip
    if ev.rubric and ev.judge is None:
        issues.append(SpecIssue("eval.judge", MISSING, "a judge model when eval.rubric is set"))
    if (ev.rubric or ev.relevant_column or ev.grades) and ev.task != "generation":
        issues.append(
            SpecIssue("eval.task", ev.task, "generation when a rubric, relevant_column or grades is set")
        )
    names = [c.name for c in ev.rubric]
    for i, name in enumerate(names):
        if name in names[:i]:
            issues.append(SpecIssue(f"eval.rubric[{i}].name", name, "a unique criterion name"))
    if ev.corpus_source and ev.corpus_source not in [s.name for s in spec.sources]:
        issues.append(
            SpecIssue(
                "eval.corpus_source", ev.corpus_source, f"one of sources: {[s.name for s in spec.sources]}"
            )
        )
    if ev.grades and not spec.path(ev.grades).is_file():
        issues.append(SpecIssue("eval.grades", ev.grades, "an existing file relative to the project"))
    return issues


# query parameters that carry a credential (access_token, api_key, sig, X-Amz-Signature, password, ...)
_SECRET_QUERY = re.compile(r"(token|key|secret|passw|pwd|sig|auth|credential)", re.IGNORECASE)


def _credentials_in_url(url: str) -> bool:
    """Whether a URL carries a credential: a user or password, or a query parameter named like one."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return True
    return any(_SECRET_QUERY.search(name) for name, _ in parse_qsl(parts.query, keep_blank_values=True))


def _check_env(at: str, system: PocSpec) -> list[SpecIssue]:
    """``poc.env``: only for the PoC's own processes; a name like a credential takes a ``${VAR}``; ``{port}`` needs a
    url with a port; no credentials in a URL written as text."""
    if not system.env:
        return []
    if system.kind not in ("python", "notebook"):
        return [SpecIssue(f"{at}.env", sorted(system.env), f"no env when {at}.kind is {system.kind} (it sets the "
                          "environment of a python or notebook PoC's own processes)")]  # fmt: skip
    issues: list[SpecIssue] = []
    for name, value in system.env.items():
        where = f"{at}.env.{name}"
        if isinstance(value, EnvRef):
            continue
        if secret_name(name):
            issues.append(SpecIssue(where, "<a literal value, not shown>", "a ${VAR} reference to rescue's "
                                    f"environment (e.g. ${{{name}}}): a variable named like a credential is never "
                                    "written in rescue.yaml"))  # fmt: skip
            continue
        if "{port}" in value and not re.search(r":\d+", system.url or ""):
            issues.append(
                SpecIssue(f"{at}.url", system.url or MISSING, f"a URL with a port when {where} uses {{port}}")
            )
        elif "{url}" in value and not system.url:
            issues.append(SpecIssue(f"{at}.url", MISSING, f"a URL when {where} uses {{url}}"))
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value) and _credentials_in_url(value):
            issues.append(SpecIssue(where, "<a URL with credentials, not shown>",
                                    "a URL without credentials; put the whole URL in rescue's environment and "
                                    f"write ${{{name}}}"))  # fmt: skip
    return issues


def check_spec(spec: Spec) -> list[SpecIssue]:
    """Rules that need more than one field: per-kind requirements, unique names, files."""
    issues: list[SpecIssue] = []
    need = {
        "python": ["path", "function"],
        "notebook": ["path", "function"],
        "http": ["url"],
        "predictions": ["path"],
        "openai": ["url", "model"],
    }
    for at, system in spec.systems():
        for name in need[system.kind]:
            if getattr(system, name) in (None, ""):
                issues.append(SpecIssue(f"{at}.{name}", MISSING, f"a value when {at}.kind is {system.kind}"))
        if system.kind in ("http", "openai") and system.url and not re.match(r"^https?://", system.url):
            issues.append(SpecIssue(f"{at}.url", system.url, "an http:// or https:// URL"))
        if system.serve and "{port}" in " ".join(system.serve) and not re.search(r":\d+", system.url or ""):
            issues.append(
                SpecIssue(f"{at}.url", system.url or MISSING, "a URL with a port when serve uses {port}")
            )
        if system.serve and system.url and not system.on_loopback:
            issues.append(
                SpecIssue(
                    f"{at}.url", system.url, "a loopback URL (127.0.0.1 or localhost) when serve is set"
                )
            )
        if system.url and _credentials_in_url(system.url):
            issues.append(SpecIssue(f"{at}.url", "<a URL with a password, not shown>",
                                    "a URL without credentials; put the key in api_key or headers as ${VAR}"))  # fmt: skip
        if system.path and system.kind in ("python", "notebook", "predictions"):
            if not spec.path(system.path).is_file():
                issues.append(
                    SpecIssue(f"{at}.path", system.path, "an existing file relative to the project")
                )
            elif system.kind == "notebook" and not system.path.endswith(".ipynb"):
                issues.append(
                    SpecIssue(f"{at}.path", system.path, f"a .ipynb notebook when {at}.kind is notebook")
                )
        if system.function and not system.function.isidentifier():
            issues.append(SpecIssue(f"{at}.function", system.function, "a Python function name"))
        issues += _check_env(at, system)
        provider_names = [p.name for p in spec.compliance.providers]
        if system.provider and system.provider not in provider_names:
            issues.append(
                SpecIssue(f"{at}.provider", system.provider, f"one of compliance.providers: {provider_names}")
            )
        if system.kind == "openai":
            unknown = _unknown_placeholders(spec, system.prompt)
            if unknown:
                issues.append(SpecIssue(f"{at}.prompt", system.prompt, f"placeholders among the columns of "
                                        f"{spec.eval.labels}: {{{'}, {'.join(unknown)}}} is not one"))  # fmt: skip
    issues += _check_eval(spec)

    seen: dict[str, int] = {}
    for i, src in enumerate(spec.sources):
        at = f"sources[{i}]"
        if src.pushdown == "full" and src.kind in ("postgres", "sqlite") and src.timeout_s is None:
            issues.append(SpecIssue(f"{at}.timeout_s", MISSING, "a statement timeout when pushdown is full on an "
                                    "OLTP database (the whole profile then runs on the customer's server)"))  # fmt: skip
        if src.pushdown is not None and src.kind in ("csv", "parquet", "duckdb", "traces", "http"):
            issues.append(SpecIssue(f"{at}.pushdown", src.pushdown, f"no pushdown for a {src.kind} source (it is "
                                    "profiled in place by rescue's DuckDB)"))  # fmt: skip
        if src.name in seen:
            issues.append(
                SpecIssue(f"{at}.name", src.name, f"a unique name (sources[{seen[src.name]}] has it)")
            )
        seen.setdefault(src.name, i)
        if src.kind in FILE_KINDS and not src.location:
            issues.append(SpecIssue(f"{at}.location", MISSING, f"a file path when kind is {src.kind}"))
        if src.kind in ("sqlite", "duckdb", "postgres", "ibis") and not src.table:
            issues.append(SpecIssue(f"{at}.table", MISSING, f"a table name when kind is {src.kind}"))
        if src.kind in ("postgres", "ibis") and src.dsn is None:
            expected = f"a ${{VAR}} reference to the connection URL when kind is {src.kind}"
            issues.append(SpecIssue(f"{at}.dsn", MISSING, expected))
        if src.kind == "http" and not (src.location and re.match(r"^https?://", src.location)):
            issues.append(
                SpecIssue(
                    f"{at}.location",
                    src.location or MISSING,
                    "an http:// or https:// URL when kind is http",
                )
            )
        if src.kind == "http" and src.location and _credentials_in_url(src.location):
            issues.append(SpecIssue(f"{at}.location", "<a URL with credentials, not shown>",
                                    "a URL without credentials (no user:password@, no token or key in the query); "
                                    "send them as headers: {Authorization: ${VAR}}"))  # fmt: skip
        if src.max_line_bytes is not None and src.kind != "csv":
            issues.append(
                SpecIssue(f"{at}.max_line_bytes", src.max_line_bytes, "no max_line_bytes unless kind is csv")
            )
        if src.dsn is not None and src.kind not in ("postgres", "ibis"):
            issues.append(SpecIssue(f"{at}.dsn", str(src.dsn), "no dsn unless kind is postgres or ibis"))
        if src.format is not None and src.kind != "traces":
            issues.append(SpecIssue(f"{at}.format", src.format, "no format unless kind is traces"))
        if src.kind == "traces":
            for name in ("table", "id_column", "text_column", "timestamp_column", "encoding", "delimiter"):
                if getattr(src, name) is not None:
                    expected = f"no {name} when kind is traces (one row per LLM call, with its own columns)"
                    issues.append(SpecIssue(f"{at}.{name}", getattr(src, name), expected))

    for field, value in (
        ("eval.labels", spec.eval.labels),
        ("eval.demo_examples", spec.eval.demo_examples),
    ):
        if value and not spec.path(value).is_file():
            issues.append(SpecIssue(field, value, "an existing file relative to the project"))
    names: set[str] = set()
    for i, contract in enumerate(spec.integration):
        if contract.name in names:
            issues.append(SpecIssue(f"integration[{i}].name", contract.name, "a unique name"))
        names.add(contract.name)
        if not spec.path(contract.schema_path).is_file():
            issues.append(
                SpecIssue(
                    f"integration[{i}].schema",
                    contract.schema_path,
                    "an existing JSON Schema file relative to the project",
                )
            )
    if spec.eval.classes is not None and len(set(spec.eval.classes)) < 2:
        issues.append(SpecIssue("eval.classes", spec.eval.classes, "at least two distinct labels"))
    return issues
