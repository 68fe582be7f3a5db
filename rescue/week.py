"""The week runner: execute the day workbooks in order with papermill and render their pages."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from datetime import date
from pathlib import Path
from typing import Any

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError
from tqdm.auto import tqdm

from . import __version__
from .artifacts import input_hashes, redact_secrets
from .auditlog import append_record
from .days import DAYS, Day, select_days, workbooks_dir
from .errors import RescueError, WorkbookFailed
from .hashing import file_sha256
from .home import write_home
from .kernels import AHEAD, KERNEL, KERNEL_ARGUMENTS, Kernels, LocalKernelManager
from .params import PARAMETERS, ParameterError
from .params import check as check_parameter
from .pdf import PdfFailed, readout_pdf
from .render import render_html, warm_up_rendering
from .spec import FILE_KINDS, Spec, load_spec
from .spec.secrets import redact, scrub_urls


def check_parameters(workbook: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters for ``workbook``, each read as :mod:`rescue.params` reads it (the workbook's first cell
    reads them the same way) and in the form papermill injects; refuses one the workbook does not declare."""
    declared = papermill.inspect_notebook(str(workbook))
    if not declared:
        raise RescueError(f"{workbook.name} has no cell tagged 'parameters'")
    checked = {}
    for name, value in parameters.items():
        if name not in declared:
            raise RescueError(
                f"{workbook.name} has no parameter {name!r}; its parameters are: {', '.join(declared)}"
            )
        try:
            checked[name] = PARAMETERS[name].injected(check_parameter(name, value))
        except ParameterError as exc:
            raise RescueError(f"{workbook.name}: {exc}") from None
    return checked


def _failure(day: Day, exc: PapermillExecutionError, notebook: Path) -> WorkbookFailed:
    nb = nbformat.read(str(notebook), as_version=4) if notebook.exists() else None
    # papermill inserts an injected-parameters cell; report the index in the workbook as written
    index = exc.cell_index
    if nb is not None and any(
        "injected-parameters" in c.metadata.get("tags", []) for c in nb.cells[: index + 1]
    ):
        index -= 1
    return WorkbookFailed(day.number, day.workbook, index, exc.ename, exc.evalue, notebook, exc.source)


def run_day(
    day: Day,
    spec: Spec,
    out: Path,
    parameters: dict[str, Any],
    progress_bar: bool = False,
    kernel: LocalKernelManager | None = None,
) -> dict[str, str]:
    """Execute one day's workbook, keep the executed notebook, render its page; return output hashes.

    ``kernel`` is a kernel started for this workbook (:mod:`rescue.kernels`), left running for its owner to
    stop; without one, papermill starts and stops a kernel of its own.

    papermill saves the notebook into a private temporary folder when the run ends or fails (not after every
    cell: nobody reads it halfway); only its redacted copy reaches ``out/notebooks``, so a run killed halfway
    never leaves a secret in the output folder.
    """
    source = workbooks_dir() / day.workbook
    executed = out / "notebooks" / day.workbook
    executed.parent.mkdir(parents=True, exist_ok=True)
    inputs = input_hashes(spec)
    private = Path(tempfile.mkdtemp(prefix="rescue-run-"))  # mode 0700: this user's only
    drafting = private / day.workbook
    try:
        papermill.execute_notebook(
            str(source),
            str(drafting),
            parameters=parameters,
            kernel_name=KERNEL,
            cwd=str(source.parent),
            progress_bar=progress_bar,
            log_output=False,
            request_save_on_cell_execute=False,
            kernel_manager_class=LocalKernelManager,
            extra_arguments=list(KERNEL_ARGUMENTS),
            **({"km": kernel} if kernel is not None else {}),
        )
    except PapermillExecutionError as exc:
        _keep_redacted(drafting, executed, spec)
        shutil.rmtree(private, ignore_errors=True)
        exc.evalue = redact(scrub_urls(str(exc.evalue)))
        failure = _failure(day, exc, executed)
        append_record(
            out,
            "workbook",
            day=day.number,
            workbook=day.workbook,
            status="failed",
            error=f"{exc.ename}: {exc.evalue}"[:500],
            cell=failure.cell_index,
            parameters=parameters,
            spec_sha256=file_sha256(spec.file),
            inputs=inputs,
            outputs={str(executed.relative_to(out)): file_sha256(executed)} if executed.exists() else {},
        )
        raise failure from None
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise
    _keep_redacted(drafting, executed, spec)
    shutil.rmtree(private, ignore_errors=True)
    html = render_day(executed, out / f"{day.artifact}.html", spec, day)
    redact_secrets(html, spec)
    outputs = {
        str(p.relative_to(out)): file_sha256(p)
        for p in (executed, html, out / f"{day.artifact}.json")
        if p.exists()
    }
    append_record(
        out,
        "workbook",
        day=day.number,
        workbook=day.workbook,
        status="ok",
        parameters=parameters,
        spec_sha256=file_sha256(spec.file),
        inputs=inputs,
        outputs=outputs,
    )
    return outputs


