"""The audit's home page: ``index.html`` in the output folder, where a reader starts.

The project, the date and the decision badge; each day's status (run, stale, missing) with a link to its
page; the artifacts, and whether the audit log verifies. Rendered with Jinja2's autoescape: every value
from the spec or an artifact is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment

from . import __version__
from .artifacts import read_artifact
from .auditlog import LOG_NAME, check_log
from .errors import RescueError
from .gap import stale_evidence
from .readout.display import BADGE_COLOURS, DECISIONS
from .spec import Spec

HOME = "index.html"

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ project }} — audit</title>
<style>
  body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; max-width: 900px; margin: 2em auto;
         padding: 0 1.5em; color: #222; line-height: 1.45; }
  h1 { font-size: 26px; margin-bottom: .2em; } .meta { color: #555; font-size: 14px; }
  .badge { display: inline-block; color: #fff; font-size: 30px; font-weight: 700; letter-spacing: .04em;
           padding: .25em .7em; border-radius: 6px; margin: .6em 0 .3em; }
  table { border-collapse: collapse; width: 100%; margin: 1em 0; font-size: 14px; }
  th, td { text-align: left; padding: .4em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
  .run { color: #1e6b34; } .stale { color: #8a5300; } .missing { color: #888; } .broken { color: #b3261e; }
  footer { color: #666; font-size: 12px; margin-top: 3em; border-top: 1px solid #ddd; padding-top: .5em; }
  @media print { a { color: inherit; text-decoration: none; } }
</style></head>
<body>
<h1>{{ project }}</h1>
<div class="meta">{{ use_case }}</div>
<div class="meta">Audit of {{ today }} · rescue {{ version }}</div>
{% if decision %}<p class="badge" style="background:{{ colour }}">{{ decision }}</p>
{% for reason in because %}<div>{{ reason }}</div>{% endfor %}
{% else %}<p class="meta">No readout yet: run Day 5 for the decision.</p>{% endif %}
<h2>The week</h2>
<table><thead><tr><th>Day</th><th>Status</th><th>Page</th><th>Artifact</th></tr></thead><tbody>
{% for day in days %}<tr><td>Day {{ day.number }} · {{ day.title }}</td>
<td class="{{ day.status }}">{{ day.status }}{% if day.why %} — {{ day.why }}{% endif %}</td>
<td>{% if day.page %}<a href="{{ day.page }}">{{ day.page }}</a>{% else %}—{% endif %}</td>
<td>{% if day.artifact %}<a href="{{ day.artifact }}">{{ day.artifact }}</a>{% else %}—{% endif %}</td></tr>
{% endfor %}</tbody></table>
<h2>Evidence</h2>
<p class="{{ 'run' if log_ok else 'broken' }}">{{ log_text }}</p>
<p><a href="{{ log }}">{{ log }}</a> (who ran what, when, with which inputs and outputs) · the ledger: ledger.sqlite</p>
<footer>Written by rescue {{ version }}.</footer>
</body></html>
"""


def _day_rows(out: Path, days: Sequence[Any]) -> list[dict[str, Any]]:
    rows = []
    for day in days:
        page, artifact = out / f"{day.artifact}.html", out / f"{day.artifact}.json"
        status, why = ("run" if page.exists() or artifact.exists() else "missing"), ""
        if day.number == 1 and artifact.exists():
            try:
                stale = stale_evidence(out, read_artifact(out, "gap"))
            except RescueError as exc:
                status, why = "broken", str(exc)
            else:
                if stale:
                    status, why = "stale", f"assessed before {', '.join(f'{n}.json' for n in stale)}"
        rows.append({"number": day.number, "title": day.title, "status": status, "why": why,
                     "page": page.name if page.exists() else None,
                     "artifact": artifact.name if artifact.exists() else None})  # fmt: skip
    return rows


def write_home(spec: Spec, out: str | Path, days: Sequence[Any]) -> Path:
    """Write ``out/index.html``, the audit's home page, from what is in ``out`` now; ``days`` are the week's
    (:data:`rescue.week.DAYS`: number, title, artifact)."""
    out = Path(out)
    readout = read_artifact(out, "readout", required=False)
    try:
        report = check_log(out)
        log_ok, log_text = True, f"The audit log verifies: {report.records} records, hash chain intact" + (
            ", anchored in the ledger" if report.anchored else "") + "."  # fmt: skip
    except RescueError as exc:
        log_ok, log_text = False, f"The audit log does not verify: {exc}"
    html = Environment(autoescape=True).from_string(_TEMPLATE).render(
        project=spec.project, use_case=spec.use_case, today=date.today().isoformat(), version=__version__,
        decision=DECISIONS[readout["decision"]] if readout else None,
        colour=BADGE_COLOURS[readout["decision"]] if readout else None,
        because=readout["because"] if readout else [], days=_day_rows(out, days), log=LOG_NAME,
        log_ok=log_ok, log_text=log_text,
    )  # fmt: skip
    path = out / HOME
    partial = path.with_name(HOME + ".tmp")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)
    return path
