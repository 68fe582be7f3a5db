"""Day 2 — the data picture: production sources profiled where they live, read-only."""

from __future__ import annotations
