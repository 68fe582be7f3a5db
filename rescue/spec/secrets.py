"""Secrets in the spec: ``${ENV_VAR}`` references, resolved from the environment at use and never written down.

Every value resolved in this process is remembered (:func:`known_secrets`), and everything rescue writes — the
artifacts, the ledger's outputs and error texts, the audit log, the executed notebooks and pages — passes
through :func:`redact` first: each occurrence of a secret, of its token (what follows a scheme such as
``Bearer``), and of their base64 and URL-encoded forms becomes its ``${VAR}`` reference. :func:`scrub_urls`
reduces any URL in a message to scheme://host/path (no user, password or query).
"""

from __future__ import annotations

import base64
import os
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic_core import PydanticCustomError, core_schema

from ..errors import SecretUnavailable

_SECRET_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
MIN_SECRET = 6  # shorter forms would match ordinary text; no real credential is this short
_KNOWN: dict[str, str] = {}  # every form of every secret resolved in this process -> its ${VAR}
_LOCK = threading.Lock()
_URL = re.compile(
    r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^\s/?#@'\"]*@)?([^\s/?#'\"]*)([^\s?#'\"]*)(?:\?[^\s#'\"]*)?(?:#[^\s'\"]*)?"
)


def _forms(value: str) -> set[str]:
    """The ways a secret can show up in text: itself, its token after a scheme (``Bearer <token>``), and the
    base64 (standard and URL-safe, with and without padding) and URL-quoted forms of both."""
    plain = {value, value.split(None, 1)[-1].strip()}
    found = set(plain)
    for text in plain:
        raw = text.encode()
        for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            found |= {encoded.decode(), encoded.decode().rstrip("=")}
        found |= {quote(text, safe=""), quote_plus(text)}
    return {f for f in found if len(f) >= MIN_SECRET}


def remember_secret(value: str, reference: str) -> None:
    """Remember a secret in use (and its encoded forms) so that :func:`redact` keeps it out of what is written."""
    forms = _forms(value)
    with _LOCK:
        for form in forms:
            _KNOWN.setdefault(form, reference)


def known_secrets() -> dict[str, str]:
    """Every form of every secret resolved in this process, mapped to its ``${VAR}`` reference."""
    with _LOCK:
        return dict(_KNOWN)


def redact(text: str) -> str:
    """``text`` with every known secret form replaced by its ``${VAR}`` reference (longest forms first)."""
    known = known_secrets()
    for form in sorted(known, key=len, reverse=True):
        if form in text:
            text = text.replace(form, known[form])
    return text


def redact_json(value: Any) -> Any:
    """A JSON-like value with :func:`redact` applied to every string in it (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_json(k): redact_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(v) for v in value]
    return value


def scrub_urls(text: str) -> str:
    """``text`` with every URL reduced to scheme://host/path: user, password, query and fragment dropped."""
    return _URL.sub(lambda m: m.group(1) + m.group(2) + m.group(3), text)


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
        remember_secret(value, str(self))
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
