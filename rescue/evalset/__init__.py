"""Day 3 — the eval set: a stratified, deduplicated sample of production data, labeled in Jupyter."""
