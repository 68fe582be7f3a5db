"""Day 2 — the data picture: production sources profiled where they live, read-only.

:mod:`.connect` opens each source read-only; :mod:`.profile` profiles a table in one pass; :mod:`.pii`,
:mod:`.language` and :mod:`.latency` add personal data, the language mix and read latency; :mod:`.traces`
profiles an LLM app's production traces (volume, latency, cost, errors, destinations, sessions);
:mod:`.picture` puts the sources side by side; :mod:`.display` shows it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from ..spec import Spec
from .picture import build_picture

__all__ = ["build", "build_picture"]


def build(
    spec: Spec, out: str | Path | None = None, as_of: date | None = None, probes: int = 15
) -> dict[str, Any]:
    """The data picture artifact's payload: every declared source profiled (``out`` is not read: Day 2 needs
    no earlier artifact)."""
    return build_picture(spec, as_of=as_of, probes=probes)
