"""The ``rescue`` command line. It only gathers arguments; the library does the work."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import yaml

from . import __version__
from .errors import RescueError


def _parse_days(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(part) for part in value.replace(" ", "").split(",") if part]
    except ValueError:
        raise click.BadParameter(f"expected day numbers like 1,2 — got {value!r}") from None


def _parse_parameters(pairs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    # values are YAML scalars, like papermill's -p: 3 -> int, true -> bool, text -> str
    return {name: yaml.safe_load(raw) if raw != "" else "" for name, raw in pairs}


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RescueError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(2)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="rescue")
def main() -> None:
    """rescue — audit a stalled AI proof of concept in one week, one workbook a day."""


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="project name (defaults to the folder's name)")
def init(directory: Path, name: str | None) -> None:
    """Scaffold a new audit project in DIRECTORY: a commented rescue.yaml and its folders."""
    from .scaffold import init_project

    spec_file = init_project(directory, name)
    click.echo(f"created {spec_file}")
    click.echo(f"next: edit it, then `rescue validate {directory}` and `rescue week {directory} --out OUT`")


@main.command()
@click.argument("project", type=click.Path(exists=True, path_type=Path))
def validate(project: Path) -> None:
    """Validate PROJECT's rescue.yaml and say what it declares."""
    from .spec import load_spec

    spec = load_spec(project)
    click.echo(f"{spec.file}: valid")
    click.echo(
        f"  project {spec.project}: PoC kind {spec.poc.kind}, "
        f"{len(spec.sources)} source(s), {len(spec.integration)} contract(s)"
    )
    for where, ref in spec.secret_refs().items():
        click.echo(f"  secret {ref} ({where}): {ref.state()}")


@main.command()
@click.argument("project", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="output folder"
)
@click.option("--days", help="run a subset, e.g. 1,2 (default: every day)")
@click.option(
    "-p",
    "--parameter",
    "parameters",
    multiple=True,
    type=(str, str),
    metavar="NAME VALUE",
    help="extra workbook parameter",
)
@click.option("--no-progress", is_flag=True, help="hide the progress bar")
def week(
    project: Path, out: Path, days: str | None, parameters: tuple[tuple[str, str], ...], no_progress: bool
) -> None:
    """Run the week's workbooks on PROJECT headlessly, writing artifacts and pages to OUT."""
    from .days import select_days, workbooks_dir
    from .kernels import AHEAD, Kernels

    chosen = _parse_days(days)
    books = workbooks_dir()
    with Kernels(books) as kernels:
        # the first days' kernels start, and import their workbooks' modules, while this process imports the week
        kernels.ahead(*(books / day.workbook for day in select_days(chosen)[:AHEAD]))
        from .week import run_week

        pages = run_week(
            project, out, chosen, _parse_parameters(parameters), progress=not no_progress, kernels=kernels
        )
    for page in pages:
        click.echo(f"wrote {page}")
    click.echo(f"wrote {Path(out) / 'index.html'} (the audit's home page)")


@main.command("verify-log")
@click.argument("out", type=click.Path(exists=True, path_type=Path))
def verify_log_command(out: Path) -> None:
    """Verify OUT's audit log (hash chain, the head kept in the ledger, the HMACs when RESCUE_AUDIT_KEY is set)
    and every artifact against the record that wrote it; exits non-zero naming what does not hold."""
    from .auditlog import check_log, verify_artifacts

    report = check_log(out)
    keyed = f", {report.hmacs_checked} HMAC(s) checked" if report.hmacs_checked else ""
    anchored = ", anchored in the ledger" if report.anchored else ""
    click.echo(f"audit log intact: {report.records} record(s), hash chain verified{anchored}{keyed}")
    for note in report.notes:
        click.echo(f"  note: {note}")
    folder = out if out.is_dir() else out.parent
    problems = verify_artifacts(folder)
    if problems:
        click.echo(f"artifacts: {len(problems)} do not match the audit log", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)
    click.echo("artifacts: each matches the audit record that wrote it")


