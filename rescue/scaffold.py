"""``rescue init``: scaffold a new audit project that validates as it is."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from .errors import RescueError
from .gap.attest import HEADER as ATTESTATIONS_HEADER
from .spec import SPEC_FILENAME, load_spec

TEMPLATE = Path(__file__).parent / "templates" / "project" / "rescue.yaml"

_POC_STUB = '''\
def predict(text: str) -> dict:
    """Replace this with the PoC's logic (or point rescue.yaml's poc at the real notebook)."""
    raise NotImplementedError("the PoC has not been brought into this project yet")
'''

_OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "What the PoC's output must become downstream (replace with the real contract)",
    "type": "object",
    "required": ["label"],
    "properties": {"label": {"type": "string"}},
}


def init_project(directory: str | Path, name: str | None = None) -> Path:
    """Create ``directory`` with a commented rescue.yaml, folders and placeholders; refuse to overwrite."""
    root = Path(directory)
    spec_file = root / SPEC_FILENAME
    if spec_file.exists():
        raise RescueError(f"{spec_file} already exists; not overwriting it")
    slug = re.sub(r"[^a-z0-9_-]+", "-", (name or root.resolve().name).lower()).strip("-_") or "audit"
    for sub in ("poc", "sources", "contracts"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    poc = root / "poc" / "poc.ipynb"
    if not poc.exists():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [
            nbformat.v4.new_markdown_cell(
                "# The PoC under audit\nPaste the PoC's code here or point `poc.path` at it."
            ),
            nbformat.v4.new_code_cell(_POC_STUB),
        ]
        nbformat.write(nb, str(poc))
    schema = root / "contracts" / "output.schema.json"
    if not schema.exists():
        schema.write_text(json.dumps(_OUTPUT_SCHEMA, indent=2) + "\n", encoding="utf-8")
    attestations = root / "attestations.yaml"
    if not attestations.exists():
        attestations.write_text(ATTESTATIONS_HEADER + "attestations: []\n", encoding="utf-8")
    spec_file.write_text(TEMPLATE.read_text(encoding="utf-8").replace("__PROJECT__", slug), encoding="utf-8")
    load_spec(root)  # the scaffold must validate as it is
    return spec_file
