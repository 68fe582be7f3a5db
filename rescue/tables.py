"""Tables on the pages: the one path every table takes to a page, escaped by construction.

pandas' ``Styler.to_html()`` writes cell values and labels as they are, so a review text holding
``<script>`` would run in the reader's browser. :func:`table` escapes every cell, column label and index
label of a copy of the frame *before* styling it, so no later ``.format()`` call can undo the escaping;
:func:`html_table` is the same table as an IPython ``HTML`` object with left-aligned cells.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler


def escape(value: Any) -> Any:
    """``value`` safe as HTML text: strings (and objects shown by their ``str``) escaped, numbers kept."""
    if value is None or isinstance(value, (bool, numbers.Number, date, datetime, timedelta, pd.Timestamp)):
        return value
    return html.escape(value if isinstance(value, str) else str(value), quote=False)


def _escape_labels(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([level.map(escape) for level in index.levels])
    return index.map(escape)


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column labels and index labels are HTML-escaped."""
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column)):
            out.isetitem(i, column.map(escape).astype(object))
    out.columns = _escape_labels(out.columns)
    out.index = _escape_labels(out.index)
    return out


def table(
    frame: pd.DataFrame,
    formats: Mapping[str, Any] | str | None = None,
    *,
    precision: int | None = None,
    subset: Sequence[str] | None = None,
    uuid: str | None = None,
    colour: Mapping[Any, str] | None = None,
    left: bool = False,
    index: bool = False,
) -> Styler:
    """``frame`` as the page shows it: every value escaped, without its index unless ``index``.

    ``formats``, ``precision`` and ``subset`` go to ``Styler.format`` (number formats); ``uuid`` makes
    the HTML stable; ``colour`` maps a row label to its background; ``left`` left-aligns the cells.
    """
    styler = escape_frame(frame).style
    if formats is not None or precision is not None:
        styler = styler.format(formats, precision=precision, subset=list(subset) if subset else None)
    if not index:
        styler = styler.hide(axis="index")
    if uuid is not None:
        styler = styler.set_uuid(uuid)
    if left:
        styler = styler.set_properties(**{"text-align": "left", "vertical-align": "top"})
    if colour:
        styler = styler.apply(_colour_rows(frame, colour), axis=1)
    return styler


def _colour_rows(frame: pd.DataFrame, colour: Mapping[Any, str]):
    labels = dict(zip(escape_frame(frame).index, frame.index, strict=True))

    def paint(row: pd.Series) -> list[str]:
        return [f"background-color: {colour.get(labels.get(row.name, row.name), '')}"] * len(row)

    return paint


def html_table(frame: pd.DataFrame, colour: Mapping[Any, str] | None = None, uuid: str = "t") -> Any:
    """``frame`` as an IPython HTML table without its index; ``colour`` maps a row number to its background."""
    from IPython.display import HTML

    return HTML(table(frame, uuid=uuid, colour=colour, left=True).to_html())
