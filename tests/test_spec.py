"""rescue.yaml validation: every mistake is one SpecError naming the field path and the expectation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rescue.errors import SecretUnavailable, SpecError
from rescue.spec import SecretRef, load_spec

from .conftest import REPO, SAMPLE, copy_rag_sample


def test_sample_spec_is_valid() -> None:
    spec = load_spec(SAMPLE)
    assert spec.project == "pharma-feedback-triage"
    assert [s.name for s in spec.sources] == ["crm", "web-form", "app-feedback"]
    assert spec.root == SAMPLE.resolve()
    assert spec.targets.latency_p95_ms == 2000
    assert spec.integration[0].schema_path == "contracts/crm_case.schema.json"


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


_DELETE = object()

# (what to change, the new value, the field path the error must name, a word the expectation must hold)
MALFORMED = [
    (("project",), _DELETE, "project", "required"),
    (("project",), "Pharma Feedback", "project", "lowercase"),
    (("project",), "", "project", "non-empty"),
    (("use_case",), _DELETE, "use_case", "required"),
    (("use_case",), "", "use_case", "non-empty"),
    (("version",), 2, "version", "one of 1"),
    (("poc",), _DELETE, "poc", "required"),
    (("poc",), "notebook", "poc", "mapping"),
    (("poc", "kind"), "notebok", "poc.kind", "'notebook'"),
    (("poc", "path"), _DELETE, "poc.path", "when poc.kind is notebook"),
    (("poc", "path"), "poc/missing.ipynb", "poc.path", "existing file"),
    (("poc", "function"), _DELETE, "poc.function", "when poc.kind is notebook"),
    (("poc", "function"), "not a name", "poc.function", "function name"),
    (("poc", "timeout_s"), 0, "poc.timeout_s", "greater than 0"),
    (("poc", "timeout_s"), "soon", "poc.timeout_s", "number"),
    (("poc", "concurrency"), 0, "poc.concurrency", "at least 1"),
    (("poc", "concurrency"), 2.5, "poc.concurrency", "whole number"),
    (
        ("poc", "headers"),
        {"Authorization": "Bearer abc123"},
        "poc.headers.Authorization",
        "environment variable",
    ),
    (("poc", "provider"), "other-llm", "poc.provider", "compliance.providers"),
    (("poc", "retries"), 3, "poc.retries", "known field"),
    (("targets", "latency_p95_ms"), "fast", "targets.latency_p95_ms", "number"),
    (("targets", "latency_p95_ms"), -5, "targets.latency_p95_ms", "greater than 0"),
    (("targets", "min_macro_f1"), 1.5, "targets.min_macro_f1", "at most 1"),
    (("targets", "monthly_volume"), "lots", "targets.monthly_volume", "whole number"),
    (("targets", "monthly_volme"), 3, "targets.monthly_volme", "did you mean 'monthly_volume'"),
    (("targets",), [1, 2], "targets", "mapping"),
    (("sources",), {"name": "crm"}, "sources", "list"),
    (("sources", 0, "kind"), "oracle", "sources[0].kind", "'postgres'"),
    (("sources", 0, "name"), "CRM DB", "sources[0].name", "lowercase"),
    (("sources", 1, "name"), "crm", "sources[1].name", "unique"),
    (("sources", 0, "location"), _DELETE, "sources[0].location", "file path"),
    (("sources", 0, "table"), _DELETE, "sources[0].table", "table name"),
    (("sources", 0, "dsn"), "${CRM_DSN}", "sources[0].dsn", "no dsn unless"),
    (("sources", 0, "kind"), "ibis", "sources[0].dsn", "connection URL when kind is ibis"),
    (("sources", 1, "encoding"), "klingon-8", "sources[1].encoding", "codec"),
    (("sources", 1, "delimiter"), ";;", "sources[1].delimiter", "at most 1"),
    (("sources", 0, "contains_personal_data"), "maybe", "sources[0].contains_personal_data", "true or false"),
    (("sources", 0, "owner"), {"team": "x"}, "sources[0].owner.name", "required"),
    (("sources", 0, "owner", "email"), "a@b.c", "sources[0].owner.email", "known field"),
    (("sources", 2, "kind"), "http", "sources[2].location", "http:// or https://"),
    (("eval", "labels"), "nope.csv", "eval.labels", "existing file"),
    (("eval", "classes"), ["positive"], "eval.classes", "two distinct"),
    (("eval", "baseline"), "gpt-4", "eval.baseline", "'majority'"),
    (("integration", 0, "schema"), _DELETE, "integration[0].schema", "required"),
    (("integration", 0, "schema"), "contracts/nope.json", "integration[0].schema", "existing JSON Schema"),
    (("compliance", "allowed_regions"), "eu-west-1", "compliance.allowed_regions", "list"),
    (("compliance", "providers", 0, "region"), _DELETE, "compliance.providers[0].region", "required"),
    (("owner", "on_customer_team"), "kind of", "owner.on_customer_team", "true or false"),
    (("owner", "nmae"), "X", "owner.nmae", "did you mean 'name'"),
    (("attestations",), 5, "attestations", "string"),
    (("sources", 0, "pushdown"), "all", "sources[0].pushdown", "'full'"),
    (("sources", 0, "pushdown"), "full", "sources[0].timeout_s", "statement timeout"),
    (("sources", 2, "pushdown"), "full", "sources[2].pushdown", "no pushdown for a parquet source"),
    (("eval", "baseline"), "recorded", "eval.baseline", "a traces source"),
    (("eval", "cluster"), "", "eval.cluster", "non-empty text"),
    (("eval", "where"), ["model"], "eval.where", "mapping"),
]


@pytest.mark.parametrize(
    ("path", "value", "field", "expected"),
    MALFORMED,
    ids=[f"{'.'.join(map(str, m[0]))}={m[1]!r}"[:60] for m in MALFORMED],
)
def test_malformed_spec_names_the_field(write_spec, sample_spec_data, path, value, field, expected) -> None:
    project = write_spec(_set(sample_spec_data, path, value))
    with pytest.raises(SpecError) as info:
        load_spec(project)
    paths = [issue.path for issue in info.value.issues]
    assert field in paths, f"{field} not in {paths}: {info.value}"
    issue = next(i for i in info.value.issues if i.path == field)
    assert expected in issue.expected, str(issue)
    assert field in str(info.value)


def test_there_are_at_least_thirty_malformed_cases() -> None:
    assert len(MALFORMED) >= 30


def test_postgres_source_needs_a_dsn_reference(write_spec, sample_spec_data) -> None:
    data = _set(sample_spec_data, ("sources", 0), {"name": "wh", "kind": "postgres", "table": "t"})
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(data))
    assert info.value.path == "sources[0].dsn"


def test_literal_secret_is_refused_and_never_echoed(write_spec, sample_spec_data) -> None:
    secret = "postgres://audit:hunter2-very-secret@db/prod"
    data = _set(
        sample_spec_data, ("sources", 0), {"name": "wh", "kind": "postgres", "table": "t", "dsn": secret}
    )
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(data))
    assert info.value.path == "sources[0].dsn"
    assert "hunter2" not in str(info.value)
    assert "environment variable" in info.value.expected


def test_every_problem_is_listed_in_one_error(write_spec, sample_spec_data) -> None:
    data = _set(sample_spec_data, ("poc", "kind"), "nb")
    data = _set(data, ("targets", "latency_p95_ms"), "fast")
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(data))
    assert [i.path for i in info.value.issues] == ["poc.kind", "targets.latency_p95_ms"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("project: x\n  use_case: [unclosed\n", "line"),
        ("project: a\nproject: b\nuse_case: u\n", "line 2"),
        ("- just\n- a list\n", ""),
        ("", ""),
        ("project: [a, b\n", "line"),
    ],
)
def test_yaml_syntax_and_shape_errors(write_spec, text, where) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text))
    assert info.value.path.startswith(where)


def test_duplicate_key_is_named(write_spec) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(write_spec("project: a\nproject: b\nuse_case: u\n"))
    assert "duplicate key 'project'" in info.value.expected


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path)
    assert "rescue.yaml" in str(info.value)


def test_commented_out_sections_are_empty_not_errors(write_spec, sample_spec_data) -> None:
    data = _set(sample_spec_data, ("targets",), None)
    data = _set(data, ("sources",), None)
    spec = load_spec(write_spec(data))
    assert spec.sources == [] and spec.targets.latency_p95_ms is None


def test_secret_refs_resolve_only_from_the_environment(monkeypatch, write_spec, sample_spec_data) -> None:
    data = copy.deepcopy(sample_spec_data)
    data["sources"].append({"name": "wh", "kind": "postgres", "table": "t", "dsn": "${RESCUE_TEST_DSN}"})
    spec = load_spec(write_spec(data))
    ref = spec.sources[-1].dsn
    assert isinstance(ref, SecretRef)
    assert str(ref) == "${RESCUE_TEST_DSN}" and "RESCUE_TEST_DSN" in repr(ref)
    assert spec.secret_refs() == {"sources[3].dsn": ref}
    monkeypatch.delenv("RESCUE_TEST_DSN", raising=False)
    with pytest.raises(SecretUnavailable, match="RESCUE_TEST_DSN"):
        ref.resolve("sources[3].dsn")
    monkeypatch.setenv("RESCUE_TEST_DSN", "postgres://x")
    assert ref.resolve() == "postgres://x"
    # the validated model dumps the reference, never the value
    assert "postgres://x" not in spec.model_dump_json()


# --- property-based: any wrong-typed value in a typed field is named by its path ----------------

TYPED_FIELDS = {
    ("targets", "latency_p95_ms"): "number",
    ("targets", "cost_per_call_eur"): "number",
    ("targets", "monthly_volume"): "whole",
    ("poc", "timeout_s"): "number",
    ("poc", "concurrency"): "whole",
    ("sources", 0, "contains_personal_data"): "true or false",
    ("owner", "on_customer_team"): "true or false",
}

_junk = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=12).filter(
        lambda s: s.strip().lower() not in {"y", "n", "yes", "no", "on", "off", "t", "f", "true", "false"}
    ),
    st.lists(st.integers(), min_size=1, max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=5), st.integers(), min_size=1, max_size=2),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(TYPED_FIELDS, key=str)), junk=_junk)
def test_wrong_type_anywhere_names_that_field(write_spec, sample_spec_data, field, junk) -> None:
    project = write_spec(_set(sample_spec_data, field, junk))
    with pytest.raises(SpecError) as info:
        load_spec(project)
    want = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(field))
    assert want in [i.path for i in info.value.issues], str(info.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.from_regex(r"[a-z]{3,12}", fullmatch=True))
def test_unknown_top_level_field_is_named(write_spec, sample_spec_data, name) -> None:
    from rescue.spec import Spec

    if name in Spec.model_fields:
        return
    data = dict(sample_spec_data)
    data[name] = 1
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(data))
    assert info.value.path == name and "known field" in info.value.expected


def _rag_spec() -> dict[str, Any]:
    return yaml.safe_load((REPO / "sample_data" / "drug-answers" / "rescue.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def write_rag_spec(tmp_path: Path):
    project = copy_rag_sample(tmp_path)

    def write(data: dict[str, Any]) -> Path:
        (project / "rescue.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
        return project

    return write


@pytest.mark.parametrize(
    ("path", "value", "field", "expected"),
    [
        (("poc", "model"), _DELETE, "poc.model", "a value when poc.kind is openai"),
        (("poc", "url"), "127.0.0.1:8765/v1", "poc.url", "http:// or https://"),
        (("poc", "api_key"), "sk-live-123", "poc.api_key", "environment variable"),
        (("eval", "judge"), _DELETE, "eval.judge", "a judge model when eval.rubric is set"),
        (("eval", "judge", "min_kappa"), 2, "eval.judge.min_kappa", "at most 1"),
        (("eval", "judge", "kind"), "http", "eval.judge.kind", "openai"),
        (("eval", "baseline"), "majority", "eval.baseline", "system (or none) when eval.task is generation"),
        (("eval", "baseline_system"), _DELETE, "eval.baseline_system", "a system to call"),
        (("eval", "task"), "classification", "eval.task", "generation when a rubric"),
        (("eval", "corpus_source"), "warehouse", "eval.corpus_source", "one of sources"),
        (("eval", "grades"), "nope.csv", "eval.grades", "an existing file"),
        (("eval", "rubric", 1, "name"), "answers_question", "eval.rubric[1].name", "unique"),
        (("eval", "rubric", 0, "scale"), "1-10", "eval.rubric[0].scale", "pass_fail"),
        (("eval", "judge", "url"), "http://127.0.0.1/v1", "eval.judge.url", "a URL with a port"),
        (("eval", "judge", "url"), "https://api.example.com:443/v1", "eval.judge.url", "a loopback URL"),
        (("poc", "url"), "http://me:sk-live-123@127.0.0.1:8765/v1", "poc.url", "a URL without credentials"),
        (("poc", "prompt"), "About {drugg}: {text}", "poc.prompt", "{drugg} is not one"),
        (("eval", "rubric"), [], "eval.rubric", "the rubric the grades"),
        (("eval", "labels"), _DELETE, "eval.labels", "a file of questions with reference answers"),
        (
            ("eval", "baseline_system", "provider"),
            "acme",
            "eval.baseline_system.provider",
            "one of compliance.providers",
        ),
        (
            ("eval", "baseline_system"),
            {"kind": "predictions", "path": "nope.csv"},
            "eval.baseline_system.path",
            "an existing file",
        ),
    ],
)
def test_malformed_generation_spec_names_the_field(write_rag_spec, path, value, field, expected) -> None:
    project = write_rag_spec(_set(_rag_spec(), path, value))
    with pytest.raises(SpecError) as info:
        load_spec(project)
    found = [i.expected for i in info.value.issues if i.path == field]
    assert any(expected in e for e in found), str(info.value)
    assert "sk-live-123" not in str(info.value)


def test_api_keys_of_every_system_are_secret_refs(write_rag_spec) -> None:
    data = _rag_spec()
    data["poc"]["api_key"] = "${POC_KEY}"
    data["eval"]["judge"]["api_key"] = "${JUDGE_KEY}"
    spec = load_spec(write_rag_spec(data))
    assert set(spec.secret_refs()) == {"poc.api_key", "eval.judge.api_key"}


def _alias_bomb(levels: int) -> str:
    """Billion laughs: each level is nine aliases of the one before, 9**levels values in a few hundred bytes."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "".join(f"    {line}\n" for line in lines)