def render_day(executed: Path, html: Path, spec: Spec, day: Day) -> Path:
    """The day's page: its title block (project, day, date, rescue's version, the spec's hash) and links home
    and to the other days, as ``rescue week`` writes it and ``rescue render`` after a standalone papermill run."""
    nav = [("Home", "index.html", False)] + [
        (f"Day {d.number} · {d.title}", f"{d.artifact}.html", d == day) for d in DAYS
    ]
    facts = [f"Day {day.number} · {day.title}", f"audit of {date.today().isoformat()}", f"rescue {__version__}",
             f"spec sha256 {file_sha256(spec.file)[:12]}"]  # fmt: skip
    return render_html(executed, html, f"Day {day.number} — {day.title}", spec.project, nav, facts)


def day_of(executed: Path) -> tuple[Spec, Day] | None:
    """The spec and day of a workbook papermill ran (from the parameters and input path papermill records in
    the notebook), or None when the notebook does not say; the project path is read as papermill saw it, from
    the folder it ran in, or from the notebook's."""
    meta = nbformat.read(str(executed), as_version=4).metadata.get("papermill", {})
    project = (meta.get("parameters") or {}).get("project")
    workbook = Path(str(meta.get("input_path") or "")).name
    day = next((d for d in DAYS if d.workbook == workbook), None)
    if not project or day is None:
        return None
    for base in (Path.cwd(), executed.parent, Path(str(meta.get("input_path"))).parent):
        candidate = base / str(project)
        if candidate.exists():
            return load_spec(candidate), day
    return None


def _keep_redacted(drafting: Path, executed: Path, spec: Spec) -> None:
    """Redact the executed notebook in its private folder, then move it into the output folder atomically."""
    if not drafting.exists():
        return
    redact_secrets(drafting, spec)
    partial = executed.with_suffix(executed.suffix + ".tmp")
    shutil.copyfile(drafting, partial)
    os.replace(partial, executed)


def close_the_gap(
    plans: list[tuple[Day, dict[str, Any]]],
) -> tuple[list[tuple[Day, dict[str, Any]]], int | None]:
    """The week's closing step: the gap is assessed once more, with the evidence of days 2-4, right after the
    last of them and before Day 5, which reads ``gap.json`` (as do ``rescue check`` and the portfolio).

    Returns the days to run and the index of the closing run (None when no day 2-4 runs after Day 1).
    """
    numbers = [day.number for day, _ in plans]
    evidence = [i for i, n in enumerate(numbers) if n in (2, 3, 4)]
    if not numbers or numbers[0] != 1 or not evidence:
        return plans, None
    at = evidence[-1] + 1
    return [*plans[:at], plans[0], *plans[at:]], at


# parameters the runner sets for every workbook; a -p override would make the audit record name the wrong spec
RUNNER_PARAMETERS = frozenset({"project", "out"})


