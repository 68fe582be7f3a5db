"""Day 4 — the eval position: the PoC and a baseline scored on labeled production data."""
