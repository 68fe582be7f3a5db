"""The project's own input files that more than one day reads: the demo examples, the labels, the contracts.

Every day that needs them reads them here: every cell as text (nothing parsed as missing), the demo's text
column chosen by one rule (``text`` when the file has it, else its first column).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

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
    """The JSON Schema of an integration contract (raises OSError or JSONDecodeError when it cannot be read)."""
    return json.loads(spec.path(contract.schema_path).read_text(encoding="utf-8"))
