"""A chart's alt text is the figure's own caption: its title, axes and legend."""

from __future__ import annotations

import matplotlib.pyplot as plt
from IPython.core.formatters import DisplayFormatter

from rescue.charts import caption_of, captioned


def test_the_caption_is_what_the_figure_says_of_itself() -> None:
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4], label="p95 180 ms")
    ax.axvline(1.5, label="target p95 2,000 ms")
    ax.set_title("Latency of 974 live calls", loc="left")
    ax.set_xlabel("milliseconds per live call")
    ax.legend()
    image = captioned(fig)
    data, metadata = DisplayFormatter().format(image)
    alt = "Latency of 974 live calls. x axis: milliseconds per live call. Shown: p95 180 ms, target p95 2,000 ms."
    assert metadata == {"image/png": {"alt": alt}} and data["image/png"]
    assert caption_of(plt.figure()) == "Chart"  # a figure that says nothing
    assert captioned("not a figure") == "not a figure"  # tables and text pass through
    plt.close("all")


def test_a_heatmaps_colour_bar_is_not_read_as_a_chart_of_its_own() -> None:
    fig, ax = plt.subplots()
    mesh = ax.imshow([[0, 1], [1, 0]])
    fig.colorbar(mesh, label="share of rows")
    ax.set_title("Issues per column")
    assert caption_of(fig) == "Issues per column."
    plt.close("all")
