"""The labeling widget: one item at a time, every click committed to the ledger at once.

Every button has a key (shown on it): focus the widget's key field and label with the keyboard alone. The
labeler's name is asked once and remembered for the output folder (per OS account; the account's name is
only a suggestion), and the progress bar counts each stratum.
"""

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
    """The OS account's name: a suggestion for the labeler's name, never taken as it without asking."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "labeler"


def _name_key() -> str:
    return f"labeler_name:{default_labeler()}"


def remembered_labeler(out: str | Path) -> str | None:
    """The name this OS account gave when it last labeled in ``out`` (None: not asked yet)."""
    with Ledger(out) as ledger:
        return ledger.setting(_name_key())


def remember_labeler(out: str | Path, name: str) -> str:
    """Remember ``name`` as this OS account's labeler name for ``out``; refuses an empty name."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("type your name: every label records who gave it")
    if len(name) > 100:
        raise ValueError("a name of at most 100 characters, please")
    with Ledger(out) as ledger:
        ledger.set_setting(_name_key(), name)
    return name


class KeyField:
    """A text field that turns each typed key into a button's action: the widget's keyboard shortcuts.

    JupyterLab keeps its own shortcuts out of a text field (a "1" typed into it never turns a cell into a
    heading), so this works in JupyterLab, classic Notebook and VS Code alike. Keys are read as typed: only the
    characters added since the last change count, so a fast typist loses none (a key typed before the emptied
    field reached the browser arrives appended to the keys already done, and counts once).
    """

    def __init__(self, keys: dict[str, Callable[[], None]], hint: str, status: Any = None) -> None:
        import ipywidgets as w

        self.keys, self.hint, self.status = keys, hint, status
        self.field = w.Text(
            placeholder=f"⌨ click here, then type: {hint}",
            continuous_update=True,
            layout=w.Layout(width="60%"),
        )
        self.field.add_class("rescue-keys")
        self._seen = ""  # what the field held when its last keys were acted on
        self._cleared = False  # the field was emptied here: the browser's next value is typed after that
        self.field.observe(self._typed, names="value")

    def _typed(self, change: dict[str, Any]) -> None:
        new = change.get("new") or ""
        if new.startswith(self._seen):
            added = new[len(self._seen) :]  # keys typed since (a value sent before the clear arrived, too)
        elif self._cleared:
            added = new  # typed into the emptied field
        else:
            added = ""  # a key deleted (backspace): nothing to do
        self._seen, self._cleared = new, False
        for char in added:
            action = self.keys.get(char.lower())
            if action is not None:
                action()
            elif self.status is not None and not char.isspace():
                self.status.value = f"the key {html.escape(char)} does nothing here: {html.escape(self.hint)}"
        # emptied once long, not after every key: a fresh "1" after a "1" would look like the same keystroke;
        # a 41-key value never looks like a fresh one
        if len(new) > 40:
            self._clear()

    def _clear(self) -> None:
        self.field.unobserve(self._typed, names="value")
        try:
            self.field.value = ""
        finally:
            self.field.observe(self._typed, names="value")
        self._cleared = True


class AskLabeler:
    """Ask the labeler's name once (the OS account's name suggested), then show the widget ``make(name)``
    builds. A name given as a parameter, or remembered for this output folder, skips the question."""

    def __init__(self, out: str | Path, labeler: str | None, make: Callable[[str], Any]) -> None:
        import ipywidgets as w

        self.out, self.make = out, make
        self.widget: Any = None
        self.box = w.VBox()
        name = labeler or remembered_labeler(out)
        if name:
            self._start(name, remembered=not labeler)
            return
        self.name = w.Text(placeholder=f"your name (suggestion: {default_labeler()})", continuous_update=False,
                           description="Your name", layout=w.Layout(width="50%"))  # fmt: skip
        self.name.add_class("rescue-labeler-name")
        self.go = w.Button(description="Start labeling (Enter)", button_style="primary",
                           layout=w.Layout(width="auto"))  # fmt: skip
        self.error = w.HTML()
        self.go.on_click(lambda _: self._submit())
        self.name.observe(lambda _: self._submit(), names="value")
        self.box.children = [
            w.HTML("<b>Who is labeling?</b> Your name goes on every label you give; it is asked once and "
                   "remembered for this audit's output folder."),
            w.HBox([self.name, self.go]), self.error,
        ]  # fmt: skip

    def _submit(self) -> None:
        if self.widget is not None:
            return
        try:
            name = remember_labeler(self.out, self.name.value)
        except (ValueError, OSError) as exc:
            self.error.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return
        self._start(name, remembered=False)

    def _start(self, name: str, remembered: bool) -> None:
        import ipywidgets as w

        self.widget = self.make(name)
        note = (f"Labeling as <b>{html.escape(name)}</b> (remembered for this folder; to label as someone else, set "
                "<code>labeler</code> in the parameters cell)") if remembered else ""  # fmt: skip
        self.box.children = [*([w.HTML(note)] if note else []), self.widget.view]
        _focus_soon(self.widget.keys.field)  # the keys work at once, no click needed

    @property
    def view(self) -> Any:
        return self.box

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)
        _focus_soon(self.widget.keys.field if self.widget is not None else self.name)


