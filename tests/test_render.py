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


def test_markdown_and_tables_are_shown_not_run(tmp_path: Path) -> None:
    import pandas as pd

    from rescue.tables import html_table, table

    evil = "<script>window.__pwned=1</script><img src=x onerror=alert(1)>"
    frame = pd.DataFrame({"text": [evil, "</td></tr><b>x</b>"], evil: [1.5, 2.0]})
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("shown")
    markdown = (
        f"MARK {evil}\n\n<div onclick=x>block</div>\n\n[j](javascript:alert(1)) [k](JaVa&#x09;script:alert(1)) "
        "<javascript:alert(2)> [ok](https://example.com/a) [m](mailto:a@example.com) [here](#top) "
        "![remote](https://example.com/x.png) ![inline](data:image/png;base64,iVBORw0KGgo=)"
    )
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": markdown, "text/plain": "m"}),
        nbformat.v4.new_output("display_data", data={"text/html": table(frame).to_html()}),
        nbformat.v4.new_output("display_data", data={"text/html": html_table(frame).data}),
        nbformat.v4.new_output("display_data", data={"application/javascript": "window.__pwned=2"}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Title {evil}"), cell]
    nbformat.write(nb, str(tmp_path / "n.ipynb"))
    html = render_html(tmp_path / "n.ipynb", tmp_path / "n.html").read_text()
    main = html[html.index("<main") :]
    assert "<script" not in main and "<div onclick" not in main and "<b>x</b>" not in main
    assert not re.findall(r"<[a-z]+[^>]*\son[a-z]+=", main), "an event handler attribute"
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in main  # shown as text
    hrefs = re.findall(r'href="([^"]*)"', main)
    assert hrefs and all(h.startswith(("https://", "mailto:", "#")) for h in hrefs), hrefs
    assert "https://example.com/a" in hrefs and "mailto:a@example.com" in hrefs and "#top" in hrefs
    assert re.findall(r'<img[^>]*src="([^"]*)"', main) == ["data:image/png;base64,iVBORw0KGgo="]
    assert "window.__pwned=2" not in main  # JavaScript outputs are dropped


def test_a_page_says_what_it_is_links_the_week_and_describes_its_charts(tmp_path: Path) -> None:
    import base64

    import nbformat

    png = base64.b64encode(b"\\x89PNG fake").decode()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Latency"),
        nbformat.v4.new_code_cell(
            "x", outputs=[nbformat.v4.new_output("display_data", data={"image/png": png})]
        ),
    ]
    nbformat.write(nb, tmp_path / "n.ipynb")
    nav = [
        ("Day 1 · Gap", "gap.html", False),
        ("Day 4 · Eval", "eval_position.html", True),
        ("x", "javascript:1", False),
    ]
    html = render_html(
        tmp_path / "n.ipynb", tmp_path / "n.html", "Day 4", "proj <b> — audit of 2026-12-02", nav
    ).read_text()
    assert "proj &lt;b&gt; — audit of 2026-12-02" in html
    assert '<a href="gap.html">Day 1 · Gap</a>' in html
    assert '<a aria-current="page" href="eval_position.html">Day 4 · Eval</a>' in html  # attributes sorted
    assert "javascript:" not in html
    assert 'alt="Chart: Latency"' in html and "No description has been provided" not in html


def test_pages_rendered_one_after_another_are_each_as_rendered_alone(tmp_path: Path) -> None:
    """The exporter is made once per process: a page keeps nothing of the one rendered before it."""
    from rescue.render import page_exporter

    first = _notebook(tmp_path / "first.ipynb")
    other = nbformat.v4.new_notebook()
    other.cells = [nbformat.v4.new_markdown_cell("# Other\n\n![x](data:image/png;base64,iVBORw0KGgo=)")]
    other.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    nbformat.write(other, str(tmp_path / "other.ipynb"))
    page_exporter.cache_clear()
    alone = render_html(first, tmp_path / "alone.html", title="Day 0").read_text()
    render_html(tmp_path / "other.ipynb", tmp_path / "other.html", title="Other")
    again = render_html(first, tmp_path / "again.html", title="Day 0").read_text()
    assert page_exporter() is page_exporter()
    assert again == alone


def test_warming_up_the_renderer_writes_nothing_and_changes_no_page(tmp_path: Path, monkeypatch) -> None:
    """``rescue week`` compiles the templates while the first kernel starts: the pages are the same after it."""
    from rescue.render import page_exporter, warm_up_rendering

    first = _notebook(tmp_path / "first.ipynb")
    page_exporter.cache_clear()
    cold = render_html(first, tmp_path / "cold.html", title="Day 0").read_text()
    page_exporter.cache_clear()
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.iterdir())
    warm_up_rendering()
    assert sorted(tmp_path.iterdir()) == before
    assert render_html(first, tmp_path / "warm.html", title="Day 0").read_text() == cold
