"""The audit project's spec: ``rescue.yaml`` validated into typed models.

A bad spec raises one :class:`~rescue.errors.SpecError` that lists every problem with its
dotted field path (``sources[1].kind``), the bad value and what was expected. Secrets are never
written in the spec: secret-bearing fields accept only ``${ENV_VAR}`` references, resolved at use.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import os
import re
import types
import typing
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError, core_schema

from .errors import MISSING, SecretUnavailable, SpecError, SpecIssue

SPEC_FILENAME = "rescue.yaml"
_SECRET_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_SLUG_RE = r"^[a-z0-9][a-z0-9_-]*$"


class SecretRef:
    """A reference to a secret held in an environment variable, written ``${VAR}`` in the spec.

    Its ``str``/``repr`` show only the reference; :meth:`resolve` reads the value at use.
    """

    __slots__ = ("var",)

    def __init__(self, var: str):
        self.var = var

    def resolve(self, where: str = "") -> str:
        """Return the secret's value from the environment, or raise SecretUnavailable."""
        value = os.environ.get(self.var)
        if value is None or value == "":
            raise SecretUnavailable(self.var, where)
        return value

    def is_set(self) -> bool:
        """Whether the environment variable is set (the value itself is not returned)."""
        return bool(os.environ.get(self.var))

    def __str__(self) -> str:
        return "${" + self.var + "}"

    def __repr__(self) -> str:
        return f"SecretRef({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretRef) and other.var == self.var

    def __hash__(self) -> int:
        return hash(self.var)

    @classmethod
    def _validate(cls, value: Any) -> SecretRef:
        if isinstance(value, SecretRef):
            return value
        if isinstance(value, str) and (m := _SECRET_RE.match(value.strip())):
            return cls(m.group(1))
        raise PydanticCustomError(
            "secret_literal",
            "an environment variable reference like ${{CRM_DSN}}; secrets are never written in rescue.yaml",
        )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )


Slug = Annotated[str, Field(pattern=_SLUG_RE, min_length=1, max_length=80)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Person(_Model):
    """Someone named in the spec, with the evidence for the claim made about them."""

    name: NonEmpty
    team: str | None = None
    role: str | None = None
    evidence: str | None = Field(None, description="where the claim comes from")


PocKind = Literal["python", "notebook", "http", "predictions", "openai"]


class PocSpec(_Model):
    """How to call the PoC under audit (or a system it is compared with, or a judge)."""

    kind: PocKind
    path: str | None = Field(None, description="notebook, module file or predictions file")
    function: str | None = None
    url: str | None = None
    method: Literal["POST", "GET"] = "POST"
    request: dict[str, Any] | None = None
    response_path: str | None = None
    usage_path: str | None = None
    headers: dict[str, SecretRef] = Field(default_factory=dict)
    timeout_s: Annotated[float, Field(gt=0)] = 30.0
    concurrency: Annotated[int, Field(ge=1, le=256)] = 4
    provider: str | None = Field(None, description="name of the compliance provider it calls")
    model: str | None = Field(None, description="model name in the price table, for cost per call")
    cost_per_call_eur: Annotated[float, Field(ge=0)] | None = Field(
        None, description="a fixed price per call"
    )
    # kind: openai — an OpenAI-compatible chat endpoint (vLLM, Ollama, a provider); url is the base URL (…/v1)
    api_key: SecretRef | None = Field(None, description="${VAR} holding the API key (sent as a bearer token)")
    system_prompt: str | None = Field(None, description="the system message")
    prompt: str = Field("{text}", description="the user message; {field} is filled from the item")
    temperature: Annotated[float, Field(ge=0, le=2)] | None = 0.0
    max_tokens: Annotated[int, Field(gt=0)] | None = None
    documents_path: str | None = Field(
        None, description="dotted path to the retrieved document ids in the response (else the answer's)"
    )
    serve: list[NonEmpty] | None = Field(
        None, description="command that starts the endpoint locally ({port} is the url's port)"
    )


class Criterion(_Model):
    """One rubric criterion an answer is graded on (by people in Day 3, by the judge in Day 4)."""

    name: Slug
    description: NonEmpty
    scale: Literal["pass_fail", "1-5"] = "pass_fail"
    pass_at: Annotated[int, Field(ge=1, le=5)] = 4


class JudgeSpec(PocSpec):
    """The judge model: an OpenAI-compatible endpoint, calibrated against people before it is believed."""

    kind: Literal["openai"] = "openai"
    min_kappa: Annotated[float, Field(ge=-1, le=1)] = 0.6
    min_calibration_items: Annotated[int, Field(ge=1)] = 20


class Targets(_Model):
    """Production requirements with numbers. Each one left out is a gap finding, not an error."""

    latency_p95_ms: Annotated[float, Field(gt=0)] | None = None
    cost_per_call_eur: Annotated[float, Field(ge=0)] | None = None
    monthly_volume: Annotated[int, Field(gt=0)] | None = None
    min_macro_f1: Annotated[float, Field(ge=0, le=1)] | None = None
    min_accuracy: Annotated[float, Field(ge=0, le=1)] | None = None
    min_pass_rate: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="free-text PoCs: every rubric criterion's pass rate (lower 95% bound)"
    )
    availability_pct: Annotated[float, Field(gt=0, le=100)] | None = None


