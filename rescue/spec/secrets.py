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
from typing import Annotated, Any
from urllib.parse import quote, quote_plus

from pydantic import PlainSerializer, PlainValidator
from pydantic_core import PydanticCustomError, core_schema

from ..errors import SecretUnavailable

_SECRET_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_ENV_REF_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?\}$", re.DOTALL)
# an environment variable named like a credential: its value is a secret, never written in rescue.yaml
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD)$", re.IGNORECASE)
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

    def state(self) -> str:
        """Where its value comes from here, in words (``rescue validate``); never the value."""
        return "set in this environment" if SecretRef.is_set(self) else "NOT SET in this environment"

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


class EnvRef(SecretRef):
    """A ``poc.env`` value read from rescue's environment: ``${VAR}``, or ``${VAR:-fallback}`` with a fallback
    used when ``VAR`` is not set.

    A value read from the environment is a secret (remembered, so :func:`redact` keeps it out of everything
    written). The fallback is written in rescue.yaml, so it is none: it is for what is not secret, such as the
    dummy key a local stub accepts — never a real credential.
    """

    __slots__ = ("default",)

    def __init__(self, var: str, default: str | None = None):
        super().__init__(var)
        self.default = default

    def resolve(self, where: str = "") -> str:
        """The variable's value (remembered as a secret), else the fallback, else :class:`SecretUnavailable`."""
        if os.environ.get(self.var):
            return super().resolve(where)
        if self.default is not None:
            return self.default
        raise SecretUnavailable(self.var, where)

    def is_set(self) -> bool:
        """Whether it resolves here: the variable is set, or there is a fallback (its value is not returned)."""
        return super().is_set() or self.default is not None

    def state(self) -> str:
        """Where its value comes from here: the environment, else the fallback written in rescue.yaml."""
        if SecretRef.is_set(self) or self.default is None:
            return super().state()
        return "not set in this environment: its fallback in rescue.yaml applies"

    def __repr__(self) -> str:
        return f"EnvRef({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnvRef) and (other.var, other.default) == (self.var, self.default)

    def __hash__(self) -> int:
        return hash((self.var, self.default))


def secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential (``…KEY``, ``…TOKEN``, ``…SECRET``,
    ``…PASSWORD``): its value must then come from rescue's environment, never from rescue.yaml."""
    return bool(_SECRET_NAME.search(name))


def env_value(value: Any) -> str | EnvRef:
    """A ``poc.env`` value as written: ``${VAR}`` or ``${VAR:-fallback}`` becomes an :class:`EnvRef`; other text
    (or a whole number) is a literal."""
    if isinstance(value, EnvRef):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PydanticCustomError("env_value", "text (quote numbers and true/false), or a ${VAR} reference")
    text = str(value)
    if match := _ENV_REF_RE.match(text.strip()):
        return EnvRef(match.group(1), match.group(2))
    if "${" in text:
        raise PydanticCustomError(
            "env_value", "a whole ${VAR} or ${VAR:-fallback} reference, or text without ${"
        )
    return text


EnvValue = Annotated[
    str | EnvRef,
    PlainValidator(env_value),
    PlainSerializer(lambda value: str(value), return_type=str),
]
"""The type of a ``poc.env`` value (validated by :func:`env_value`; a reference serialises as its ``${VAR}``)."""
