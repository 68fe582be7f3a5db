"""The week's days: their numbers, titles, workbooks and artifacts, and where the workbooks live.

A light module (no papermill, pandas or rendering), so that ``rescue week`` can start the first days' kernels
before it imports the rest of the week (:mod:`rescue.kernels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import RescueError


@dataclass(frozen=True)
class Day:
    """One day of the week: its number, title, workbook file and artifact name (``<artifact>.json``/``.html``)."""

    number: int
    title: str
    workbook: str
    artifact: str


DAYS: tuple[Day, ...] = (
    Day(1, "Production gap", "day1_production_gap.ipynb", "gap"),
    Day(2, "Data picture", "day2_data_picture.ipynb", "data_picture"),
    Day(3, "Eval set", "day3_eval_set.ipynb", "eval_set"),
    Day(4, "Eval position", "day4_eval_position.ipynb", "eval_position"),
    Day(5, "Owner and readout", "day5_owner_readout.ipynb", "readout"),
)


def workbooks_dir() -> Path:
    """Where the day workbooks live: inside the installed package, or the repository's workbooks/."""
    here = Path(__file__).parent
    for candidate in (here / "workbooks", here.parent / "workbooks"):
        if candidate.is_dir():
            return candidate
    raise RescueError(
        f"cannot find the workbooks (looked in {here / 'workbooks'} and {here.parent / 'workbooks'})"
    )


def select_days(days: list[int] | None, known: tuple[Day, ...] = DAYS) -> list[Day]:
    """The days to run, in week order (of ``known``); refuses a day that has no workbook."""
    by_number = {d.number: d for d in known}
    if not days:
        return list(known)
    unknown = sorted(set(days) - set(by_number))
    if unknown:
        raise RescueError(f"no workbook for day(s) {unknown}; available days: {sorted(by_number)}")
    return [by_number[n] for n in sorted(set(days))]
