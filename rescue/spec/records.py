"""People's records kept in the project: attestations (Day 1) and sign-offs (Day 5), each a YAML list file."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from .load import load_records
from .models import Model, NonEmpty, Spec

# where the evidence is: a web or mail link, a file: URL or a path in the project
Link = Annotated[str, Field(pattern=r"^(https?://|mailto:|file:|[\w./-]+$)")]


class Attestation(Model):
    """A person's statement that a check is met, with a date and a link to the evidence."""

    check: NonEmpty
    by: NonEmpty
    role: str | None = None
    date: date
    link: Link
    note: str | None = None


class _AttestationFile(Model):
    attestations: list[Attestation] = Field(default_factory=list)


class SignOff(Model):
    """A named person signs one version of an artifact: the hash pins the version signed."""

    artifact: Literal["gap", "data_picture", "eval_set", "eval_position", "owner"]
    scope: NonEmpty
    by: NonEmpty
    role: str | None = None
    date: date
    link: Link
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _SignOffFile(Model):
    signoffs: list[SignOff] = Field(default_factory=list)


def load_signoffs(spec: Spec) -> list[SignOff]:
    """The project's sign-offs (empty when the file does not exist yet)."""
    return load_records(spec.path(spec.signoffs), _SignOffFile, "signoffs")


def load_attestations(spec: Spec) -> list[Attestation]:
    """The project's attestations (empty when the file does not exist yet)."""
    return load_records(spec.path(spec.attestations), _AttestationFile, "attestations")
