"""rescue: a Jupyter-native workbook for rescuing stalled AI proofs of concept."""

from __future__ import annotations

__version__ = "0.1.0"

# first: jsonschema without the IRI grammar's compilation, before nbformat or a module of rescue imports it
from . import jsonschemas  # noqa: F401
from .errors import (
    ArtifactError,
    LogTampered,
    RescueError,
    SecretUnavailable,
    SourceUnavailable,
    SpecError,
    WorkbookFailed,
)
from .spec import SecretRef, Spec, load_spec

__all__ = [
    "ArtifactError",
    "LogTampered",
    "RescueError",
    "SecretRef",
    "SecretUnavailable",
    "SourceUnavailable",
    "Spec",
    "SpecError",
    "WorkbookFailed",
    "__version__",
    "load_spec",
]
