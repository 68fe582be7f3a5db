"""The requirement catalogue (data in ``catalogue.yaml``), loaded into typed models."""

from __future__ import annotations

import inspect
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import SpecError
from ..spec import issues_from_validation

CATALOGUE = Path(__file__).parent / "catalogue.yaml"
Status = Literal["pass", "attested", "fail", "unknown"]
Severity = Literal["blocker", "high", "medium", "low"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(_Model):
    id: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$")
    area: str
    title: str
    severity: Severity
    evidence: Literal["computed", "attested"]
    rule: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    rubric: list[str] = Field(min_length=1)
    remedy: str

    @model_validator(mode="after")
    def _rule_iff_computed(self) -> Check:
        if (self.evidence == "computed") != (self.rule is not None):
            raise ValueError(f"{self.id}: computed checks need a rule, attested checks have none")
        return self


class Blocker(_Model):
    id: str
    title: str
    check: str
    applies_when: list[Status]
    accept_attestation: bool = True


class Catalogue(_Model):
    version: int
    scores: dict[Status, float]
    areas: dict[str, str]
    severities: list[Severity]
    blockers: list[Blocker]
    checks: list[Check]

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        from .rules import RULES

        ids = [c.id for c in self.checks]
        if len(ids) != len(set(ids)):
            raise ValueError("check ids must be unique")
        for c in self.checks:
            if c.area not in self.areas:
                raise ValueError(f"{c.id}: unknown area {c.area!r}")
            if c.rule is not None and c.rule not in RULES:
                raise ValueError(f"{c.id}: unknown rule {c.rule!r}")
            if c.rule is not None:
                try:  # the arguments the rule takes, and no others (a misspelt `says` would be lost silently)
                    inspect.signature(RULES[c.rule]).bind(None, **c.args)
                except TypeError as exc:
                    raise ValueError(
                        f"{c.id}: rule {c.rule} cannot take args {sorted(c.args)}: {exc}"
                    ) from None
        for b in self.blockers:
            if b.check not in ids:
                raise ValueError(f"blocker {b.id}: unknown check {b.check!r}")
        return self

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate the requirement catalogue (the packaged one by default)."""
    if path is None:
        return _packaged()
    return _load(Path(path))


@cache
def _packaged() -> Catalogue:
    return _load(CATALOGUE)


def _load(path: Path) -> Catalogue:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        raise SpecError(path, issues_from_validation(exc, data, Catalogue)) from None
