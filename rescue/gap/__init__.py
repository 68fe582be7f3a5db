"""Day 1 — the production gap: every requirement production has, checked against the PoC's evidence."""

from __future__ import annotations

from .assess import assess_gap
from .attest import attest
from .catalogue import Catalogue, Check, load_catalogue
from .display import area_table, attestation_form, gap_table, plot_area_scores, summary_markdown

__all__ = [
    "Catalogue",
    "Check",
    "area_table",
    "assess_gap",
    "attest",
    "attestation_form",
    "gap_table",
    "load_catalogue",
    "plot_area_scores",
    "summary_markdown",
]
