"""Check that two runs of ``rescue week`` wrote the same artifacts (behaviour unchanged by a refactor).

Usage: ``python scripts/compare_artifacts.py BEFORE_OUT AFTER_OUT [--ignore GLOB ...] [--limit N]``

Every top-level ``*.json`` of either output folder is loaded from both and compared value by value; every
top-level ``*.csv`` (``eval_set.csv``) is compared as text, line by line. For each file the script prints
``identical`` or the JSON paths that differ with the before and after values, then a summary line. A path
names list items by position, or by their ``id`` when they have the same one on both sides
(``/scores/accuracy/value``, ``/checks/latency.meets_target/evidence``; CSV: ``line 12``).
Exit status: 0 when everything is identical, 1 otherwise (2 for a wrong command line).

What legitimately differs between two runs is normalised away first, on both sides:

- the run's clock. ``generated_at`` and ``as_of`` (the day of the run) wherever they appear, and any
  timezone-aware ISO-8601 timestamp in any string (``2026-12-01T23:02:14+00:00``): rescue stamps its own
  clock in UTC with an offset (the envelope's ``generated_at``, the copies of it in ``gap.json``
  ``artifacts_read``, ``eval_set.csv`` ``labeled_at``). Timestamps read from the data are naive and are kept;
- rescue's version: ``rescue_version`` in the envelope (``rescue/artifacts.py`` ``write_artifact``) and
  ``rescue X.Y.Z`` in text (``produced_by``). ``schema_version`` is kept: a changed schema is a change.
  Other packages' versions (``py3langid 0.4.0``) are kept too: a new library may change results;
- folders: each output folder's own absolute path becomes ``<OUT>`` (the audit log and the ledger live in
  it), and the first folder under the temporary directory (``/tmp/before-src/...``) becomes ``<TMP>``.

What the user knows to differ more is left out with ``--ignore GLOB`` (repeatable), an ``fnmatch`` pattern
matched against ``FILE:PATH`` and against ``PATH`` alone, and against each parent of the path, so
``--ignore '*latency*'`` drops every latency figure and ``--ignore 'gap.json:/checks/cost.*'`` some subtrees.
Measured wall-clock figures always differ between two real runs:
``--ignore '*latency*' --ignore '*_ms' --ignore '*share_of_target'`` leaves them out (Day 2's source
probes, whose number adapts to their spread, Day 4's call latencies, the retrieval budget, the gap's latency
checks, whose evidence quotes them, and the readout's copies). Counts that depend on what the output folder
already held (``ledger/cached_this_run``, ``labels/imported_this_run``, ``sample/reused``) differ unless
both runs start alike: both in fresh folders, or both re-run into a folder holding an earlier week.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

RUN_KEYS = {"generated_at": "<generated_at>", "as_of": "<as_of>", "rescue_version": "<rescue_version>"}
AWARE_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)")
RESCUE_VERSION = re.compile(r"\brescue v?\d+(?:\.[0-9A-Za-z+-]+)+")


class Marker(str):
    """A placeholder shown as is, never mistaken for a value of the artifact."""


ABSENT, PRESENT = Marker("<absent>"), Marker("<present>")


def temp_folder_pattern() -> re.Pattern[str]:
    """The first folder under a temporary directory (``/tmp/<name>``), however the platform spells it."""
    roots = {"/tmp", "/var/tmp", tempfile.gettempdir(), str(Path(tempfile.gettempdir()).resolve())}
    alternatives = "|".join(re.escape(r.rstrip("/")) for r in sorted(roots, key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})/[^/\s\"']+")


TEMP_FOLDER = temp_folder_pattern()


def normalise_text(text: str, out: Path) -> str:
    """``text`` with the run's output folder, temporary folders, clock and rescue version replaced."""
    for root in sorted({str(out.resolve()), str(out.absolute())}, key=len, reverse=True):
        text = text.replace(root, "<OUT>")
    text = TEMP_FOLDER.sub("<TMP>", text)
    text = AWARE_TIMESTAMP.sub("<time>", text)
    return RESCUE_VERSION.sub("rescue <version>", text)


def normalise(value: Any, out: Path) -> Any:
    """A copy of a JSON value with everything that differs between runs replaced by a placeholder."""
    if isinstance(value, dict):
        return {
            normalise_text(k, out): RUN_KEYS[k] if k in RUN_KEYS else normalise(v, out)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalise(v, out) for v in value]
    if isinstance(value, str):
        return normalise_text(value, out)
    return value


