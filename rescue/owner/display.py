"""How the Day 5 workbook shows the owner: the checks, RACI, the handover and the sign-off form."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from ..tables import html_table
from .signoffs import REQUIRED_SIGNOFFS, sign_off


def raci_table(owner: dict[str, Any]):
    frame = pd.DataFrame(
        [{"Role": r["role"], "RACI": r["raci"], "Who": r["who"] or "— unassigned —"} for r in owner["raci"]]
    )
    colours = {i: ("" if r["assigned"] else "#f8d4d4") for i, r in enumerate(owner["raci"])}
    return html_table(frame, colours, "raci")


def handover_table(owner: dict[str, Any]):
    frame = pd.DataFrame(
        [{"Hand over": h["item"], "Status": h["status"], "Due": h["due"] or "—"} for h in owner["handover"]]
    )
    return html_table(frame, uuid="handover")


def owner_table(owner: dict[str, Any]):
    frame = pd.DataFrame(
        [{"Check": c["check"], "OK": "✔" if c["ok"] else "✘", "Detail": c["detail"]} for c in owner["checks"]]
    )
    colours = {i: ("#d8f0d8" if c["ok"] else "#f8d4d4") for i, c in enumerate(owner["checks"])}
    return html_table(frame, colours, "owner")


def signoff_form(spec: Any, out: str | Path):
    """An ipywidgets form: the owner signs the current version of an artifact (its hash is recorded)."""
    import ipywidgets as w

    from ..errors import RescueError

    choice = w.Dropdown(
        options=[(f"{scope} — {artifact}.json", (artifact, scope)) for artifact, scope in REQUIRED_SIGNOFFS],
        description="Sign",
    )
    by = w.Text(description="Name")
    role = w.Text(description="Role")
    link = w.Text(description="Link", placeholder="https://… to the signed decision")
    button = w.Button(description="Sign this version", button_style="success", icon="pencil")
    message = w.HTML()

    def save(_: Any) -> None:
        artifact, scope = choice.value
        try:
            s = sign_off(spec, out, artifact, scope, by.value, link.value, role=role.value)
        except RescueError as exc:
            message.value = f"<pre style='color:#b00'>{html.escape(str(exc))}</pre>"
            return
        message.value = (
            f"<span style='color:#070'>Signed {html.escape(scope)} by {html.escape(s.by)} "
            f"(sha256 {html.escape(s.sha256[:12])}…). Re-run to refresh.</span>"
        )

    button.on_click(save)
    return w.VBox([choice, by, role, link, button, message])
