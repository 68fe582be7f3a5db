"""The week's floor: how close ``rescue week`` on the sample comes to six bare kernels under papermill.

The reference is a bare kernel run by papermill in this process over the week's kernel manager (Unix sockets),
papermill's defaults otherwise, on a one-cell notebook that imports pandas, matplotlib and ipywidgets. The
week starts six kernels (Day 1 runs twice), so its floor is ``2 × 6 × bare`` (issue 16). Targets:
``rescue week`` on the sample into a fresh folder within the floor; a fully cached re-run into the same folder
within 1.5 × it.

The weeks are the command a user runs, ``rescue week sample_data/pharma-feedback --out DIR``, each in a
process of its own and timed from outside (interpreter start, imports and exit included); that process also
times its phases. Everything is measured in one run, bare kernels between the weeks (the machine is noisy:
compare within a run, read medians). Each day run splits into: papermill's kernel start (from papermill's
start to the first cell's, both in the notebook's metadata), the cells (papermill's per-cell durations:
imports, build, display), the rest of papermill (reading and parameterizing the workbook, shutting the kernel
down, writing the notebook), hashing the inputs, redaction, rendering the page, and the audit (output hashes,
audit-log records). Each day's kernel is started, with its workbook's imports, while the day before runs
(``rescue.kernels``), so a day's "kernel" is papermill's first round trip to a running kernel. The week's own
steps: spec and parameter checks, "kernels" (starting the kernels ahead, waiting for a warm-up that has not
finished, retiring and stopping them), the readout's PDF, the home page, and the command's start and exit. A papermill entry near 2.6 s is a kernel that did not exit on its shutdown request
(a race in ipykernel 7 between its control thread's last flush and its IOPub thread's close) and was
terminated after 2.5 s: about one kernel in ten, bare ones included.

    .venv/bin/python benchmarks/bench_week_overhead.py [--repeat 1] [--bare-repeat 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import rescue.kernels as kernels
import rescue.week as week
from rescue.cli import main as rescue_command
from rescue.week import KERNEL, LocalKernelManager

# nbformat and papermill are imported where they are used, after rescue: the week's process imports them as
# the command does (rescue first, which sets up jsonschema before nbformat imports it)

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "pharma-feedback"
BARE_SOURCE = "import pandas, matplotlib, ipywidgets"
DAY_PHASES = ("kernel", "cells", "papermill", "inputs", "redact", "render", "audit")
WEEK_PHASES = ("prepare", "kernels", "pdf", "home", "other", "command")
# the functions of rescue.week timed as a phase, outermost call only (file_sha256 inside render is render's)
TIMED = {
    "input_hashes": "inputs",
    "_keep_redacted": "redact",
    "redact_secrets": "redact",
    "render_day": "render",
    "file_sha256": "audit",
    "append_record": "audit",
    "load_spec": "prepare",
    "check_out_folder": "prepare",
    "check_parameters": "prepare",
    "_print_readout": "pdf",
    "write_home": "home",
}
# the kernels started ahead (rescue.kernels): starting one, waiting for its warm-up, retiring and stopping them
KERNEL_STEPS = ((kernels.Kernels, ("take", "ahead", "done", "close")), (kernels.WarmKernel, ("ready",)))


def bare_kernel_s() -> float:
    """Seconds of one bare kernel under papermill: the week's kernel manager, papermill's defaults."""
    import nbformat
    import papermill

    with tempfile.TemporaryDirectory(prefix="rescue-bench-") as tmp:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BARE_SOURCE)])
        nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
        source = Path(tmp) / "bare.ipynb"
        nbformat.write(nb, str(source))
        t = time.perf_counter()
        papermill.execute_notebook(
            str(source), str(Path(tmp) / "ran.ipynb"), kernel_name=KERNEL, progress_bar=False,
            log_output=False, request_save_on_cell_execute=True, kernel_manager_class=LocalKernelManager,
        )  # fmt: skip
        return time.perf_counter() - t


class Phases:
    """Seconds per phase of each day run (in run order) and of the week's own steps, for one week."""

    def __init__(self) -> None:
        self.days: list[tuple[int, dict[str, float]]] = []
        self.week: dict[str, float] = defaultdict(float)
        self._active = False
        self._in_day = False

    def _now_day(self) -> dict[str, float] | None:
        return self.days[-1][1] if self.days and self._in_day else None

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap rescue.week's steps (and papermill's execute_notebook) for the duration of one week."""
        import papermill

        saved = {name: getattr(week, name) for name in (*TIMED, "run_day")}
        methods = {(cls, name): getattr(cls, name) for cls, names in KERNEL_STEPS for name in names}
        execute = papermill.execute_notebook
        for name, phase in TIMED.items():
            setattr(week, name, self._timed(saved[name], phase))
        for (cls, name), fn in methods.items():
            setattr(cls, name, self._timed(fn, "kernels"))
        week.run_day = self._day(saved["run_day"])
        papermill.execute_notebook = self._papermill(execute)
        try:
            yield
        finally:
            for name, fn in saved.items():
                setattr(week, name, fn)
            for (cls, name), fn in methods.items():
                setattr(cls, name, fn)
            papermill.execute_notebook = execute

    def _add(self, phase: str, seconds: float) -> None:
        day = self._now_day()
        into = self.week if day is None else day
        into[phase] = into.get(phase, 0.0) + seconds

    def _timed(self, fn: Callable, phase: str) -> Callable:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._active:
                return fn(*args, **kwargs)
            self._active, t = True, time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._active = False
                self._add(phase, time.perf_counter() - t)

        return timed

    def _day(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def day(d: Any, *args: Any, **kwargs: Any) -> Any:
            self.days.append((d.number, {}))
            self._in_day, t = True, time.perf_counter()
            try:
                return fn(d, *args, **kwargs)
            finally:
                self._in_day = False
                self.days[-1][1]["total"] = time.perf_counter() - t

        return day

    def _papermill(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def execute(source: str, output: str, *args: Any, **kwargs: Any) -> Any:
            if self._now_day() is None:  # inspect or a bare kernel: not a day's run
                return fn(source, output, *args, **kwargs)
            t = time.perf_counter()
            try:
                return fn(source, output, *args, **kwargs)
            finally:
                total = time.perf_counter() - t
                kernel, cells = _split(Path(output))
                self._add("kernel", kernel)
                self._add("cells", cells)
                self._add("papermill", total - kernel - cells)

        return execute


def _split(executed: Path) -> tuple[float, float]:
    """(kernel start, cells) in seconds, from the metadata papermill wrote into the executed notebook."""
    import nbformat

    if not executed.exists():
        return 0.0, 0.0
    nb = nbformat.read(str(executed), as_version=4)
    started = nb.metadata.get("papermill", {}).get("start_time")
    times = [c.metadata.get("papermill", {}) for c in nb.cells]
    first = next((t.get("start_time") for t in times if t.get("start_time")), None)
    if not first:
        return 0.0, 0.0
    kernel = (datetime.fromisoformat(first) - datetime.fromisoformat(started)).total_seconds()
    return kernel, sum(t.get("duration") or 0.0 for t in times)


def week_in_a_process(out: Path) -> tuple[float, Phases]:
    """``rescue week`` on the sample into ``out``, in a process of its own: its wall time and its phases."""
    with tempfile.TemporaryDirectory(prefix="rescue-bench-") as tmp:
        report = Path(tmp) / "phases.json"
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--child", str(out), str(report)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        wall = time.perf_counter() - t
        measured = json.loads(report.read_text())
    phases = Phases()
    phases.days = [(number, row) for number, row in measured["days"]]
    phases.week.update(measured["week"])
    phases.week["command"] = wall - measured["run_week"]  # the interpreter's start, the imports, the exit
    return wall, phases


def child(out: Path, report: Path) -> None:
    """The command a user runs, with its phases timed, written to ``report``."""
    phases = Phases()
    with phases.installed():
        t = time.perf_counter()
        rescue_command(["week", str(SAMPLE), "--out", str(out), "--no-progress"], standalone_mode=False)
        run = time.perf_counter() - t
    phases.week["other"] = run - sum(d["total"] for _, d in phases.days) - sum(phases.week.values())
    report.write_text(json.dumps({"run_week": run, "days": phases.days, "week": phases.week}))


def _median_days(runs: list[Phases]) -> list[tuple[int, dict[str, float]]]:
    rows = []
    for i, (number, _) in enumerate(runs[0].days):
        keys = (*DAY_PHASES, "total")
        rows.append((number, {k: statistics.median(r.days[i][1].get(k, 0.0) for r in runs) for k in keys}))
    return rows


def print_phases(label: str, runs: list[Phases]) -> None:
    print(f"\n{label}: seconds per day run (median of {len(runs)})")
    print(f"{'day':>4} " + " ".join(f"{p:>9}" for p in (*DAY_PHASES, "total")))
    rows = _median_days(runs)
    for number, row in rows:
        print(f"{number:>4} " + " ".join(f"{row[p]:9.2f}" for p in (*DAY_PHASES, "total")))
    sums = {p: sum(row[p] for _, row in rows) for p in (*DAY_PHASES, "total")}
    print(f"{'all':>4} " + " ".join(f"{sums[p]:9.2f}" for p in (*DAY_PHASES, "total")))
    steps = {p: statistics.median(r.week.get(p, 0.0) for r in runs) for p in WEEK_PHASES}
    print("week: " + ", ".join(f"{p} {s:.2f}" for p, s in steps.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="weeks (each a fresh one and a cached re-run)")
    parser.add_argument("--bare-repeat", type=int, default=5, help="bare kernels (spread over the run)")
    parser.add_argument("--keep", type=Path, help="keep the last output folder here")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    bare: list[float] = [bare_kernel_s()]
    fresh: list[tuple[float, Phases]] = []
    cached: list[tuple[float, Phases]] = []
    between = -(-(args.bare_repeat - 1) // args.repeat)  # the other bare kernels, spread between the weeks
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="rescue-bench-week-") as tmp:
            out = Path(tmp) / "out"
            fresh.append(week_in_a_process(out))
            cached.append(week_in_a_process(out))
            if args.keep:
                shutil.rmtree(args.keep, ignore_errors=True)
                shutil.copytree(out, args.keep)
        bare += [bare_kernel_s() for _ in range(min(between, args.bare_repeat - len(bare)))]
    b = statistics.median(bare)
    floor = 2 * 6 * b
    w = statistics.median(t for t, _ in fresh)
    c = statistics.median(t for t, _ in cached)
    print(f"bare kernel under papermill ({BARE_SOURCE}): median {b:.2f} s of {len(bare)}")
    print(f"floor, 2 × 6 × bare:       {floor:5.1f} s")
    print(f"rescue week on the sample: {w:5.1f} s  ({w / floor:.2f} × floor, target ≤ 1)    of {len(fresh)}")
    print(f"cached re-run, same out:   {c:5.1f} s  ({c / floor:.2f} × floor, target ≤ 1.5)  of {len(cached)}")
    print_phases("week on the sample", [p for _, p in fresh])
    print_phases("cached re-run", [p for _, p in cached])


if __name__ == "__main__":
    main()