def same_scalar(a: Any, b: Any) -> bool:
    """Equal and of the same JSON type (``1`` is not ``1.0``, ``true`` is not ``1``); NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def differences(before: Any, after: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """``(path, before, after)`` for every leaf where the two JSON values differ (``<absent>`` if missing)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            sub = f"{path}/{key}"
            if key not in after or key not in before:
                yield sub, before.get(key, ABSENT), after.get(key, ABSENT)
            else:
                yield from differences(before[key], after[key], sub)
    elif isinstance(before, list) and isinstance(after, list):
        for i in range(max(len(before), len(after))):
            sub = f"{path}/{item_label(before, after, i)}"
            if i >= len(before) or i >= len(after):
                yield sub, before[i] if i < len(before) else ABSENT, after[i] if i < len(after) else ABSENT
            else:
                yield from differences(before[i], after[i], sub)
    elif isinstance(before, dict | list) or isinstance(after, dict | list) or not same_scalar(before, after):
        yield path or "/", before, after


def item_label(before: list[Any], after: list[Any], i: int) -> str:
    """The path segment of item ``i``: its ``id`` if both sides share it (``/checks/cost.target_set``)."""
    ids = [x[i].get("id") if i < len(x) and isinstance(x[i], dict) else None for x in (before, after)]
    return ids[0] if isinstance(ids[0], str) and ids[0] == ids[1] else str(i)


def text_differences(before: str, after: str) -> Iterator[tuple[str, Any, Any]]:
    """``(line N, before, after)`` for every line (1-based) where two texts differ."""
    a, b = before.splitlines(), after.splitlines()
    for i in range(max(len(a), len(b))):
        left, right = (a[i] if i < len(a) else ABSENT), (b[i] if i < len(b) else ABSENT)
        if left != right:
            yield f"line {i + 1}", left, right


def ignored(name: str, path: str, globs: Sequence[str]) -> bool:
    """Whether ``path`` of file ``name``, or one of its parents, matches an ``--ignore`` glob."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) or "/" for n in range(1, len(parts) + 1)]
    return any(fnmatchcase(c, g) or fnmatchcase(f"{name}:{c}", g) for c in candidates for g in globs)


def show(value: Any, width: int = 80) -> str:
    text = value if isinstance(value, Marker) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def load(path: Path, out: Path) -> Any:
    """The normalised content of an artifact: its JSON value, or its text (a CSV, or a file not JSON)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            return normalise(json.loads(text), out)
        except json.JSONDecodeError:
            pass
    return normalise_text(text, out)


def compare_file(
    name: str, before_out: Path, after_out: Path, globs: Sequence[str]
) -> list[tuple[str, Any, Any]]:
    """The differences of one artifact between the two folders, after normalisation and ``--ignore``."""
    a, b = before_out / name, after_out / name
    if not (a.exists() and b.exists()):
        return [("(file)", PRESENT if a.exists() else ABSENT, PRESENT if b.exists() else ABSENT)]
    before, after = load(a, before_out), load(b, after_out)
    if isinstance(before, str) and isinstance(after, str):
        found = text_differences(before, after)
    else:
        found = differences(before, after)
    return [d for d in found if not ignored(name, d[0], globs)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("before", type=Path, help="output folder of the run before the change")
    parser.add_argument("after", type=Path, help="output folder of the run after the change")
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="PATH_GLOB", help="leave out matching paths"
    )
    parser.add_argument("--limit", type=int, default=20, help="differences shown per file (default 20)")
    args = parser.parse_args(argv)
    for folder in (args.before, args.after):
        if not folder.is_dir():
            parser.error(f"{folder} is not a folder")

    names = sorted(
        {
            p.name
            for folder in (args.before, args.after)
            for p in [*folder.glob("*.json"), *folder.glob("*.csv")]
        }
    )
    differing = []
    for name in names:
        found = compare_file(name, args.before, args.after, args.ignore)
        if not found:
            print(f"{name}: identical")
            continue
        differing.append(name)
        print(f"{name}: {len(found)} difference{'s' if len(found) != 1 else ''}")
        for path, before, after in found[: args.limit]:
            print(f"  {path}: {show(before)} -> {show(after)}")
        if len(found) > args.limit:
            print(f"  ... and {len(found) - args.limit} more")
    if not names:
        print(f"summary: no *.json or *.csv in {args.before} or {args.after}")
        return 1
    same = len(names) - len(differing)
    print(
        f"summary: {same} of {len(names)} artifacts identical"
        + (f"; differ: {', '.join(differing)}" if differing else "")
    )
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
