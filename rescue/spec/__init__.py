"""The audit project's spec: ``rescue.yaml`` validated into typed models.

A bad spec raises one :class:`~rescue.errors.SpecError` that lists every problem with its dotted field path
(``sources[1].kind``), the bad value and what was expected. Secrets are never written in the spec:
secret-bearing fields accept only ``${ENV_VAR}`` references, resolved at use.

- :mod:`.models` — the models of rescue.yaml;
- :mod:`.secrets` — ``${VAR}`` references;
- :mod:`.load` — strict YAML and validation;
- :mod:`.issues` — pydantic errors in words a user can act on;
- :mod:`.checks` — rules across fields;
- :mod:`.records` — attestations and sign-offs.
"""

from __future__ import annotations

from .issues import format_loc, issues_from_validation
from .load import find_spec_file, load_records, load_spec, read_yaml
from .models import (
    FILE_KINDS,
    LOOPBACK_HOSTS,
    SPEC_FILENAME,
    Compliance,
    Contract,
    Criterion,
    EvalSpec,
    Gate,
    JudgeSpec,
    Owner,
    Person,
    PocSpec,
    Provider,
    Source,
    Spec,
    Targets,
)
from .records import Attestation, SignOff, load_attestations, load_signoffs
from .secrets import SecretRef

__all__ = [
    "FILE_KINDS",
    "LOOPBACK_HOSTS",
    "SPEC_FILENAME",
    "Attestation",
    "Compliance",
    "Contract",
    "Criterion",
    "EvalSpec",
    "Gate",
    "JudgeSpec",
    "Owner",
    "Person",
    "PocSpec",
    "Provider",
    "SecretRef",
    "SignOff",
    "Source",
    "Spec",
    "Targets",
    "find_spec_file",
    "format_loc",
    "issues_from_validation",
    "load_attestations",
    "load_records",
    "load_signoffs",
    "load_spec",
    "read_yaml",
]
