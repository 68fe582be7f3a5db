"""Secrets in the spec: ``${ENV_VAR}`` references, resolved from the environment at use and never written down."""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic_core import PydanticCustomError, core_schema

from ..errors import SecretUnavailable

_SECRET_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class SecretRef:
    """A reference to a secret held in an environment variable, written ``${VAR}`` in the spec.

    Its ``str``/``repr`` show only the reference; :meth:`resolve` reads the value at use.
    """

    __slots__ = ("var",)

    def __init__(self, var: str):
        self.var = var

    def resolve(self, where: str = "") -> str:
        """Return the secret's value from the environment, or raise SecretUnavailable."""
        value = os.environ.get(self.var)
        if value is None or value == "":
            raise SecretUnavailable(self.var, where)
        return value

    def is_set(self) -> bool:
        """Whether the environment variable is set (the value itself is not returned)."""
        return bool(os.environ.get(self.var))

    def __str__(self) -> str:
        return "${" + self.var + "}"

    def __repr__(self) -> str:
        return f"SecretRef({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretRef) and other.var == self.var

    def __hash__(self) -> int:
        return hash(self.var)

    @classmethod
    def _validate(cls, value: Any) -> SecretRef:
        if isinstance(value, SecretRef):
            return value
        if isinstance(value, str) and (m := _SECRET_RE.match(value.strip())):
            return cls(m.group(1))
        raise PydanticCustomError(
            "secret_literal",
            "an environment variable reference like ${{CRM_DSN}}; secrets are never written in rescue.yaml",
        )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )
