"""Day 3 for free-text PoCs: people grade the PoC's answers against the rubric, one answer at a time.

The answers come from the ledger (the PoC is called once; Day 4 reuses the calls). Each grade is an event
in the ledger (dataset ``rubric:<criterion>``) pinned to the SHA-256 of the answer it was given for.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

import pandas as pd

from ..ledger import Ledger
from ..spec import Criterion, Spec
from .agreement import agreement
from .grades import current_grades, grading_frame, import_grades, poc_answers, rubric_dataset
from .items import load_eval_items
from .labels import current_labels, disagreements, last_undoable, resolve
from .traced import prepare_traces_sample, summary_line
from .widget import AskLabeler, KeyField, default_labeler, shown

# the grades of each scale, and the key that gives each (shown on its button)
GRADES = {"pass_fail": ["pass", "fail"], "1-5": ["1", "2", "3", "4", "5"]}
KEYS = {"pass": "p", "fail": "f", **{g: g for g in GRADES["1-5"]}}

SEED = "rubric-sample-7"


def prepare_rubric_sample(
    spec: Spec, out: str | Path, n: int | None = None, progress: bool = True
) -> pd.DataFrame:
    """The answers to grade: the PoC's answers to ``n`` eval questions, picked by a seeded hash of their id."""
    return _sample(_answered(spec, out, progress)[1], n or spec.eval.sample_size)


def _answered(spec: Spec, out: str | Path, progress: bool) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """The eval questions and a grading row for each one the PoC answered (answers from the ledger)."""
    items = load_eval_items(spec)
    _, calls = poc_answers(spec, out, items, progress=progress)
    return items, grading_frame(spec, items, calls)


def _sample(answered: pd.DataFrame, n: int) -> pd.DataFrame:
    order = answered["key"].map(lambda k: hashlib.sha256(f"{SEED}:{k}".encode()).hexdigest())
    frame = answered.assign(_order=order).sort_values("_order").drop(columns="_order")
    frame = frame.head(n).reset_index(drop=True)
    frame["stratum"] = "all"
    frame["weight"] = 1.0
    return frame


def _grades(ledger: Ledger, criterion: Criterion) -> pd.DataFrame:
    return current_labels(ledger.label_events(rubric_dataset(criterion.name)))


def build_rubric_set(
    spec: Spec, out: str | Path, import_existing: bool, progress: bool = True
) -> dict[str, Any]:
    """Day 3's eval set for a generation PoC: grades per criterion, their origin, agreement, export."""
    out = Path(out)
    items, answered = _answered(
        spec, out, progress
    )  # grades count for any answer in the set, not only the sample
    frame = _sample(answered, spec.eval.sample_size)
    hashes = dict(zip(answered["key"], answered["item_hash"], strict=True))
    imported = 0
    per_criterion = []
    exported_rows = []
    with Ledger(out) as ledger:
        if import_existing and spec.eval.grades:
            imported = import_grades(ledger, spec, spec.path(spec.eval.grades))
        for criterion in spec.eval.rubric:
            labels, _ = current_grades(
                ledger, criterion, hashes
            )  # grades for what is graded now, as pass/fail
            resolved = (
                resolve(labels) if len(labels) else pd.DataFrame(columns=["item", "label", "label_origin"])
            )
            per_criterion.append({
                "criterion": criterion.name,
                "graded": len(resolved),
                "by_grade": resolved["label"].value_counts().sort_index().to_dict(),
                "origin": resolved["label_origin"].value_counts().to_dict(),
                "labelers": sorted(set(labels["labeler"])) if len(labels) else [],
                "agreement": agreement(labels) if len(labels) else None,
                "open_disagreements": len(disagreements(labels)) if len(labels) else 0,
            })  # fmt: skip
            for row in resolved.to_dict("records"):
                exported_rows.append({"item_id": row["item"], "criterion": criterion.name, "grade": row["label"],
                                      "labelers": row.get("labelers", ""), "label_origin": row["label_origin"],
                                      "answer_sha256": hashes[row["item"]]})  # fmt: skip
    graded_all = {r["item_id"] for r in exported_rows}
    for c in per_criterion:
        graded_all &= {r["item_id"] for r in exported_rows if r["criterion"] == c["criterion"]}
    export = pd.DataFrame(
        exported_rows, columns=["item_id", "criterion", "grade", "labelers", "label_origin", "answer_sha256"]
    )
    out.mkdir(parents=True, exist_ok=True)
    csv, parquet = out / "eval_set.csv", out / "eval_set.parquet"
    export.to_csv(csv, index=False)
    export.to_parquet(parquet, index=False)
    origin: dict[str, int] = {}
    for c in per_criterion:
        for k, v in c["origin"].items():
            origin[k] = origin.get(k, 0) + int(v)
    first = next((c["agreement"] for c in per_criterion if c["agreement"]), None)
    drawn = prepare_traces_sample(spec, out)
    return {
        "traces": None if drawn is None else drawn[1],
        "sample": {
            "size": len(frame),
            "strata": [{"stratum": "all", "items": len(frame), "weight": 1.0}],
            "stratified_by": [],
            "reused": True,
            "population": len(items),
            "answered": len(answered),
        },
        "labels": {
            "imported_this_run": imported,
            "labelers": sorted({name for c in per_criterion for name in c["labelers"]}),
            "labeled_items": len(graded_all),
            "coverage": round(len(graded_all) / len(answered), 4) if len(answered) else 0.0,
            "flagged": 0,
            "by_label": {
                f"{c['criterion']}: {g}": int(n) for c in per_criterion for g, n in c["by_grade"].items()
            },
            "origin": origin,
        },
        "agreement": first,
        "open_disagreements": sum(c["open_disagreements"] for c in per_criterion),
        "export": {"csv": csv.name, "parquet": parquet.name},
        "rubric": per_criterion,
    }


