"""Execute every workbook with its default parameters and store the outputs nbval checks.

Only cells tagged ``nbval-check-output`` keep their outputs (they must be deterministic); every
other cell is stored clean. Run after changing a workbook: ``python scripts/store_workbook_outputs.py``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"
CHECKED = "nbval-check-output"


def store(path: Path) -> int:
    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    kept = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if CHECKED in cell.metadata.get("tags", []):
            kept += 1
        else:
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, str(path))
    return kept


def main() -> int:
    # the same empty start as the test session (tests/conftest.py): days run in order from nothing
    shutil.rmtree(WORKBOOKS.parent / "out" / "jupyter" / "pharma-feedback", ignore_errors=True)
    for path in sorted(WORKBOOKS.glob("*.ipynb")):
        print(f"{path.name}: stored outputs of {store(path)} checked cell(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
