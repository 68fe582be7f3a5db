"""Pydantic models of the six artifacts rescue writes; the JSON Schemas in ``rescue/schemas/`` are generated
from them (``python scripts/generate_schemas.py``) and a test fails when the two drift apart.

Plumbing: imports only pydantic, the standard library and this package.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import core_schema

from .common import Envelope, Interval
from .data_picture import DataPictureArtifact
from .eval_position import ClassificationPosition, EvalPositionArtifact, GenerationPosition
from .eval_set import EvalSetArtifact
from .gap import GapArtifact
from .owner import OwnerArtifact
from .readout import ReadoutArtifact

MODELS: dict[str, type[BaseModel]] = {
    "gap": GapArtifact,
    "data_picture": DataPictureArtifact,
    "eval_set": EvalSetArtifact,
    "eval_position": EvalPositionArtifact,
    "owner": OwnerArtifact,
    "readout": ReadoutArtifact,
}
"""Each artifact's model, by the artifact's name (``<name>.json``, ``<name>.schema.json``)."""


class ArtifactSchema(GenerateJsonSchema):
    """The JSON Schema of an artifact as rescue ships it: descriptions, no per-field titles, no defaults.

    A document holds what it holds: a default is no part of the contract (a key that may be left out is simply
    not required), and field titles would only repeat the key.
    """

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def generate(
        self, schema: core_schema.CoreSchema, mode: JsonSchemaMode = "validation"
    ) -> JsonSchemaValue:
        return _unwrapped(super().generate(schema, mode))

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> dict[str, Any]:
        return self.generate_inner(schema["schema"])


def _unwrapped(value: Any) -> Any:
    """``value`` with the docstrings' line breaks taken out of its descriptions (paragraphs stay apart)."""
    if isinstance(value, list):
        return [_unwrapped(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _unwrapped(v) for k, v in value.items()}
    if isinstance(out.get("description"), str):
        paragraphs = out["description"].split("\n\n")
        out["description"] = "\n\n".join(" ".join(p.split()) for p in paragraphs)
    return out


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of artifact ``name``, generated from its model."""
    return MODELS[name].model_json_schema(mode="validation", schema_generator=ArtifactSchema)


def schema_text(name: str) -> str:
    """``rescue/schemas/<name>.schema.json`` as it must read: sorted keys, indented, a final newline."""
    return json.dumps(json_schema(name), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = [
    "MODELS",
    "ArtifactSchema",
    "ClassificationPosition",
    "DataPictureArtifact",
    "Envelope",
    "EvalPositionArtifact",
    "EvalSetArtifact",
    "GapArtifact",
    "GenerationPosition",
    "Interval",
    "OwnerArtifact",
    "ReadoutArtifact",
    "json_schema",
    "schema_text",
]
