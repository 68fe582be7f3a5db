"""Tables on the pages: a DataFrame as an HTML table with left-aligned cells and optional row colours."""

from __future__ import annotations

from typing import Any

import pandas as pd


def html_table(frame: pd.DataFrame, colour: dict[int, str] | None = None, uuid: str = "t") -> Any:
    """``frame`` as an IPython HTML table without its index; ``colour`` maps a row number to its background."""
    from IPython.display import HTML

    styler = (
        frame.style.hide(axis="index")
        .set_uuid(uuid)
        .set_properties(**{"text-align": "left", "vertical-align": "top"})
    )
    if colour:
        styler = styler.apply(
            lambda row: [f"background-color: {colour.get(row.name, '')}"] * len(row), axis=1
        )
    return HTML(styler.to_html())
