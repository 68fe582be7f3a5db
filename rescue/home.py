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
from .hashing import file_sha256
from .readout.display import DECISIONS
from .render import page_css
from .spec import Spec

HOME = "index.html"

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ project }} — audit</title>
<style>{{ css | safe }}</style></head>
<body class="rescue-page">
<header class="rescue-header"><div><span class="rescue-project">{{ project }}</span>
<span class="rescue-facts">· Home · audit of {{ today }} · rescue {{ version }} · spec sha256 {{ spec_sha }}</span></div>
<nav aria-label="the week's pages"><a href="index.html" aria-current="page">Home</a>
{% for day in days %}{% if day.page %}<a href="{{ day.page }}">Day {{ day.number }} · {{ day.title }}</a>{% endif %}
{% endfor %}</nav></header>
<h1>{{ project }}</h1>
<div class="rescue-meta">{{ use_case }}</div>
{% if decision %}<p class="rescue-badge {{ decision_class }}" role="status" aria-label="decision">{{ decision }}</p>
{% for reason in because %}<div>{{ reason }}</div>{% endfor %}
{% if pdf %}<p>The readout as a PDF: <a href="{{ pdf }}">{{ pdf }}</a></p>
{% else %}<p class="rescue-meta">No PDF of the readout: with Debian's chromium installed (<code>apt-get install chromium</code>),
<code>rescue render --pdf readout.html</code> in this folder prints one.</p>{% endif %}
{% else %}<p class="rescue-meta">No readout yet: run Day 5 for the decision.</p>{% endif %}
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
        decision_class=readout["decision"] if readout else None, css=page_css(),
        spec_sha=file_sha256(spec.file)[:12], pdf="readout.pdf" if (out / "readout.pdf").exists() else None,
        because=readout["because"] if readout else [], days=_day_rows(out, days), log=LOG_NAME,
        log_ok=log_ok, log_text=log_text,
    )  # fmt: skip
    path = out / HOME
    partial = path.with_name(HOME + ".tmp")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)
    return path
