"""Charts as the pages show them: a PNG whose alt text is the figure's own caption.

A reader who cannot see the chart (a screen reader, an image blocked by a mail client) reads what the figure
says of itself: its title, its axes and its legend, e.g. "Latency of 974 live calls. x axis: milliseconds per
live call. Shown: p50 0.12 ms, p95 0.20 ms, p99 0.31 ms."
"""

from __future__ import annotations

import io
from typing import Any


def caption_of(fig: Any) -> str:
    """The figure's own words: its title(s), each axis' label, a few notes written on it and the legend's entries,
    in reading order."""
    parts: list[str] = []
    if getattr(fig, "_suptitle", None) is not None and fig._suptitle.get_text():
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        if not ax.get_visible() or getattr(ax, "_colorbar", None) is not None:
            continue
        title = " ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t)
        if title:
            parts.append(title)
        for axis, name in ((ax.get_xlabel(), "x axis"), (ax.get_ylabel(), "y axis")):
            if axis:
                parts.append(f"{name}: {axis}")
        notes = [t.get_text() for t in ax.texts if t.get_text()]
        if 0 < len(notes) <= 3:  # a note on the chart ("no call answered"), not a number in every cell
            parts.extend(notes)
        legend = ax.get_legend()
        if legend is not None:
            entries = [t.get_text() for t in legend.get_texts() if t.get_text()]
            if entries:
                parts.append("Shown: " + ", ".join(entries))
    text = ". ".join(p.strip().rstrip(".") for p in parts if p.strip())
    return (text + ".") if text else "Chart"


def captioned(fig: Any, alt: str | None = None) -> Any:
    """``fig`` as an image for ``display()``: the PNG the page shows, its alt text ``alt`` or the figure's own
    caption (:func:`caption_of`). Anything that is not a matplotlib figure is returned as it is."""
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        return fig
    from IPython.display import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    return Image(data=buffer.getvalue(), format="png", metadata={"alt": alt or caption_of(fig)})
