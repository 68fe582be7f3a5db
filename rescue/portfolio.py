"""The portfolio: many audit projects on one page, ranked by how close each is to production."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from .artifacts import read_artifact
from .errors import RescueError
from .readout.build import build_readout
from .spec import load_spec

DECISION_RANK = {"go": 0, "conditional": 1, "no-go": 2}


def _run(project: str, out: str, days: list[int] | None) -> str:
    from .week import run_week

    run_week(project, out, days=days, progress=False)
    return out


def run_projects(
    projects: list[Path], out_root: Path, days: list[int] | None = None, workers: int = 2
) -> dict[Path, Path]:
    """Run the week on each project into ``out_root/<project name>``; independent projects run in parallel."""
    outs = {p: out_root / load_spec(p).project for p in projects}
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {p: pool.submit(_run, str(p), str(o), days) for p, o in outs.items()}
        for p, f in futures.items():
            try:
                f.result()
            except RescueError as exc:
                raise RescueError(f"{p}: {exc}") from None
    return outs


def summarise(project: Path, out: Path) -> dict[str, Any]:
    """One portfolio row from a project's artifacts (the readout when present, else assessed from the rest)."""
    spec = load_spec(project)
    gap = read_artifact(out, "gap")
    readout = read_artifact(out, "readout", required=False) or build_readout(spec, out, gap=gap)
    position = read_artifact(out, "eval_position", required=False)
    stages = [
        name
        for name in ("gap", "data_picture", "eval_set", "eval_position", "readout")
        if (out / f"{name}.json").exists()
    ]
    return {
        "project": spec.project,
        "decision": readout["decision"],
        "headline": gap["headline_score"],
        "points": f"{gap['points']:.1f} / {gap['max_points']:.0f}",
        "blockers": [b["title"] for b in gap["blockers"] if b["applies"]],
        "stall_reasons": readout["stall_reasons_applying"],
        "accuracy": (position or {}).get("scores", {}).get("accuracy", {}).get("value"),
        "weeks_to_finish": readout["plan_weeks"],
        "open_checks": gap["counts"]["fail"] + gap["counts"]["unknown"],
        "stage": stages[-1] if stages else "not started",
    }


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Closest to production first: decision, then fewer blockers, higher headline, fewer weeks."""
    return sorted(
        rows,
        key=lambda r: (
            DECISION_RANK[r["decision"]],
            len(r["blockers"]),
            -r["headline"],
            r["weeks_to_finish"],
            r["project"],
        ),
    )


def render_portfolio(rows: list[dict[str, Any]], path: Path) -> Path:
    """One self-contained HTML page comparing the projects."""
    frame = pd.DataFrame(
        [
            {
                "#": i,
                "Project": r["project"],
                "Decision": r["decision"].upper(),
                "Headline": f"{r['headline']:.2f}",
                "Points": r["points"],
                "Blockers": "; ".join(r["blockers"]) or "none",
                "Stall reasons": ", ".join(r["stall_reasons"]) or "none",
                "Accuracy": "—" if r["accuracy"] is None else f"{r['accuracy']:.0%}",
                "Weeks to finish": r["weeks_to_finish"],
                "Open checks": r["open_checks"],
                "Furthest day": r["stage"],
            }
            for i, r in enumerate(rows, start=1)
        ]
    )
    table = frame.to_html(index=False, escape=True, border=0)
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>rescue portfolio</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border-bottom:1px solid #ddd;padding:6px;text-align:left;vertical-align:top}}</style></head><body>
<h1>Portfolio — {len(rows)} audit{"s" if len(rows) != 1 else ""}</h1>
<p>Ranked by how close each PoC is to production: decision, then blockers, headline score and the weeks the rebuild takes.</p>
{table}</body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page.replace("<table", '<table class="portfolio"'), encoding="utf-8")
    return path
