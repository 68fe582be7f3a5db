"""Rendered pages: self-contained (nothing fetched from a network), no code, no parameters."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from rescue.render import render_html


def _notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('project = "SECRET_PARAMETER_PATH"')
    params.metadata["tags"] = ["parameters"]
    interactive = nbformat.v4.new_markdown_cell("ONLY IN JUPYTERLAB")
    interactive.metadata["tags"] = ["interactive-only"]
    code = nbformat.v4.new_code_cell("print('hello ' + 'reader')")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello reader\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title $x^2$"), params, interactive, code]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nbformat.write(nb, str(path))
    return path


def test_page_is_self_contained_and_hides_code(tmp_path: Path) -> None:
    html = render_html(_notebook(tmp_path / "n.ipynb"), tmp_path / "n.html", title="Day 0").read_text()
    loaded = re.findall(r"<(?:script|link|img|iframe)[^>]+(?:src|href)=[\"']?(?:https?:)?//", html)
    assert loaded == [], loaded
    for cdn in ("cdnjs", "unpkg", "jsdelivr", "googleapis"):
        assert cdn not in html, cdn
    assert "hello reader" in html
    assert "print(" not in html
    assert "SECRET_PARAMETER_PATH" not in html
    assert "ONLY IN JUPYTERLAB" not in html
    assert "<title>Day 0</title>" in html