SourceKind = Literal["csv", "parquet", "sqlite", "duckdb", "postgres", "http", "ibis"]
FILE_KINDS = ("csv", "parquet", "sqlite", "duckdb")


class Source(_Model):
    """A production data source. Opened read-only; never written to."""

    name: Slug
    kind: SourceKind
    location: str | None = Field(None, description="file path (relative to the project) or URL")
    dsn: SecretRef | None = None
    table: str | None = None
    headers: dict[str, SecretRef] = Field(default_factory=dict)
    encoding: str | None = None
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] | None = None
    id_column: str | None = None
    text_column: str | None = None
    timestamp_column: str | None = None
    owner: Person | None = None
    region: str | None = None
    contains_personal_data: bool | None = None
    timeout_s: Annotated[float, Field(gt=0)] | None = Field(None, description="statement timeout")
    sample_rows: Annotated[int, Field(gt=0)] | None = Field(None, description="rows pulled for deep checks")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return value
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise PydanticCustomError(
                "unknown_encoding", "a Python codec name such as utf-8, cp1252 or latin-1"
            ) from None
        return value


class EvalSpec(_Model):
    """Where the labeled production set and the demo examples are."""

    labels: str | None = None
    label_column: NonEmpty = "label"
    classes: list[NonEmpty] | None = None
    demo_examples: str | None = None
    demo_label_column: str | None = None
    baseline: Literal["majority", "stratified", "system"] | None = None
    slices: list[NonEmpty] = Field(default_factory=lambda: ["source"], description="item fields to slice by")
    guide: dict[str, str] = Field(default_factory=dict, description="label definitions shown to labelers")
    strata: list[NonEmpty] = Field(
        default_factory=lambda: ["source"], description="columns to stratify the sample by"
    )
    sample_size: Annotated[int, Field(gt=0)] = 300
    # free-text answers (chat, RAG, drafting): the label column holds the reference answer
    task: Literal["classification", "generation"] = "classification"
    answer_field: NonEmpty = Field("answer", description="where the answer is in the PoC's output")
    documents_field: NonEmpty = Field("documents", description="where the cited document ids are")
    relevant_column: str | None = Field(None, description="gold relevant document ids, separated by |")
    corpus_source: str | None = Field(None, description="the source the document ids point into")
    k: Annotated[int, Field(ge=1, le=100)] = 5
    rubric: list[Criterion] = Field(default_factory=list)
    judge: JudgeSpec | None = None
    grades: str | None = Field(None, description="rubric grades to import (item_id, criterion, grade, …)")
    baseline_system: PocSpec | None = Field(
        None, description="the system to compare with when baseline: system"
    )


