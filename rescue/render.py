"""Render an executed workbook to a self-contained HTML page a manager can read offline."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from . import __version__

TEMPLATES = Path(__file__).parent / "templates" / "nbconvert"
REMOVED_TAGS = {"parameters", "injected-parameters", "remove-cell", "interactive-only"}


def render_html(notebook: str | Path, html: str | Path, title: str | None = None) -> Path:
    """Render ``notebook`` to ``html``: code hidden, parameter cells removed, no network needed."""
    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata.pop("widgets", None)  # widget state would pull the widget runtime from a CDN
    nb.metadata["title"] = title or nb.metadata.get("title") or Path(notebook).stem
    nb.metadata.setdefault("rescue", {})["footer"] = f"Rendered by rescue {__version__}."
    remover = TagRemovePreprocessor(remove_cell_tags=REMOVED_TAGS, enabled=True)
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="report",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(remover, enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    out = Path(html)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(out)
    return out
