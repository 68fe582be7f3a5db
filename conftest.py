"""Repository-level pytest set-up, shared by tests/ and the nbval run over workbooks/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# The workbooks' default output folder (JupyterLab sessions and nbval). nbval runs the days in order
# from an empty folder, so a checked output never depends on what an earlier session left there.
JUPYTER_OUT = Path(__file__).resolve().parent / "out" / "jupyter" / "pharma-feedback"


def pytest_sessionstart(session: pytest.Session) -> None:
    shutil.rmtree(JUPYTER_OUT, ignore_errors=True)