def prepare_sample(
    spec: Spec, out: str | Path, n: int | None = None, progress: bool = True
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The answers to grade (see :func:`prepare_rubric_sample`) and how they were chosen."""
    return prepare_rubric_sample(spec, out, n, progress), {"reused": True, "strata": []}


def build(spec: Spec, out: str | Path, import_existing: bool, n: int | None = None) -> dict[str, Any]:
    """Day 3's eval set for a generation PoC (see :func:`build_rubric_set`); ``n`` is ``eval.sample_size``'s."""
    return build_rubric_set(spec, out, import_existing, progress=False)


def labeling_widget(spec: Spec, out: str | Path, sample: pd.DataFrame, labeler: str | None = None) -> Any:
    """The rubric widget: question, cited context and answer, a grade per criterion (the grader's name asked
    once, as for labels)."""
    return AskLabeler(out, labeler, lambda name: RubricWidget(spec, out, sample, name))


def label_datasets(spec: Spec) -> list[str]:
    """The ledger datasets holding people's grades, one per criterion."""
    return [rubric_dataset(c.name) for c in spec.eval.rubric]


def summary_markdown(report: dict[str, Any]) -> str:
    """Coverage of the rubric grades in a few lines."""
    s, lab = report["sample"], report["labels"]
    lines = [f"- The PoC answered {s['answered']} of {s['population']} production questions; {s['size']} of its answers "
             f"are up for grading in the widget (a seeded sample; the answers come from the ledger, so Day 4 scores the same ones).",
             f"- **{lab['labeled_items']} of {s['answered']} answers graded on every criterion ({lab['coverage']:.0%})**."]  # fmt: skip
    for c in report["rubric"]:
        grades = ", ".join(f"{k} {v}" for k, v in c["by_grade"].items()) or "none yet"
        origin = ", ".join(f"{k} ({v})" for k, v in c["origin"].items()) or "—"
        agree = ""
        if c["agreement"]:
            a = c["agreement"]
            agree = f"; agreement between people {a['value']:.2f} ({a['measure']})"
        lines.append(f"- `{c['criterion']}`: {c['graded']} graded ({grades}); origin: {origin}{agree}.")
    lines.append("- Grades no person gave are marked with their origin and never counted as human.")
    traced = summary_line(report.get("traces"))
    if traced:
        lines.append(traced)
    return "\n".join(lines)


class RubricWidget:
    """Grade answers against the rubric as ``labeler``: the question, the cited context and the answer side by
    side with the criteria. Every click is committed to the ledger at once; a restart resumes where it stopped."""

    def __init__(self, spec: Spec, out: str | Path, frame: pd.DataFrame, labeler: str | None = None) -> None:
        import ipywidgets as w

        self.spec = spec
        self.ledger = Ledger(out)
        self.labeler = labeler or default_labeler()
        self.frame = frame
        self.hashes = dict(zip(frame["key"], frame["item_hash"], strict=True))
        self.criteria = list(spec.eval.rubric)
        self.progress = w.HTML()
        self.bar = w.IntProgress(
            min=0, max=max(len(frame), 1), bar_style="info", layout=w.Layout(width="60%")
        )
        self.item_box = w.HTML(layout=w.Layout(border="1px solid #ccc", padding="8px", width="100%"))
        self.rows = []
        self.labels: dict[str, Any] = {}
        for c in self.criteria:
            buttons = []
            for g in GRADES[c.scale]:
                b = w.Button(
                    description=f"{g} ({KEYS[g]})", tooltip=f"{c.name}: {g}", layout=w.Layout(width="90px")
                )
                b.grade = g
                b.on_click(lambda _, c=c, g=g: self.grade(c.name, g))
                buttons.append(b)
            self.labels[c.name] = w.HTML()
            self.rows.append((c.name, buttons, w.VBox([self.labels[c.name], w.HBox(buttons)])))
        self.skip_button = w.Button(description="Skip (s)", icon="forward")
        self.skip_button.on_click(lambda _: self.skip())
        self.undo_button = w.Button(description="Undo (u)", icon="undo")
        self.undo_button.on_click(lambda _: self.undo())
        keys = {KEYS[g]: (lambda g=g: self.grade_next(g)) for c in self.criteria for g in GRADES[c.scale]}
        keys.update({"s": self.skip, "u": self.undo})
        hint = " · ".join(
            dict.fromkeys(f"{'/'.join(KEYS[g] for g in GRADES[c.scale])}" for c in self.criteria)
        )
        self.status = w.HTML()
        self.keys = KeyField(keys, f"{hint} grade the criterion marked ▶ · s skip · u undo", self.status)
        self.view = w.VBox([w.HBox([self.bar, self.progress]), self.keys.field, self.item_box, *[r[2] for r in self.rows],
                            w.HBox([self.skip_button, self.undo_button]), self.status])  # fmt: skip
        self.current: dict[str, Any] | None = None
        self.refresh()

    def _mine(self) -> dict[str, dict[str, str]]:
        """criterion -> item -> grade (this labeler's current grades) and the skipped items under ``_skip``."""
        out: dict[str, dict[str, str]] = {}
        skipped: set[str] = set()
        for c in self.criteria:
            labels = _grades(self.ledger, c)
            mine = labels[labels["labeler"] == self.labeler] if len(labels) else labels
            if len(mine):  # a grade given for another answer (the PoC changed) does not count as done
                mine = mine[mine["item"].map(self.hashes.get) == mine["item_hash"]]
            out[c.name] = {
                r["item"]: r["label"] for r in mine.to_dict("records") if isinstance(r["label"], str)
            }
            skipped |= {r["item"] for r in mine.to_dict("records") if r["skipped"]}
        out["_skip"] = {k: "skip" for k in skipped}
        return out

    def refresh(self) -> None:
        mine = self._mine()
        complete = {k for k in self.frame["key"] if all(k in mine[c.name] for c in self.criteria)}
        remaining = self.frame[~self.frame["key"].isin(complete | set(mine["_skip"]))]
        self.progress.value = f"<b>{len(complete)}</b> of {len(self.frame)} answers graded by <b>{html.escape(self.labeler)}</b>"
        self.bar.value = len(complete)
        if remaining.empty:
            self.current = None
            self.item_box.value = "<i>All answers graded — thank you.</i>"
            return
        self.show(remaining.iloc[0].to_dict(), mine)

    def show(self, row: dict[str, Any], mine: dict[str, dict[str, str]] | None = None) -> None:
        mine = mine or self._mine()
        self.current = {"key": row["key"], "item_hash": row["item_hash"]}
        context = "".join(
            f"<li><code>{html.escape(str(i))}</code> {html.escape(str(t)[:600])}</li>"
            for i, t in row["context"]
        )
        self.item_box.value = (
            f"<div style='color:#666;font-size:11px'>{html.escape(str(row['key']))}</div>"
            f"<div><b>Question</b>: {html.escape(str(row['question']))}</div>"
            f"<div style='margin-top:6px'><b>Answer</b>:<div style='white-space:pre-wrap'>{html.escape(str(row['answer']))}</div></div>"
            f"<details style='margin-top:6px'><summary>Retrieved context ({len(row['context'])} documents)</summary><ul>{context}</ul></details>"
            f"<details><summary>Reference answer</summary>{html.escape(str(row['reference']))}</details>"
        )  # fmt: skip
        following = self._next_criterion(row["key"], mine)
        for c, (name, buttons, _) in zip(self.criteria, self.rows, strict=True):
            given = mine[name].get(row["key"])
            marker = "▶ " if c.name == following else ""
            self.labels[name].value = f"{marker}<b>{html.escape(c.name)}</b> — {html.escape(c.description)}"
            for b in buttons:
                b.button_style = "success" if b.grade == given else ""

    def _next_criterion(self, key: str, mine: dict[str, dict[str, str]]) -> str | None:
        """The first criterion the current answer has no grade on: the one a key grades."""
        return next((c.name for c in self.criteria if key not in mine[c.name]), None)

    @shown
    def grade_next(self, grade: str) -> None:
        """Grade the criterion marked ▶ (the first one not yet graded), if ``grade`` is on its scale."""
        if self.current is None:
            return
        name = self._next_criterion(self.current["key"], self._mine())
        criterion = next((c for c in self.criteria if c.name == name), None)
        if criterion is None or grade not in GRADES[criterion.scale]:
            self.status.value = (
                f"the key {html.escape(KEYS.get(grade, grade))} is not a grade of {html.escape(str(name))}"
            )
            return
        self.grade(criterion.name, grade)

    @shown
    def grade(self, criterion: str, grade: str) -> None:
        """Grade the current answer on one criterion (committed at once); move on when every criterion is graded."""
        if self.current is None:
            return
        self.ledger.add_label_event(rubric_dataset(criterion), self.current["key"], self.current["item_hash"],
                                    self.labeler, "label", grade)  # fmt: skip
        key = html.escape(str(self.current["key"]))
        self.status.value = f"saved: {html.escape(criterion)} = {html.escape(grade)} on {key}"
        mine = self._mine()
        if all(self.current["key"] in mine[c.name] for c in self.criteria):
            self.refresh()
        else:
            self.show(self.frame[self.frame["key"] == self.current["key"]].iloc[0].to_dict(), mine)

    @shown
    def skip(self) -> None:
        """Skip the current answer on every criterion and move on."""
        if self.current is None:
            return
        for c in self.criteria:
            self.ledger.add_label_event(rubric_dataset(c.name), self.current["key"], self.current["item_hash"],
                                        self.labeler, "skip")  # fmt: skip
        self.refresh()

    @shown
    def undo(self) -> None:
        """Take back this labeler's most recent grade (across criteria) and show that answer again."""
        latest = None
        for c in self.criteria:
            events = self.ledger.label_events(rubric_dataset(c.name))
            target = last_undoable(events, self.labeler)
            if target is not None:
                event = next(e for e in events if e["id"] == target)
                if latest is None or event["id"] > latest[1]["id"]:
                    latest = (c.name, event)
        if latest is None:
            self.status.value = "nothing to undo"
            return
        name, event = latest
        self.ledger.add_label_event(rubric_dataset(name), event["item"], event["item_hash"], self.labeler, "undo",
                                    undoes=event["id"])  # fmt: skip
        self.status.value = f"undone: {html.escape(name)} on {html.escape(str(event['item']))}"
        row = self.frame[self.frame["key"] == event["item"]]
        if len(row):
            self.show(row.iloc[0].to_dict())
        else:
            self.refresh()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.view)