@main.command()
@click.argument("notebook", metavar="NOTEBOOK", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("html", metavar="[HTML]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", help="page title")
@click.option("--pdf", is_flag=True, help="also print the page to a PDF beside it (needs chromium)")
def render(notebook: Path, html: Path | None, title: str | None, pdf: bool) -> None:
    """Render an executed workbook NOTEBOOK to a self-contained HTML page (for papermill runs); with --pdf,
    print it to a PDF too, or print an existing page alone.

    \b
      rescue render NOTEBOOK HTML [--title T] [--pdf]   the page, and with --pdf HTML's .pdf beside it
      rescue render --pdf PAGE.html                     only the PDF of an existing page (PAGE.pdf)

    The PDF is printed offline by Debian's chromium (or the binary in RESCUE_CHROMIUM); without one, rescue
    says how to get it and exits 2."""
    from .pdf import print_pdf
    from .render import render_html

    if html is None:
        if not pdf:
            raise click.UsageError("give HTML, the page to write (or --pdf PAGE.html to print a page)")
        if notebook.suffix.lower() not in (".html", ".htm"):
            raise click.UsageError(f"--pdf alone prints an HTML page; {notebook.name} needs NOTEBOOK HTML")
        if title:
            raise click.UsageError("--title is for rendering a notebook; an existing page keeps its title")
        click.echo(f"wrote {print_pdf(notebook)}")
        return
    from .week import day_of, render_day

    known = None if title else day_of(notebook)  # a day's workbook: its title block and links, as the week's
    page = render_day(notebook, html, *known) if known else render_html(notebook, html, title)
    click.echo(f"wrote {page}")
    if known:  # the page links home: the home page of the folder it is in, from what is there now
        from .home import write_home
        from .week import DAYS

        click.echo(f"wrote {write_home(known[0], page.parent, DAYS)}")
    if pdf:
        click.echo(f"wrote {print_pdf(page)}")


@main.command()
def checks() -> None:
    """List the production-gap checks: id, area, severity, evidence kind, rubric."""
    from .gap import load_catalogue

    for c in load_catalogue().checks:
        click.echo(f"{c.id:38} {c.severity:8} {c.evidence:9} {'; '.join(c.rubric)}")


@main.command()
@click.argument("project", type=click.Path(exists=True, path_type=Path))
@click.argument("check")
@click.option("--by", required=True, help="full name of the person attesting")
@click.option("--link", required=True, help="link to the evidence")
@click.option("--date", "on", help="YYYY-MM-DD (default: today)")
@click.option("--role", help="their role")
@click.option("--note", help="what was checked")
def attest(
    project: Path, check: str, by: str, link: str, on: str | None, role: str | None, note: str | None
) -> None:
    """Record that a person attests CHECK for PROJECT (scores 0.5 in the production gap)."""
    from .gap import attest as record
    from .spec import load_spec

    saved = record(load_spec(project), check, by, link, on, role, note)
    click.echo(f"recorded: {saved.check} attested by {saved.by} on {saved.date}")


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--project",
    type=click.Path(exists=True, path_type=Path),
    help="the audit project (for rescue.yaml's gate thresholds)",
)
def check(out: Path, project: Path | None) -> None:
    """Gate a release on OUT's artifacts: exit 1, saying why, while blockers remain, scores miss the gate or the
    evidence does not hold (audit log, artifacts against their records, sign-offs in the log)."""
    from .gate import check_gate
    from .spec import load_spec

    reasons = check_gate(load_spec(project) if project else None, out)
    if reasons:
        click.echo(
            f"rescue check: NOT READY ({len(reasons)} reason{'s' if len(reasons) > 1 else ''})", err=True
        )
        for reason in reasons:
            click.echo(f"  - {reason}", err=True)
        sys.exit(1)
    click.echo("rescue check: ready — no blocker, every gate threshold met")


@main.command()
@click.argument("project", type=click.Path(exists=True, path_type=Path))
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("artifact", type=click.Choice(["gap", "data_picture", "eval_set", "eval_position", "owner"]))
@click.option("--scope", required=True, help='what is signed, e.g. "eval plan and acceptance thresholds"')
@click.option("--by", required=True, help="full name of the person signing")
@click.option("--link", required=True, help="link to the signed decision")
@click.option("--role", help="their role")
def sign(project: Path, out: Path, artifact: str, scope: str, by: str, link: str, role: str | None) -> None:
    """Sign the current version of OUT/ARTIFACT.json for PROJECT (the sign-off pins its SHA-256 and is recorded
    in OUT's audit log)."""
    from .owner import sign_off
    from .spec import load_spec

    s = sign_off(load_spec(project), out, artifact, scope, by, link, role=role)
    click.echo(f"signed: {s.scope} ({s.artifact}.json sha256 {s.sha256[:12]}…) by {s.by}")
    click.echo(f"recorded in {out / 'audit-log.jsonl'}")


@main.command()
@click.argument("audits", nargs=-1, metavar="[PROJECT[=OUT]]...")
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="portfolio folder"
)
@click.option(
    "--file",
    "portfolio_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a YAML file listing the audits: audits: [{project: PATH, out: PATH}] (relative to its folder)",
)
@click.option(
    "--run/--read",
    default=False,
    help="run each project's week first (in parallel), or read existing artifacts",
)
@click.option("--days", help="with --run: the days to run, e.g. 1,2")
@click.option("--workers", default=2, show_default=True, help="projects run at once")
def portfolio(
    audits: tuple[str, ...], out: Path, portfolio_file: Path | None, run: bool, days: str | None, workers: int
) -> None:
    """Compare many audits on one page (portfolio.html and portfolio.json in --out), ranked by how close each
    is to production. A bare PROJECT reads its artifacts from <--out>/<project name>, PROJECT=OUT from its own
    output folder OUT; --file lists more. An audit without artifacts is listed as not started, unranked."""
    from .portfolio import (
        describe,
        load_portfolio_file,
        parse_audit,
        rank,
        run_projects,
        summarise,
        write_portfolio,
    )

    if not audits and portfolio_file is None:
        raise click.UsageError("name the audits: PROJECT, PROJECT=OUT or --file portfolio.yaml")
    try:
        found = [parse_audit(arg, out) for arg in audits]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="PROJECT[=OUT]") from None
    found += load_portfolio_file(portfolio_file) if portfolio_file else []
    if run:
        run_projects(found, _parse_days(days), workers)
    rows = rank([summarise(a.project, a.out) for a in found])
    page = write_portfolio(rows, out)
    for row in rows:
        click.echo(describe(row))
    click.echo(f"wrote {page}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
