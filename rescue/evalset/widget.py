"""The labeling widget: one item at a time, every click committed to the ledger at once."""

from __future__ import annotations

import functools
import getpass
import hashlib
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..ledger import Ledger
from ..spec import Spec
from .labels import DATASET, current_labels, last_undoable


def shown(handler: Callable[..., None]) -> Callable[..., None]:
    """A widget callback whose failure (a locked ledger, a full disk) is shown in the widget, not only in
    JupyterLab's log console where a labeler never looks."""

    @functools.wraps(handler)
    def run(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            handler(self, *args, **kwargs)
        except Exception as exc:  # the labeler must see it: nothing was saved
            self.status.value = (f"<span style='color:#b00'><b>Not saved</b> — {html.escape(type(exc).__name__)}: "
                                 f"{html.escape(str(exc))}. Try again; if it persists, tell whoever runs the audit.</span>")  # fmt: skip

    return run


def labeling_order(sample: pd.DataFrame, seed: str = "labeling-order-1") -> pd.DataFrame:
    """The sample in the order a labeler sees it: shuffled by a seeded hash of each key, so the strata are
    mixed (a labeler who stops early has labeled every source, not the first one only); stable across runs."""
    order = sample["key"].map(lambda k: hashlib.sha256(f"{seed}:{k}".encode()).hexdigest())
    return sample.assign(_order=order).sort_values("_order").drop(columns="_order")


def default_labeler() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "labeler"


class LabelingWidget:
    """Label ``sample`` as ``labeler``. Items already labeled or skipped by this labeler are not shown again,
    so a restarted kernel resumes where the labeler stopped. Other labelers' labels are never shown (blind)."""

    def __init__(self, spec: Spec, out: str | Path, sample: pd.DataFrame, labeler: str | None = None,
                 items: list[str] | None = None) -> None:  # fmt: skip
        import ipywidgets as w

        self.spec = spec
        self.ledger = Ledger(out)
        self.labeler = labeler or default_labeler()
        self.sample = labeling_order(sample if items is None else sample[sample["key"].isin(items)])
        self.classes = list(spec.eval.classes or sorted({*spec.eval.guide}))
        self.progress = w.HTML()
        self.bar = w.IntProgress(min=0, max=max(len(self.sample), 1), bar_style="info",
                                 layout=w.Layout(width="60%"))  # fmt: skip
        self.item_box = w.HTML(layout=w.Layout(border="1px solid #ccc", padding="8px", width="100%"))
        self.guide = w.HTML(self._guide_html())
        self.buttons = []
        for i, label in enumerate(self.classes, start=1):
            b = w.Button(
                description=f"{i} · {label}",
                tooltip=spec.eval.guide.get(label, label),
                button_style="primary",
            )
            b.on_click(lambda _, label=label: self.give(label))
            self.buttons.append(b)
        self.skip_button = w.Button(description="Skip", icon="forward")
        self.skip_button.on_click(lambda _: self._event("skip"))
        self.flag_button = w.Button(description="Flag", icon="flag", button_style="warning")
        self.flag_button.on_click(lambda _: self._event("flag", advance=False))
        self.undo_button = w.Button(description="Undo", icon="undo")
        self.undo_button.on_click(lambda _: self.undo())
        self.comment = w.Text(placeholder="comment on this item (Enter saves)", layout=w.Layout(width="60%"))
        self.comment.continuous_update = False
        self.comment.observe(self._comment, names="value")
        self.status = w.HTML()
        self.view = w.VBox([
            w.HBox([self.bar, self.progress]),
            w.HBox([self.item_box, self.guide], layout=w.Layout(width="100%")),
            w.HBox(self.buttons),
            w.HBox([self.skip_button, self.flag_button, self.undo_button, self.comment]),
            self.status,
        ])  # fmt: skip
        self.current: dict[str, Any] | None = None
        self.refresh()

    def _guide_html(self) -> str:
        rows = "".join(
            f"<li><b>{html.escape(label)}</b>: {html.escape(self.spec.eval.guide.get(label, ''))}</li>"
            for label in self.classes
        )
        return f"<div style='padding-left:12px;font-size:12px'><b>Labeling guide</b><ul>{rows}</ul></div>"

    def _mine(self) -> pd.DataFrame:
        labels = current_labels(self.ledger.label_events(DATASET))
        return labels[labels["labeler"] == self.labeler] if len(labels) else labels

    def refresh(self) -> None:
        """Show the next item this labeler has neither labeled nor skipped, and the progress."""
        mine = self._mine()
        done = set(mine.loc[mine["label"].notna() | mine["skipped"], "item"]) if len(mine) else set()
        labeled = int(mine["label"].notna().sum()) if len(mine) else 0
        remaining = self.sample[~self.sample["key"].isin(done)]
        self.progress.value = (
            f"<b>{labeled}</b> of {len(self.sample)} labeled by <b>{html.escape(self.labeler)}</b>"
        )
        self.bar.value = labeled
        if remaining.empty:
            self.current = None
            self.item_box.value = "<i>All items done — thank you.</i>"
            return
        row = remaining.iloc[0]
        self.current = {"key": row["key"], "item_hash": row["item_hash"]}
        self.item_box.value = (f"<div style='color:#666;font-size:11px'>{html.escape(str(row['key']))} · {html.escape(str(row['stratum']))}</div>"
                               f"<div style='white-space:pre-wrap'>{html.escape(str(row['text']))}</div>")  # fmt: skip

    @shown
    def _event(
        self, action: str, label: str | None = None, comment: str | None = None, advance: bool = True
    ) -> None:
        if self.current is None:
            return
        self.ledger.add_label_event(
            DATASET, self.current["key"], self.current["item_hash"], self.labeler, action, label, comment
        )
        self.status.value = f"saved: {html.escape(action)}{' ' + html.escape(label) if label else ''} on {html.escape(str(self.current['key']))}"
        if advance:
            self.refresh()

    def give(self, label: str) -> None:
        """Label the current item (committed at once) and move on."""
        self._event("label", label)

    @shown
    def undo(self) -> None:
        """Take back this labeler's last action and show that item again."""
        events = self.ledger.label_events(DATASET)
        target = last_undoable(events, self.labeler)
        if target is None:
            self.status.value = "nothing to undo"
            return
        event = next(e for e in events if e["id"] == target)
        self.ledger.add_label_event(
            DATASET, event["item"], event["item_hash"], self.labeler, "undo", undoes=target
        )
        self.status.value = (
            f"undone: {html.escape(str(event['action']))} on {html.escape(str(event['item']))}"
        )
        self.refresh()
        row = self.sample[self.sample["key"] == event["item"]]
        if len(row):  # show the undone item again, first
            self.current = {"key": event["item"], "item_hash": event["item_hash"]}
            r = row.iloc[0]
            self.item_box.value = (f"<div style='color:#666;font-size:11px'>{html.escape(str(r['key']))} · {html.escape(str(r['stratum']))}</div>"
                                   f"<div style='white-space:pre-wrap'>{html.escape(str(r['text']))}</div>")  # fmt: skip

    @shown
    def _comment(self, change: dict[str, Any]) -> None:
        text = (change.get("new") or "").strip()
        if text:
            self._event("comment", comment=text, advance=False)
            self.comment.value = ""

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.view)