@pytest.mark.parametrize("levels", [9, 10])
def test_an_alias_bomb_is_one_clear_error_in_under_a_second(write_spec, levels: int) -> None:
    import time

    spec = (
        "project: p\nuse_case: u\npoc:\n  kind: http\n  url: http://127.0.0.1:9/\n  request:\n"
        + _alias_bomb(levels)
    )
    assert len(spec.encode()) < 700
    project = write_spec(spec)
    started = time.perf_counter()
    with pytest.raises(SpecError, match="values once its aliases"):
        load_spec(project)
    assert time.perf_counter() - started < 1.0


def test_a_deep_spec_is_one_clear_error_not_a_recursion_traceback(write_spec) -> None:
    project = write_spec(
        "project: p\nuse_case: u\npoc: {kind: http, url: 'http://127.0.0.1:9/'}\nx: " + "[" * 500 + "]" * 500
    )
    with pytest.raises(SpecError, match="levels deep"):
        load_spec(project)


def test_ordinary_aliases_still_work(write_spec, sample_spec_data) -> None:
    data = copy.deepcopy(sample_spec_data)
    data["sources"][1]["owner"] = data["sources"][0][
        "owner"
    ]  # the same object twice: dumped as &id001/*id001
    text = yaml.safe_dump(data, sort_keys=False)
    assert "&id001" in text and "*id001" in text
    spec = load_spec(write_spec(text))
    assert spec.sources[1].owner == spec.sources[0].owner