class Contract(_Model):
    """A downstream contract: the JSON Schema the PoC's output must become."""

    name: Slug
    schema_path: str = Field(alias="schema")
    description: str | None = None


class Provider(_Model):
    """A third party the PoC sends data to (an LLM API, a hosted model)."""

    name: NonEmpty
    region: NonEmpty
    receives_personal_data: bool | None = None
    dpa_signed: bool | None = None


class Compliance(_Model):
    allowed_regions: list[NonEmpty] = Field(default_factory=list)
    providers: list[Provider] = Field(default_factory=list)


class Owner(_Model):
    """The named person on the customer team who will run the system in production."""

    name: str | None = None
    team: str | None = None
    role: str | None = None
    on_customer_team: bool | None = None
    backup: str | None = None
    evidence: str | None = None
    on_call: str | None = Field(None, description="the rota or escalation path")
    runbook: str | None = Field(None, description="link to the runbook")


class Gate(_Model):
    """What `rescue check` requires before a release (thresholds on the artifacts)."""

    allow_blockers: bool = False
    min_headline_score: Annotated[float, Field(ge=0, le=1)] | None = None
    min_macro_f1_low: Annotated[float, Field(ge=0, le=1)] | None = None
    min_contract_valid_rate: Annotated[float, Field(ge=0, le=1)] | None = None


class Spec(_Model):
    """A validated rescue.yaml. ``root`` is the project folder all relative paths start from."""

    version: Literal[1] = 1
    project: Slug
    use_case: NonEmpty
    poc: PocSpec
    targets: Targets = Field(default_factory=Targets)
    sources: list[Source] = Field(default_factory=list)
    eval: EvalSpec = Field(default_factory=EvalSpec)
    integration: list[Contract] = Field(default_factory=list)
    compliance: Compliance = Field(default_factory=Compliance)
    owner: Owner | None = None
    attestations: str = "attestations.yaml"
    signoffs: str = "signoffs.yaml"
    gate: Gate = Field(default_factory=Gate)

    @field_validator("targets", "eval", "compliance", "sources", "integration", mode="before")
    @classmethod
    def _empty_section(cls, value: Any, info: Any) -> Any:
        # `targets:` with every line commented out parses as None: treat it as an empty section
        if value is None:
            return [] if info.field_name in ("sources", "integration") else {}
        return value

    _root: Path = PrivateAttr(default=Path("."))
    _file: Path = PrivateAttr(default=Path(SPEC_FILENAME))

    @property
    def root(self) -> Path:
        return self._root

    @property
    def file(self) -> Path:
        return self._file

    def path(self, relative: str | Path) -> Path:
        """Resolve a path written in the spec against the project folder."""
        p = Path(relative)
        return p if p.is_absolute() else (self._root / p)

    def secret_refs(self) -> dict[str, SecretRef]:
        """Every secret reference in the spec, keyed by the field path that holds it."""
        refs: dict[str, SecretRef] = {}
        systems = [
            ("poc", self.poc),
            ("eval.baseline_system", self.eval.baseline_system),
            ("eval.judge", self.eval.judge),
        ]
        for at, system in systems:
            if system is None:
                continue
            for name, ref in system.headers.items():
                refs[f"{at}.headers.{name}"] = ref
            if system.api_key is not None:
                refs[f"{at}.api_key"] = system.api_key
        for i, src in enumerate(self.sources):
            if src.dsn is not None:
                refs[f"sources[{i}].dsn"] = src.dsn
            for name, ref in src.headers.items():
                refs[f"sources[{i}].headers.{name}"] = ref
        return refs

    def input_files(self) -> list[Path]:
        """The project files the audit reads: spec, PoC, eval files, contracts, file sources."""
        files = [self._file]
        if self.poc.path:
            files.append(self.path(self.poc.path))
        for p in (self.eval.labels, self.eval.demo_examples, self.eval.grades):
            if p:
                files.append(self.path(p))
        files += [self.path(c.schema_path) for c in self.integration]
        files += [self.path(s.location) for s in self.sources if s.kind in FILE_KINDS and s.location]
        att = self.path(self.attestations)
        if att.exists():
            files.append(att)
        return [f for f in files if f.is_file()]


