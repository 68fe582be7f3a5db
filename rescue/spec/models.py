"""The models of ``rescue.yaml``: what an audit project declares (the PoC, targets, sources, eval, owner…)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator
from pydantic_core import PydanticCustomError

from .secrets import EnvValue, SecretRef

SPEC_FILENAME = "rescue.yaml"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

Slug = Annotated[str, Field(pattern=SLUG_PATTERN, min_length=1, max_length=80)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Model(BaseModel):
    """The base of every spec model: unknown fields are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Person(Model):
    """Someone named in the spec, with the evidence for the claim made about them."""

    name: NonEmpty
    team: str | None = None
    role: str | None = None
    evidence: str | None = Field(None, description="where the claim comes from")


PocKind = Literal["python", "notebook", "http", "predictions", "openai"]


class PocSpec(Model):
    """How to call the PoC under audit (or a system it is compared with, or a judge)."""

    kind: PocKind
    path: str | None = Field(None, description="notebook, module file or predictions file")
    function: str | None = None
    python: str | None = Field(
        None, description="the PoC's interpreter, e.g. its .venv/bin/python (default: rescue's)"
    )
    isolation: Literal["process", "thread"] = Field(
        "process",
        description="process: the PoC runs in worker processes (a hang is killed at timeout_s, a crash fails one "
        "item); thread: in rescue's own process",
    )
    inputs: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], NonEmpty] | None = Field(
        None, description="the function's parameters, each to the item field it takes (default: the text)"
    )
    setup_cells: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=list, description="notebook cells (numbered from 1) to run as they are"
    )
    skip_cells: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=list, description="notebook cells (numbered from 1) never to run"
    )
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
    env: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], EnvValue] = Field(
        default_factory=dict,
        description="python and notebook PoCs: environment variables for the PoC's processes, over rescue's own; "
        "text ({port} and {url} filled from url), or ${VAR} / ${VAR:-fallback} read from rescue's environment "
        "(a secret, redacted everywhere); a name like …KEY, …TOKEN, …SECRET or …PASSWORD takes a ${VAR} only",
    )

    @property
    def on_loopback(self) -> bool:
        """Whether the system's URL points at this machine (127.0.0.1, localhost or ::1)."""
        return (urlsplit(self.url or "").hostname or "") in LOOPBACK_HOSTS


class Criterion(Model):
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


class Targets(Model):
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


SourceKind = Literal["csv", "parquet", "sqlite", "duckdb", "postgres", "http", "ibis", "traces"]
FILE_KINDS = ("csv", "parquet", "sqlite", "duckdb", "traces")
TraceFormat = Literal["auto", "otlp_json", "langfuse", "phoenix"]


class Source(Model):
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
    max_line_bytes: Annotated[int, Field(gt=0)] | None = Field(
        None, description="csv: the longest line the reader accepts (DuckDB's max_line_size, 2 MB by default)"
    )
    format: TraceFormat | None = Field(
        None, description="traces: the export's format (default auto: told from the content)"
    )
    pushdown: Literal["full", "light"] | None = Field(
        None,
        description="where Day 2's profile runs: full (every check on the server: engines and warehouses do by "
        "default; an OLTP database opts in, with timeout_s) or light (counts and nulls on the server, the deep "
        "checks on a random sample pulled out: the default for Postgres, SQLite and MySQL)",
    )

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


class EvalSpec(Model):
    """Where the labeled production set and the demo examples are."""

    labels: str | None = None
    label_column: NonEmpty = "label"
    classes: list[NonEmpty] | None = None
    demo_examples: str | None = None
    demo_label_column: str | None = None
    baseline: Literal["majority", "stratified", "system", "recorded"] | None = Field(
        None,
        description="what the PoC is set against: a built-in classifier baseline, another system, or recorded "
        "(the output a production trace recorded for the same input: scored without calling anything)",
    )
    slices: list[NonEmpty] = Field(default_factory=lambda: ["source"], description="item fields to slice by")
    guide: dict[str, str] = Field(default_factory=dict, description="label definitions shown to labelers")
    strata: list[NonEmpty] = Field(
        default_factory=lambda: ["source"], description="columns to stratify the sample by"
    )
    sample_size: Annotated[int, Field(gt=0)] = 300
    where: dict[NonEmpty, NonEmpty | list[NonEmpty]] = Field(
        default_factory=dict,
        description="narrows the population Day 3 samples from: item field → the value (or the values) it must have; "
        "the artifact then states the population the scores generalise to",
    )
    cluster: NonEmpty | None = Field(
        None,
        description="the item field whose equal values make one cluster (turns of one session, questions about one "
        "document): Day 4's intervals treat each cluster as one unit",
    )
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


class Contract(Model):
    """A downstream contract: the JSON Schema the PoC's output must become."""

    name: Slug
    schema_path: str = Field(alias="schema")
    description: str | None = None


class Provider(Model):
    """A third party the PoC sends data to (an LLM API, a hosted model)."""

    name: NonEmpty
    region: NonEmpty
    receives_personal_data: bool | None = None
    dpa_signed: bool | None = None
    hosts: list[NonEmpty] = Field(
        default_factory=list,
        description="the host names its endpoints answer on (api.example.com, or *.example.com for any subdomain): "
        "the destinations Day 4 sees the PoC reach are matched to them",
    )

    def covers(self, host: str) -> bool:
        """Whether ``host`` is one of :attr:`hosts`, or a subdomain of a ``*.domain`` one (case and a final dot
        aside): the one rule Day 2 (traces) and Day 4 (watched calls) match destinations by."""
        host = host.lower().rstrip(".")
        for pattern in self.hosts:
            pattern = pattern.lower().rstrip(".")
            if host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
                return True
        return False


class Compliance(Model):
    allowed_regions: list[NonEmpty] = Field(default_factory=list)
    providers: list[Provider] = Field(default_factory=list)


class Owner(Model):
    """The named person on the customer team who will run the system in production."""

    name: str | None = None
    team: str | None = None
    role: str | None = None
    on_customer_team: bool | None = None
    backup: str | None = None
    evidence: str | None = None
    on_call: str | None = Field(None, description="the rota or escalation path")
    runbook: str | None = Field(None, description="link to the runbook")


class Gate(Model):
    """What `rescue check` requires before a release (thresholds on the artifacts)."""

    allow_blockers: bool = False
    min_headline_score: Annotated[float, Field(ge=0, le=1)] | None = None
    min_macro_f1_low: Annotated[float, Field(ge=0, le=1)] | None = None
    min_contract_valid_rate: Annotated[float, Field(ge=0, le=1)] | None = None


class Spec(Model):
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

    def systems(self) -> list[tuple[str, PocSpec]]:
        """Every system the audit calls, with the field path that declares it: the PoC, the baseline system
        and the judge (those that are set)."""
        declared = [
            ("poc", self.poc),
            ("eval.baseline_system", self.eval.baseline_system),
            ("eval.judge", self.eval.judge),
        ]
        return [(at, system) for at, system in declared if system is not None]

    def secret_refs(self) -> dict[str, SecretRef]:
        """Every secret reference in the spec, keyed by the field path that holds it."""
        refs: dict[str, SecretRef] = {}
        for at, system in self.systems():
            for name, ref in system.headers.items():
                refs[f"{at}.headers.{name}"] = ref
            if system.api_key is not None:
                refs[f"{at}.api_key"] = system.api_key
            for name, value in system.env.items():
                if isinstance(value, SecretRef):
                    refs[f"{at}.env.{name}"] = value
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
