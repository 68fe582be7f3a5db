"""Versioned JSON artifacts: validated against the schema shipped in the package on write and read."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

from pydantic import BaseModel, ValidationError

from . import __version__
from .auditlog import append_record
from .errors import ArtifactError
from .hashing import file_sha256
from .jsonschemas import jsonschema
from .models import MODELS
from .spec import Spec
from .spec.secrets import redact, redact_json

SCHEMAS = Path(__file__).parent / "schemas"
M = TypeVar("M", bound=BaseModel)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of artifact ``name`` (e.g. ``gap``).

    The schemas are the package's own, generated from the models (``scripts/generate_schemas.py``) and checked
    against the 2020-12 metaschema by the tests; they are not checked again here, in every process that reads
    or writes an artifact (that took 0.05-0.13 s a schema, in every day's kernel)."""
    path = SCHEMAS / f"{name}.schema.json"
    if not path.exists():
        raise ArtifactError(f"no schema for artifact {name!r} (looked for {path.name})")
    return json.loads(path.read_text(encoding="utf-8"))


def schema_version(name: str) -> str:
    """The schema version artifact ``name`` is written with (its schema's ``schema_version`` constant)."""
    return load_schema(name)["properties"]["schema_version"]["const"]


@cache
def _validator(name: str) -> Any:
    return jsonschema.Draft202012Validator(load_schema(name))


def validate_artifact(name: str, document: dict[str, Any]) -> None:
    """Raise ArtifactError naming the first place where ``document`` breaks its schema."""
    validator = _validator(name)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ArtifactError(f"{name}.json does not match its schema at {where}: {err.message}{more}")


def remember_spec_secrets(spec: Spec) -> None:
    """Resolve the spec's secrets that are set in this environment, so that :func:`redact` knows them all (a
    process that wrote nothing with a secret yet still keeps one out of what it writes)."""
    for ref in spec.secret_refs().values():
        if ref.is_set():
            ref.resolve()


def write_artifact(
    out: str | Path,
    name: str,
    payload: dict[str, Any],
    spec: Spec,
    parameters: dict[str, Any] | None = None,
) -> Path:
    """Wrap ``payload`` in the artifact envelope, validate it, write ``out/<name>.json`` atomically.

    Also appends an ``artifact`` record (spec and input hashes, output hash) to the audit log.
    """
    remember_spec_secrets(spec)
    payload = redact_json(payload)  # a secret an endpoint echoed becomes its ${VAR}: the day still renders
    document = {
        "artifact": name,
        "schema_version": schema_version(name),
        "rescue_version": __version__,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "project": spec.project,
        "spec_sha256": file_sha256(spec.file),
        **payload,
    }
    validate_artifact(name, document)
    text = redact(json.dumps(document, indent=2, ensure_ascii=False, default=str)) + "\n"
    path = Path(out) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    append_record(
        out,
        "artifact",
        artifact=name,
        project=spec.project,
        parameters=parameters or {},
        spec_sha256=document["spec_sha256"],
        inputs=input_hashes(spec),
        outputs={path.name: file_sha256(path)},
    )
    return path


def input_hashes(spec: Spec) -> dict[str, str]:
    """SHA-256 of every project input file, keyed by its path relative to the project."""
    hashes = {}
    for f in spec.input_files():
        try:
            key = str(f.resolve().relative_to(spec.root))
        except ValueError:
            key = str(f)
        hashes[key] = file_sha256(f)
    return hashes


@overload
def read_artifact(out: str | Path, name: str, required: Literal[True] = ...) -> dict[str, Any]: ...
@overload
def read_artifact(out: str | Path, name: str, required: bool) -> dict[str, Any] | None: ...
@overload
def read_artifact(out: str | Path, name: type[M], required: Literal[True] = ...) -> M: ...
@overload
def read_artifact(out: str | Path, name: type[M], required: bool) -> M | None: ...


def read_artifact(out: str | Path, name: str | type[M], required: bool = True) -> dict[str, Any] | M | None:
    """Read and validate ``out/<name>.json``; ``None`` when absent and not ``required``.

    ``name`` is the artifact's name (the document comes back as a dict, checked against its JSON Schema) or its
    model from :mod:`rescue.models` (it comes back as that model, checked by both).
    """
    model = None if isinstance(name, str) else name
    if model is not None:
        name = next((n for n, m in MODELS.items() if m is model), "")
        if not name:
            raise ArtifactError(f"{model.__name__} is not the model of an artifact")
    path = Path(out) / f"{name}.json"
    if not path.exists():
        if required:
            raise ArtifactError(f"{path} does not exist: run the day that writes {name}.json first")
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path} is not valid JSON: {exc}") from None
    found = str(document.get("schema_version", "?")) if isinstance(document, dict) else "?"
    expected = schema_version(name)
    if found.split(".")[0] != expected.split(".")[0]:
        raise ArtifactError(
            f"{path} has schema version {found}; this rescue reads {expected}: re-run the day that writes it"
        )
    validate_artifact(name, document)
    if model is None:
        return document
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise ArtifactError(f"{path} does not match its model: {exc.errors(include_url=False)[0]}") from None


def redact_secrets(path: str | Path, spec: Spec) -> bool:
    """Replace any resolved secret value in a written file by its ``${VAR}`` reference.

    A last line of defence for executed notebooks and pages; returns whether anything was replaced.
    """
    p = Path(path)
    if not p.exists():
        return False
    remember_spec_secrets(spec)
    text = p.read_text(encoding="utf-8", errors="surrogateescape")
    redacted = redact(text)
    if redacted != text:
        p.write_text(redacted, encoding="utf-8", errors="surrogateescape")
    return redacted != text