def check_out_folder(spec: Spec, out: Path) -> None:
    """Refuse an output folder that would write over the audit's inputs: the folder of a spec input (rescue.yaml,
    the PoC, labels, demo examples, grades, contracts, attestations), or a folder inside a file source's."""
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise RescueError(f"--out {out} is a file; expected a folder for the week's artifacts")
    for file in spec.input_files():
        if out == file.parent.resolve():
            raise RescueError(
                f"--out {out} holds {file.name}, an input of the audit: give the artifacts a folder of their own"
            )
    for source in spec.sources:
        if source.kind in FILE_KINDS and source.location:
            folder = spec.path(source.location).resolve().parent
            if out.is_relative_to(folder):
                raise RescueError(
                    f"--out {out} is inside {folder}, the folder of source {source.name}: the audit never writes "
                    "beside a customer's data; give the artifacts a folder of their own"
                )


def run_week(
    project: str | Path,
    out: str | Path,
    days: list[int] | None = None,
    extra_parameters: dict[str, Any] | None = None,
    progress: bool = True,
    kernels: Kernels | None = None,
) -> list[Path]:
    """Run the week's workbooks in order on ``project``, writing everything to ``out``.

    Validates the spec and every workbook's parameters before anything runs; stops at the first
    failing day with a WorkbookFailed naming the day, the cell and the error.
    ``kernels`` may hold the first days' kernels, started ahead by the caller (``rescue week`` starts them
    before it imports this module); the week stops every kernel in it when it ends.
    Returns the rendered HTML pages.
    """
    spec = load_spec(project)
    out_dir = Path(out).expanduser().resolve()
    check_out_folder(spec, out_dir)
    selected = select_days(days, DAYS)
    extra = dict(extra_parameters or {})
    own = sorted(set(extra) & RUNNER_PARAMETERS)
    if own:
        raise RescueError(
            f"-p {own[0]} is refused: the week sets {', '.join(sorted(RUNNER_PARAMETERS))} itself "
            "(the project argument and --out say where; the audit record names what ran)"
        )
    plans = []
    for day in selected:
        workbook = workbooks_dir() / day.workbook
        params = {"project": str(spec.root), "out": str(out_dir), "interactive": False}
        declared = papermill.inspect_notebook(str(workbook))
        params.update({k: v for k, v in extra.items() if k in declared})
        plans.append((day, check_parameters(workbook, params)))
    unused = set(extra) - {k for _, p in plans for k in p}
    if unused:
        raise RescueError(f"no selected workbook declares parameter(s): {', '.join(sorted(unused))}")
    plans, closing = close_the_gap(plans)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages: list[Path] = []
    bar = tqdm(plans, unit="day", disable=not progress, desc="rescue week")
    books = workbooks_dir()
    with kernels or Kernels(books) as kernels:  # each day's kernel starts while the days before it run
        for i, (day, params) in enumerate(bar):
            bar.set_postfix_str(
                f"day {day.number}: {day.title}"
                + (" (with the later days' evidence)" if i == closing else "")
            )
            kernel = kernels.take(books / day.workbook)
            kernels.ahead(*(books / later.workbook for later, _ in plans[i + 1 : i + 1 + AHEAD]))
            if i == 0:  # the page templates compile while the first day runs (this process only waits for it)
                threading.Thread(
                    target=warm_up_rendering, name="rescue-warm-up-rendering", daemon=True
                ).start()
            try:
                run_day(day, spec, out_dir, params, kernel=kernel.ready())
            finally:
                kernels.done(kernel)
            page = out_dir / f"{day.artifact}.html"
            if page not in pages:
                pages.append(page)
        # the last kernel exits while the readout prints and the home page is written
        if any(day.artifact == "readout" for day, _ in plans):
            _print_readout(out_dir, bar)
        write_home(spec, out_dir, DAYS)
    return pages


def _print_readout(out: Path, bar: Any) -> None:
    """The readout as a PDF when a chromium is here (recorded in the audit log); a failed print is said, and
    the week stands: the HTML page is the readout."""
    try:
        pdf = readout_pdf(out)
    except PdfFailed as exc:
        bar.write(f"note: no readout.pdf — {exc}")
        return
    if pdf is not None:
        append_record(out, "pdf", page="readout.html", outputs={pdf.name: file_sha256(pdf)})
