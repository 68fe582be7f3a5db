"""Day 5 — the readout: stall diagnosis from evidence, decision, rebuild plan, and the release gate."""
