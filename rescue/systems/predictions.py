"""``predictions`` systems: outputs the team already has, in a CSV or JSONL file keyed by item."""

from __future__ import annotations

from typing import Any

from ..errors import InputFileError
from ..hashing import file_sha256
from ..inputs import read_table
from ..spec import PocSpec, Spec
from .base import Adapter, Answer, CallFailed, config_hash


def predictions_adapter(spec: Spec, poc: PocSpec, name: str = "poc") -> Adapter:
    """The adapter for a ``predictions`` system: each item's recorded output, or ``missing``."""
    path = spec.path(poc.path or "")
    frame = read_table(path)
    if "item_id" not in frame.columns:
        raise InputFileError(
            path.name,
            "missing; expected an item_id column (and source, when items come from several sources)",
            "item_id",
        )
    keyed = {(str(r.get("source", "")), str(r["item_id"])): r for r in frame.to_dict("records")}

    def call(item: dict[str, Any]) -> Answer:
        raw = str(item.get("source_id", item["item_id"]))
        row = keyed.get((str(item.get("source", "")), raw)) or keyed.get(("", raw))
        if row is None:
            raise CallFailed("missing", "no prediction for this item")
        return Answer({k: v for k, v in row.items() if k not in ("source", "item_id")})

    return Adapter(name, config_hash(file_sha256(path)), call, poc.timeout_s, 64)
