"""The week's floor: how close ``rescue week`` on the sample comes to six bare kernels under papermill.

The reference is a bare kernel run by papermill in this process with papermill's defaults (its kernel manager
and client, over TCP), on a one-cell notebook that imports pandas, matplotlib and ipywidgets: issue 16's "bare
kernel under papermill". The week starts six kernels (Day 1 runs twice), so its floor is ``2 × 6 × bare``.
Beside it, the same bare kernel over rescue's kernel manager (Unix sockets, and a client that is ready as soon
as the kernel's IOPub answers, rescue.kernels.ReadyClient), and the week's ratio to that floor too: the part of
the week's gain that any notebook run with rescue's kernel manager would get. Targets:
``rescue week`` on the sample into a fresh folder within the floor; a fully cached re-run into the same folder
within 1.5 × it.

The weeks are the command a user runs, ``rescue week sample_data/pharma-feedback --out DIR``, each in a
process of its own and timed from outside (interpreter start, imports and exit included); that process also
times its phases. Everything is measured in one run, bare kernels between the weeks (the machine is noisy:
compare within a run, read medians). Each day run splits into: papermill's kernel start (from papermill's
start to the first cell's, both in the notebook's metadata), the cells (papermill's per-cell durations:
imports, build, display), the rest of papermill (reading and parameterizing the workbook, shutting the kernel
down, writing the notebook), hashing the inputs, redaction, rendering the page, and the audit (output hashes,
audit-log records). Each day's kernel is started, with its workbook's imports, while the two days before it
run (``rescue.kernels``), so a day's "kernel" is papermill's first round trip to a running kernel. The week's own
steps: "imports" (of rescue.week and what it needs, which the command does after it has started the first
day's kernel), spec and parameter checks, "kernels" (starting the kernels ahead, waiting for a warm-up that
has not finished, retiring and stopping them), the readout's PDF, the home page, and "command" (the
interpreter's start, rescue.cli's imports and the exit). A bare kernel near 3.5 s is one that did not exit
on its shutdown request (a race in ipykernel 7 between its control thread's last flush and its IOPub thread's
close) and was terminated after 2.5 s. The week does not wait for a used kernel (one hung that way is
terminated a second after its shutdown request).

    .venv/bin/python benchmarks/bench_week_overhead.py [--repeat 1] [--bare-repeat 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import rescue.kernels as kernels
from rescue.cli import main as rescue_command
from rescue.kernels import KERNEL, LocalKernelManager

# rescue.week, nbformat and papermill are imported where they are used: the week's process imports them when
# the command does (it starts the first day's kernel before it imports rescue.week), and its phases are timed
# from the moment rescue.week is loaded (_on_import)

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "pharma-feedback"
BARE_SOURCE = "import pandas, matplotlib, ipywidgets"
DAY_PHASES = ("kernel", "cells", "papermill", "inputs", "redact", "render", "audit")
WEEK_PHASES = ("imports", "prepare", "kernels", "pdf", "home", "other", "command")
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


def bare_kernel_s(rescues: bool = False) -> float:
    """Seconds of one bare kernel under papermill: its defaults, or over rescue's kernel manager (``rescues``)."""
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
            log_output=False, request_save_on_cell_execute=True,
            **({"kernel_manager_class": LocalKernelManager} if rescues else {}),
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

    def install_kernel_steps(self) -> None:
        """Time the kernels started ahead (for the rest of this process: it runs one week)."""
        for cls, names in KERNEL_STEPS:
            for name in names:
                setattr(cls, name, self._timed(getattr(cls, name), "kernels"))

    def install_week(self, week: ModuleType) -> None:
        """Wrap rescue.week's steps (and papermill's execute_notebook), for the rest of this process."""
        import papermill

        for name, phase in TIMED.items():
            setattr(week, name, self._timed(getattr(week, name), phase))
        week.run_day = self._day(week.run_day)
        papermill.execute_notebook = self._papermill(papermill.execute_notebook)

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


class _OnImport(importlib.abc.MetaPathFinder):
    """Calls ``then(module)`` once the module ``name`` has been executed (its first import), then steps aside;
    ``seconds`` is how long that import took."""

    def __init__(self, name: str, then: Callable[[ModuleType], None]) -> None:
        self.name, self.then = name, then
        self.seconds = 0.0

    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        execute, then = spec.loader.exec_module, self.then

        def exec_module(module: ModuleType) -> None:
            t = time.perf_counter()
            execute(module)
            self.seconds = time.perf_counter() - t
            then(module)

        spec.loader.exec_module = exec_module
        return spec


def child(out: Path, report: Path) -> None:
    """The command a user runs, with its phases timed, written to ``report``."""
    phases = Phases()
    phases.install_kernel_steps()
    loaded = _OnImport("rescue.week", phases.install_week)
    sys.meta_path.insert(0, loaded)
    t = time.perf_counter()
    rescue_command(["week", str(SAMPLE), "--out", str(out), "--no-progress"], standalone_mode=False)
    run = time.perf_counter() - t
    phases.week["imports"] = loaded.seconds
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
    ours: list[float] = [bare_kernel_s(rescues=True)]
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
        for _ in range(min(between, args.bare_repeat - len(bare))):
            bare.append(bare_kernel_s())
            ours.append(bare_kernel_s(rescues=True))
    b, o = statistics.median(bare), statistics.median(ours)
    floor, our_floor = 2 * 6 * b, 2 * 6 * o
    w = statistics.median(t for t, _ in fresh)
    c = statistics.median(t for t, _ in cached)
    print(f"bare kernel under papermill ({BARE_SOURCE}), its defaults: median {b:.2f} s of {len(bare)}")
    print(f"  the same over rescue's kernel manager:  median {o:.2f} s of {len(ours)}")
    print(f"floor, 2 × 6 × bare:       {floor:5.1f} s   (over rescue's kernel manager: {our_floor:.1f} s)")
    print(f"rescue week on the sample: {w:5.1f} s  ({w / floor:.2f} × floor, target ≤ 1; "
          f"{w / our_floor:.2f} × rescue's)    of {len(fresh)}")  # fmt: skip
    print(f"cached re-run, same out:   {c:5.1f} s  ({c / floor:.2f} × floor, target ≤ 1.5; "
          f"{c / our_floor:.2f} × rescue's)  of {len(cached)}")  # fmt: skip
    print_phases("week on the sample", [p for _, p in fresh])
    print_phases("cached re-run", [p for _, p in cached])


if __name__ == "__main__":
    main()