def _focus_soon(field: Any, delays_s: tuple[float, ...] = (0.3, 1.0)) -> None:
    """Put the keyboard's focus in ``field`` once the browser has drawn it (a focus request sent before the
    field is on the page is lost, so it is sent again a little later)."""
    import threading

    for delay in delays_s:
        timer = threading.Timer(delay, field.focus)
        timer.daemon = True
        timer.start()


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
        self.strata = w.HTML()
        self.bar = w.IntProgress(min=0, max=max(len(self.sample), 1), bar_style="info",
                                 layout=w.Layout(width="60%"))  # fmt: skip
        self.item_box = w.HTML(layout=w.Layout(border="1px solid #ccc", padding="8px", width="100%"))
        self.guide = w.HTML(self._guide_html())
        self.buttons = []
        for i, label in enumerate(self.classes, start=1):
            b = w.Button(
                description=f"{i} · {label}" if i <= 9 else label,
                tooltip=spec.eval.guide.get(label, label),
                button_style="primary",
            )
            b.on_click(lambda _, label=label: self.give(label))
            self.buttons.append(b)
        self.skip_button = w.Button(description="Skip (s)", icon="forward")
        self.skip_button.on_click(lambda _: self._event("skip"))
        self.flag_button = w.Button(description="Flag (f)", icon="flag", button_style="warning")
        self.flag_button.on_click(lambda _: self._event("flag", advance=False))
        self.undo_button = w.Button(description="Undo (u)", icon="undo")
        self.undo_button.on_click(lambda _: self.undo())
        keys: dict[str, Callable[[], None]] = {
            str(i): (lambda label=label: self.give(label))
            for i, label in enumerate(self.classes[:9], start=1)
        }
        keys.update({"s": lambda: self._event("skip"), "f": lambda: self._event("flag", advance=False),
                     "u": self.undo})  # fmt: skip
        top = min(len(self.classes), 9)
        self.status = w.HTML()
        self.keys = KeyField(keys, f"1–{top} label · s skip · f flag · u undo", self.status)
        self.comment = w.Text(placeholder="comment on this item (Enter saves)", layout=w.Layout(width="60%"))
        self.comment.continuous_update = False
        self.comment.observe(self._comment, names="value")
        self.view = w.VBox([
            w.HBox([self.bar, self.progress]),
            self.strata,
            self.keys.field,
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
        self.strata.value = self._strata_html(mine)
        if remaining.empty:
            self.current = None
            self.item_box.value = "<i>All items done — thank you.</i>"
            return
        row = remaining.iloc[0]
        self.current = {"key": row["key"], "item_hash": row["item_hash"]}
        self.item_box.value = (f"<div style='color:#666;font-size:11px'>{html.escape(str(row['key']))} · {html.escape(str(row['stratum']))}</div>"
                               f"<div style='white-space:pre-wrap'>{html.escape(str(row['text']))}</div>")  # fmt: skip

    def _strata_html(self, mine: pd.DataFrame) -> str:
        labeled = set(mine.loc[mine["label"].notna(), "item"]) if len(mine) else set()
        counts = self.sample.assign(done=self.sample["key"].isin(labeled)).groupby("stratum", sort=True)[
            "done"
        ]
        parts = [f"{html.escape(str(stratum))} {int(done.sum())}/{len(done)}" for stratum, done in counts]
        return "<span style='font-size:12px;color:#555'>by stratum: " + " · ".join(parts) + "</span>"

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