# --- loading -------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key].start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(file: Path) -> Any:
    """Parse a YAML file; syntax errors and duplicate keys become a SpecError with line/column."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(file, [SpecIssue("", MISSING, f"a file at {file}")]) from None
    except UnicodeDecodeError as exc:
        raise SpecError(file, [SpecIssue("", MISSING, f"UTF-8 text ({exc.reason})")]) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(yaml)"
        raise SpecError(file, [SpecIssue(where, MISSING, f"valid YAML ({exc.problem})")]) from None
    except yaml.YAMLError as exc:
        raise SpecError(file, [SpecIssue("", MISSING, f"valid YAML ({exc})")]) from None


def format_loc(loc: tuple[Any, ...]) -> str:
    """('sources', 1, 'kind') -> 'sources[1].kind'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return node


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types inside Optional/Annotated/list/dict wrappers."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict):
        found = []
        for arg in typing.get_args(annotation):
            found += _unwrap(arg)
        return found
    return [annotation]


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if field is None:
            return None
        inner = [t for t in _unwrap(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        current = inner[0] if inner else None
    return current


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _expected(err: dict[str, Any], root_model: type[BaseModel]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "a value (this field is required)"
    if kind == "secret_literal":
        return "an environment variable reference like ${CRM_DSN}; secrets are never written in rescue.yaml"
    if kind == "extra_forbidden":
        parent = _model_at(root_model, tuple(err["loc"][:-1]))
        name = str(err["loc"][-1])
        if parent is None:
            return "no such field"
        allowed = _field_names(parent)
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"a known field; {hint}allowed here: {', '.join(allowed)}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "a whole number"
    if kind in ("float_type", "float_parsing"):
        return "a number"
    if kind in ("bool_type", "bool_parsing"):
        return "true or false"
    if kind == "string_type":
        return "text (a string)"
    if kind in ("list_type", "tuple_type"):
        return "a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "a mapping of fields (key: value)"
    if kind == "greater_than":
        return f"a number greater than {ctx['gt']}"
    if kind == "greater_than_equal":
        return f"a number of at least {ctx['ge']}"
    if kind == "less_than":
        return f"a number less than {ctx['lt']}"
    if kind == "less_than_equal":
        return f"a number of at most {ctx['le']}"
    if kind == "string_too_short":
        return "non-empty text"
    if kind == "string_too_long":
        return f"text of at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == _SLUG_RE:
            return "a lowercase name of letters, digits, '-' or '_' (like crm-feedback)"
        return f"text matching {ctx.get('pattern')}"
    if kind in (
        "date_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
    ):
        return "a date written YYYY-MM-DD"
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    return err["msg"]


def issues_from_validation(exc: ValidationError, data: Any, model: type[BaseModel]) -> list[SpecIssue]:
    """Turn a pydantic ValidationError into SpecIssues with field paths and expectations."""
    issues = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        value = _value_at(data, loc)
        if err["type"] == "secret_literal" and value is not MISSING:
            value = "<a literal value, not shown>"
        issues.append(SpecIssue(format_loc(loc), value, _expected(err, model)))
    return issues


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


def _check_semantics(spec: Spec) -> list[SpecIssue]:
    """Rules that need more than one field: per-kind requirements, unique names, files."""
    issues: list[SpecIssue] = []
    poc = spec.poc
    need = {
        "python": ["path", "function"],
        "notebook": ["path", "function"],
        "http": ["url"],
        "predictions": ["path"],
        "openai": ["url", "model"],
    }
    systems = [("poc", poc)]
    if spec.eval.baseline_system is not None:
        systems.append(("eval.baseline_system", spec.eval.baseline_system))
    if spec.eval.judge is not None:
        systems.append(("eval.judge", spec.eval.judge))
    for at, system in systems:
        for name in need[system.kind]:
            if getattr(system, name) in (None, ""):
                issues.append(SpecIssue(f"{at}.{name}", MISSING, f"a value when {at}.kind is {system.kind}"))
        if system.kind in ("http", "openai") and system.url and not re.match(r"^https?://", system.url):
            issues.append(SpecIssue(f"{at}.url", system.url, "an http:// or https:// URL"))
        if system.serve and "{port}" in " ".join(system.serve) and not re.search(r":\d+", system.url or ""):
            issues.append(
                SpecIssue(f"{at}.url", system.url or MISSING, "a URL with a port when serve uses {port}")
            )
        host = urlsplit(system.url or "").hostname or ""
        if system.serve and system.url and host not in ("127.0.0.1", "localhost", "::1"):
            issues.append(
                SpecIssue(
                    f"{at}.url", system.url, "a loopback URL (127.0.0.1 or localhost) when serve is set"
                )
            )
        if system.url and urlsplit(system.url).password is not None:
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
        if src.dsn is not None and src.kind not in ("postgres", "ibis"):
            issues.append(SpecIssue(f"{at}.dsn", str(src.dsn), "no dsn unless kind is postgres or ibis"))

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


def find_spec_file(project: str | Path) -> Path:
    """The rescue.yaml of a project folder (or the file itself when given a file)."""
    p = Path(project).expanduser()
    return p / SPEC_FILENAME if p.is_dir() else p


def load_spec(project: str | Path) -> Spec:
    """Load and validate a project's rescue.yaml. Raises SpecError listing every problem."""
    file = find_spec_file(project)
    data = read_yaml(file)
    if not isinstance(data, dict):
        raise SpecError(
            file,
            [
                SpecIssue(
                    "",
                    data if data is not None else MISSING,
                    "a mapping with at least project, use_case and poc",
                )
            ],
        )
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(file, issues_from_validation(exc, data, Spec)) from None
    spec._root = file.parent.resolve()
    spec._file = file.resolve()
    if issues := _check_semantics(spec):
        raise SpecError(file, issues)
    return spec


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- attestations ----------------------------------------------------------------------------


class Attestation(_Model):
    """A person's statement that a check is met, with a date and a link to the evidence."""

    check: NonEmpty
    by: NonEmpty
    role: str | None = None
    date: date
    link: Annotated[str, Field(pattern=r"^(https?://|mailto:|file:|[\w./-]+$)")]
    note: str | None = None


class _AttestationFile(_Model):
    attestations: list[Attestation] = Field(default_factory=list)


class SignOff(_Model):
    """A named person signs one version of an artifact: the hash pins the version signed."""

    artifact: Literal["gap", "data_picture", "eval_set", "eval_position", "owner"]
    scope: NonEmpty
    by: NonEmpty
    role: str | None = None
    date: date
    link: Annotated[str, Field(pattern=r"^(https?://|mailto:|file:|[\w./-]+$)")]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _SignOffFile(_Model):
    signoffs: list[SignOff] = Field(default_factory=list)


def _load_records(file: Path, model: type[BaseModel], field: str) -> list[Any]:
    """The records of a project's YAML list file (empty when it does not exist yet), validated."""
    if not file.exists():
        return []
    data = read_yaml(file) or {}
    try:
        return list(getattr(model.model_validate(data), field))
    except ValidationError as exc:
        raise SpecError(file, issues_from_validation(exc, data, model)) from None


def load_signoffs(spec: Spec) -> list[SignOff]:
    """The project's sign-offs (empty when the file does not exist yet)."""
    return _load_records(spec.path(spec.signoffs), _SignOffFile, "signoffs")


def load_attestations(spec: Spec) -> list[Attestation]:
    """The project's attestations (empty when the file does not exist yet)."""
    return _load_records(spec.path(spec.attestations), _AttestationFile, "attestations")
