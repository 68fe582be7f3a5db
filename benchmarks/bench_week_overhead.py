"""How much does `rescue week` add on top of plain papermill for the same workbook?

Reference: papermill executing day 1 on the sample project with the same parameters (the floor:
kernel start + cells). rescue adds spec validation, parameter checks, input hashing, HTML rendering,
secret redaction and the audit log. Runs both alternately in one process, prints medians and the ratio.

    .venv/bin/python benchmarks/bench_week_overhead.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import papermill

from rescue.week import run_week, workbooks_dir

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "pharma-feedback"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    workbook = workbooks_dir() / "day1_production_gap.ipynb"
    plain, rescue = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            params = {"project": str(SAMPLE), "out": tmp, "interactive": False}
            papermill.execute_notebook(
                str(workbook), f"{tmp}/run.ipynb", parameters=params, kernel_name="python3",
                progress_bar=False, cwd=str(workbook.parent),
            )  # fmt: skip
            plain.append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            run_week(SAMPLE, tmp, days=[1], progress=False)
            rescue.append(time.perf_counter() - t)
    p, r = statistics.median(plain), statistics.median(rescue)
    print(f"papermill alone (reference): median {p:.2f} s over {len(plain)} runs")
    print(f"rescue week --days 1:        median {r:.2f} s over {len(rescue)} runs")
    print(f"ratio rescue / papermill:    {r / p:.2f}x  (overhead {r - p:+.2f} s)")


if __name__ == "__main__":
    main()
