"""The project's own input files that more than one day reads: the demo examples, the labels, the contracts.

Every day that needs them reads them here: every cell as text (nothing parsed as missing), the demo's text
column chosen by one rule (``text`` when the file has it, else its first column).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd

from .errors import InputFileError
from .spec import Contract, Spec


@dataclass(frozen=True)
class Demo:
    """The hand-picked examples the PoC was shown on (``eval.demo_examples``), as text."""

    frame: pd.DataFrame
    text_column: str

    @property
    def texts(self) -> list[str]:
        """The examples' texts, in file order."""
        return list(self.frame[self.text_column])


def read_demo(spec: Spec) -> Demo | None:
    """The demo examples file read as text (every cell a string, nothing parsed as missing); None when unset."""
    if not spec.eval.demo_examples:
        return None
    frame = pd.read_csv(spec.path(spec.eval.demo_examples), dtype=str, keep_default_na=False)
    return Demo(frame, "text" if "text" in frame.columns else frame.columns[0])


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV (or JSON Lines, ``.jsonl``) file of the project, every cell as text."""
    path = Path(path)
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_contract(spec: Spec, contract: Contract) -> dict[str, Any]:
    """The JSON Schema of an integration contract, checked against its meta-schema.

    Raises :class:`~rescue.errors.InputFileError` naming the file when it cannot be read as UTF-8 JSON, is not
    a schema object, breaks its meta-schema, or has a ``$ref`` outside itself (rescue has no network at run
    time: a remote reference would pass Day 1 and fail Day 4).
    """
    path = spec.path(contract.schema_path)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputFileError(contract.schema_path, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputFileError(
            contract.schema_path, "is not UTF-8 text; expected a JSON Schema saved as UTF-8"
        ) from None
    except json.JSONDecodeError as exc:
        raise InputFileError(contract.schema_path, f"is not JSON ({exc.msg})", line=exc.lineno) from None
    if not isinstance(schema, dict):
        raise InputFileError(
            contract.schema_path, f"holds a JSON {type(schema).__name__}; expected a JSON Schema object"
        )
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InputFileError(contract.schema_path, f"is not a valid JSON Schema: {exc.message}") from None
    remote = sorted({ref for ref in _refs(schema) if not ref.startswith("#")})
    if remote:
        raise InputFileError(contract.schema_path, f"refers outside itself ($ref {remote[0]}); rescue reads no "
                             "network at run time: inline the referenced schema under $defs")  # fmt: skip
    return schema


def _refs(node: Any) -> list[str]:
    """Every ``$ref`` value in a schema."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []
