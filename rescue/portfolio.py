"""The portfolio: many audits on one page, ranked by how close each PoC is to production.

Each audit is a project folder and the output folder its week wrote to: ``PROJECT`` (its artifacts in
``<portfolio folder>/<project name>``), ``PROJECT=OUT``, or an entry of a portfolio file::

    audits:
      - project: ../triage          # paths are relative to the portfolio file's folder
        out: ../triage/out

An audit whose output folder holds no artifact is *not started*: it is listed after the ranked ones, with no
rank and no verdict. One with ``gap.json`` but no ``readout.json`` gets a decision assessed from the gap,
marked provisional. The page (``portfolio.html``, Jinja2 with autoescape: every value from a spec or an
artifact is escaped) links each row to its audit's home page; ``portfolio.json`` beside it keeps the rows
with the raw ids.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import __version__
from .artifacts import read_artifact
from .errors import ArtifactError, RescueError, SpecError, SpecIssue
from .home import HOME
from .models import MODELS
from .readout import REASONS, build_readout
from .readout.display import DECISIONS
from .render import page_css, safe_link
from .spec import Spec, find_spec_file, issues_from_validation, load_spec, read_yaml
from .week import DAYS

PAGE = "portfolio.html"
ROWS = "portfolio.json"
DECISION_RANK = {"go": 0, "conditional": 1, "no-go": 2}
NOT_STARTED = "not started"
PROVISIONAL = "provisional: no readout yet"


@dataclass(frozen=True)
class Audit:
    """One audit of the portfolio: its project folder and the output folder its week writes to."""

    project: Path
    out: Path


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    project: str = Field(min_length=1)
    out: str = Field(min_length=1)


class _PortfolioFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    audits: list[_Entry] = Field(min_length=1)


def parse_audit(arg: str, out_root: Path) -> Audit:
    """``PROJECT`` (its artifacts in ``out_root/<project name>``) or ``PROJECT=OUT``; ValueError when a side of
    ``=`` is empty. An existing path with ``=`` in its name is a project."""
    project, sep, out = arg.partition("=")
    if not sep or Path(arg).exists():
        return Audit(Path(arg), Path(out_root) / load_spec(arg).project)
    if not project or not out:
        raise ValueError(f"{arg!r}: expected PROJECT or PROJECT=OUT, with both sides of '=' given")
    return Audit(Path(project), Path(out))


def load_portfolio_file(file: str | Path) -> list[Audit]:
    """The audits a portfolio file lists (``audits: [{project, out}, ...]``, paths relative to its folder).

    Raises SpecError naming the entry and field at fault (``audits[1].out``), and a project folder without a
    ``rescue.yaml``. An output folder that does not exist is no error: that audit is not started.
    """
    file = Path(file)
    data = read_yaml(file)
    try:
        listed = _PortfolioFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise SpecError(file, issues_from_validation(exc, data, _PortfolioFile)) from None
    base = file.parent
    audits, issues = [], []
    for i, entry in enumerate(listed.audits):
        project = base / Path(entry.project).expanduser()
        if not find_spec_file(project).is_file():
            issues.append(SpecIssue(f"audits[{i}].project", entry.project,
                                    f"an audit project folder holding rescue.yaml (looked in {project})"))  # fmt: skip
        audits.append(Audit(project, base / Path(entry.out).expanduser()))
    if issues:
        raise SpecError(file, issues)
    return audits


def _run(project: str, out: str, days: list[int] | None) -> str:
    from .week import run_week

    run_week(project, out, days=days, progress=False)
    return out


def run_projects(audits: list[Audit], days: list[int] | None = None, workers: int = 2) -> list[Audit]:
    """Run the week of each audit into its output folder; independent audits run in parallel."""
    seen: dict[Path, Audit] = {}
    for audit in audits:
        other = seen.setdefault(audit.out.resolve(), audit)
        if other is not audit:
            raise RescueError(
                f"{other.project} and {audit.project} would both run into {audit.out}: give each its own output "
                "folder (PROJECT=OUT)"
            )
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {a: pool.submit(_run, str(a.project), str(a.out), days) for a in audits}
        for a, f in futures.items():
            try:
                f.result()
            except RescueError as exc:
                raise RescueError(f"{a.project}: {exc}") from None
    return audits


def _written_at(path: Path) -> datetime:
    """When an artifact was written: its envelope's ``generated_at``, else the file's modification time."""
    try:
        stamp = json.loads(path.read_text(encoding="utf-8")).get("generated_at")
        written = datetime.fromisoformat(stamp)
        return written if written.tzinfo else written.replace(tzinfo=UTC)
    except (OSError, ValueError, TypeError, AttributeError):
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def age_days(written: datetime, today: date | None = None) -> int:
    """Whole days from ``written`` (its local date) to ``today``; never negative (a clock ahead is today)."""
    return max(0, ((today or date.today()) - written.astimezone().date()).days)


def evidence_age(written: datetime, today: date | None = None) -> str:
    """How old the evidence is, in words: ``today``, ``yesterday``, ``3 days ago``."""
    days = age_days(written, today)
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"


def _empty_row(spec: Spec, out: Path, status: str) -> dict[str, Any]:
    home = out / HOME
    return {
        "project": spec.project, "use_case": spec.use_case, "project_folder": str(spec.root),
        "out": str(out.resolve()),
        "home": str(home.resolve()) if home.is_file() else None, "status": status, "problem": None,
        "decision": None, "decision_note": None, "headline": None, "points": None, "blockers": [],
        "blocker_ids": [], "stall_reasons": [], "accuracy": None, "weeks_to_finish": None, "open_checks": None,
        "stage": None, "evidence_at": None, "evidence_age_days": None,
    }  # fmt: skip


def summarise(project: str | Path, out: str | Path) -> dict[str, Any]:
    """One portfolio row: the project's decision, blockers, stall reason ids and scores from the artifacts in
    ``out``, and how old they are. ``status`` says what the row rests on: ``not started`` (no artifact),
    ``no production gap yet`` (no ``gap.json``), ``provisional`` (no readout: assessed from the gap),
    ``readout`` or ``unreadable`` (``problem`` says why); only the provisional and readout rows have a decision."""
    spec, out = load_spec(project), Path(out)
    found = [(name, out / f"{name}.json") for name in MODELS if (out / f"{name}.json").is_file()]
    if not found:
        return _empty_row(spec, out, NOT_STARTED)
    written = max(_written_at(path) for _, path in found)
    row = _empty_row(spec, out, "no production gap yet")
    days = [day for day in DAYS if (out / f"{day.artifact}.json").is_file()]
    row.update(evidence_at=written.isoformat(timespec="seconds"),
               evidence_age_days=age_days(written),
               stage=f"Day {days[-1].number}: {days[-1].title}" if days else None)  # fmt: skip
    try:
        documents = {name: read_artifact(out, name) for name, _ in found}
        of_other = sorted({d["project"] for d in documents.values()} - {spec.project})
        if of_other:
            raise ArtifactError(f"{out} holds the artifacts of {', '.join(of_other)}, not of {spec.project}")
        gap = documents.get("gap")
        if gap is None:
            return row
        readout = documents.get("readout") or build_readout(spec, out, gap=gap)
    except ArtifactError as exc:
        row.update(status="unreadable", problem=str(exc))
        return row
    position = documents.get("eval_position") or {}
    blockers = [b for b in gap["blockers"] if b["applies"]]
    row.update(
        status="readout" if "readout" in documents else "provisional",
        decision=readout["decision"],
        decision_note=None if "readout" in documents else PROVISIONAL,
        headline=gap["headline_score"],
        points=f"{gap['points']:.1f} / {gap['max_points']:.0f}",
        blockers=[b["title"] for b in blockers],
        blocker_ids=[b["id"] for b in blockers],
        stall_reasons=list(readout["stall_reasons_applying"]),
        accuracy=position.get("scores", {}).get("accuracy", {}).get("value"),
        weeks_to_finish=readout["plan_weeks"],
        open_checks=gap["counts"]["fail"] + gap["counts"]["unknown"],
    )
    return row


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Closest to production first: decision, then fewer blockers, higher headline, fewer weeks. Rows without
    a decision (not started, no gap yet, unreadable) follow, by name, with ``rank`` None."""
    decided = sorted(
        (r for r in rows if r["decision"] is not None),
        key=lambda r: (
            DECISION_RANK[r["decision"]],
            len(r["blockers"]),
            -r["headline"],
            r["weeks_to_finish"],
            r["project"],
        ),
    )
    undecided = sorted((r for r in rows if r["decision"] is None), key=lambda r: (r["project"], r["out"]))
    ranked = [{**r, "rank": i} for i, r in enumerate(decided, start=1)]
    return ranked + [{**r, "rank": None} for r in undecided]


def describe(row: dict[str, Any]) -> str:
    """A ranked row in one line (``1. name: no-go, headline 0.42, 2 blocker(s), 6 weeks``), or ``-. name: not
    started``."""
    if row["decision"] is None:
        why = f" ({row['problem']})" if row["problem"] else ""
        return f"-. {row['project']}: {row['status']}{why}"
    note = f" ({row['decision_note']})" if row["decision_note"] else ""
    return (f"{row['rank']}. {row['project']}: {row['decision']}{note}, headline {row['headline']:.2f}, "
            f"{len(row['blockers'])} blocker(s), {row['weeks_to_finish']} weeks")  # fmt: skip


def home_link(row: dict[str, Any], folder: Path) -> str | None:
    """The link from a page in ``folder`` to the row's audit home page: relative when the two share a root,
    percent-encoded; None when the audit has no home page."""
    if not row["home"]:
        return None
    home = Path(row["home"]).resolve()
    try:
        link = Path(os.path.relpath(home, Path(folder).resolve())).as_posix()
    except ValueError:  # another drive (Windows): no relative path
        link = home.as_posix()
    link = quote(link, safe="/")
    return link if safe_link(link) else None


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
{{ css }}
  .rescue-badge.rescue-small { font-size: 12px; padding: .15em .5em; margin: 0; border-width: 2px; white-space: nowrap; }
  .portfolio td.rank { font-weight: 700; }
  .portfolio .rescue-meta { font-size: 12.5px; }
  .portfolio ul { margin: 0; padding-left: 1.1em; }
  body.rescue-page.rescue-wide { max-width: 1400px; }
  .portfolio td.audit { min-width: 14em; } .portfolio td.evidence { white-space: nowrap; }
</style></head>
<body class="rescue-page rescue-wide">
<header class="rescue-header">
  <div class="rescue-project">Portfolio</div>
  <div class="rescue-facts">{{ today }} · rescue {{ version }}</div>
</header>
<h1>{{ title }}</h1>
<p class="rescue-meta">Ranked by how close each PoC is to production: the decision, then the blockers, the headline
score and the weeks the rebuild takes. An audit with no artifact yet is listed after the ranked ones, unranked.</p>
<table class="portfolio"><thead><tr><th>#</th><th>Audit</th><th>Decision</th><th>Headline</th>
<th>Blockers</th><th>Stall reasons</th><th>Accuracy</th><th>Weeks to finish</th><th>Open checks</th>
<th>Furthest day</th><th>Evidence</th></tr></thead><tbody>
{% for r in rows %}<tr>
<td class="rank">{{ r.rank if r.rank is not none else "—" }}</td>
<td class="audit">{% if r.link %}<a href="{{ r.link }}">{{ r.project }}</a>{% else %}{{ r.project }}{% endif %}
<div class="rescue-meta">{{ r.use_case | truncate(120) }}</div></td>
{% if r.decision %}<td><span class="rescue-badge rescue-small {{ r.decision }}">{{ decisions[r.decision] }}</span>
{% if r.decision_note %}<div class="rescue-meta">{{ r.decision_note }}</div>{% endif %}</td>
<td>{{ "%.2f" | format(r.headline) }}<div class="rescue-meta">{{ r.points }} points</div></td>
<td>{% if r.blockers %}<ul>{% for b in r.blockers %}<li>{{ b }}</li>{% endfor %}</ul>{% else %}none{% endif %}</td>
<td>{% if r.reasons %}<ul>{% for s in r.reasons %}<li>{{ s }}</li>{% endfor %}</ul>{% else %}none{% endif %}</td>
<td>{{ "—" if r.accuracy is none else "{:.0%}".format(r.accuracy) }}</td>
<td>{{ r.weeks_to_finish }}</td><td>{{ r.open_checks }}</td>
{% else %}<td class="{{ 'broken' if r.problem else 'missing' }}" colspan="7">{{ r.status }}{% if r.problem %}: {{ r.problem }}{% endif %}</td>
{% endif %}<td>{{ r.stage or "—" }}</td>
<td class="evidence">{% if r.age %}{{ r.age }}<div class="rescue-meta">{{ r.evidence_date }}</div>{% else %}—{% endif %}</td></tr>
{% endfor %}</tbody></table>
<footer class="rescue-footer">Written by rescue {{ version }}. The rows, with the raw ids: {{ json_name }}.</footer>
</body></html>
"""


def _shown(row: dict[str, Any], today: date) -> dict[str, Any]:
    """A row as the page shows it: stall reasons in words, the evidence's age and date."""
    written = datetime.fromisoformat(row["evidence_at"]) if row["evidence_at"] else None
    return {
        **row,
        "reasons": [REASONS.get(s, s) for s in row["stall_reasons"]],
        "age": evidence_age(written, today) if written else None,
        "evidence_date": written.astimezone().date().isoformat() if written else None,
    }


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def write_portfolio(rows: list[dict[str, Any]], folder: str | Path) -> Path:
    """Write ``folder/portfolio.html`` (one self-contained page comparing the audits, each row linked to its
    audit's home page) and ``folder/portfolio.json`` (the rows, raw ids kept); returns the page."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    today = date.today()
    rows = [{**r, "link": home_link(r, folder)} for r in rows]
    title = f"Portfolio — {len(rows)} audit{'s' if len(rows) != 1 else ''}"
    html = Environment(autoescape=True).from_string(_TEMPLATE).render(
        title=title, css=Markup(page_css()),  # rescue's own style sheet, never data
        today=today.isoformat(), version=__version__, rows=[_shown(r, today) for r in rows],
        decisions=DECISIONS, json_name=ROWS,
    )  # fmt: skip
    document = {"rescue_version": __version__,
                "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "audits": rows}  # fmt: skip
    _write_atomically(folder / ROWS, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    _write_atomically(folder / PAGE, html)
    return folder / PAGE


__all__ = [
    "Audit",
    "age_days",
    "describe",
    "evidence_age",
    "home_link",
    "load_portfolio_file",
    "parse_audit",
    "rank",
    "run_projects",
    "summarise",
    "write_portfolio",
]
