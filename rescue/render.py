"""Render an executed workbook to a self-contained HTML page a manager can read offline.

The page is safe whatever a display function forgot to escape: every Markdown text (cells and
``text/markdown`` outputs) is rendered with raw HTML escaped, links only to http(s), mailto or a place on
the page, and images only from ``data:image/...``; JavaScript outputs are dropped. Tables escape their
values on the way in (:mod:`rescue.tables`).
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from html import escape, unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import nbformat
from jinja2 import pass_context
from mistune.util import striptags
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import TagRemovePreprocessor

from . import __version__

TEMPLATES = Path(__file__).parent / "templates" / "nbconvert"
STYLE = Path(__file__).parent / "templates" / "rescue.css"
REMOVED_TAGS = {"parameters", "injected-parameters", "remove-cell", "interactive-only"}
LINK_SCHEMES = ("http", "https", "mailto")
IMAGE_PREFIXES = ("data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/webp;")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]+")


def page_css() -> str:
    """rescue's one style sheet (``templates/rescue.css``), inlined into every page: the days, the home page
    and the portfolio. It is rescue's own file, never data."""
    return STYLE.read_text(encoding="utf-8")


def _normalized(url: str) -> str:
    # what a browser would see: entities and %-escapes decoded, whitespace and control characters dropped
    text = url
    for _ in range(3):
        decoded = unquote(unescape(text))
        if decoded == text:
            break
        text = decoded
    return _INVISIBLE.sub("", text).lower()


def safe_link(url: str) -> bool:
    """True when ``url`` is an http(s) or mailto link, or a link without a scheme (on the page, relative)."""
    normalized = _normalized(url)
    scheme = _SCHEME.match(normalized)
    if scheme is None:
        return ":" not in normalized.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return scheme.group(1) in LINK_SCHEMES


class SafeRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer with raw HTML escaped and only safe links and inline images."""

    def __init__(self, **kwargs) -> None:
        kwargs.update(escape=True, allow_harmful_protocols=False)
        super().__init__(**kwargs)

    def sanitize_url(self, url: str) -> str:
        return url if safe_link(url) else "#blocked-link"

    def image(self, text: str, url: str, title: str | None = None) -> str:
        url = self._embed_image_or_attachment(url)
        if not _normalized(url).startswith(IMAGE_PREFIXES):  # a page loads nothing from a network
            return escape(text, quote=False)
        attrs = {"src": url, "alt": striptags(text), "title": title}
        return "<img" + self.render_attrs(attrs) + " />"

    def block_mermaidjs(self, code: str) -> str:
        return super().block_code(code, info=None)

    def block_html(self, html: str) -> str:
        return "<p>" + escape(html.strip(), quote=False) + "</p>\n"

    def inline_html(self, html: str) -> str:
        return escape(html, quote=False)


class PageExporter(HTMLExporter):
    """The HTML exporter of the pages: Markdown through :class:`SafeRenderer`."""

    @pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        renderer = SafeRenderer(
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=path,
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)


@functools.cache
def page_exporter() -> PageExporter:
    """The exporter of the pages, made once per process: its templates are compiled on the first page. It
    keeps nothing of a page for the next (each conversion starts from fresh resources)."""
    exporter = PageExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="report",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    remover = TagRemovePreprocessor(remove_cell_tags=REMOVED_TAGS, enabled=True)
    exporter.register_preprocessor(remover, enabled=True)
    return exporter


# one conversion at a time: the exporter is shared, and warm_up_rendering may run on a thread of its own
_CONVERTING = threading.Lock()


def warm_up_rendering() -> None:
    """Compile the page templates now (an empty page, written nowhere): what the first page would otherwise pay,
    about 0.2 s. ``rescue week`` runs it on a thread while the first day runs. A failure here is left to the
    first page, which reports it."""
    with _CONVERTING, contextlib.suppress(Exception):
        page_exporter().from_notebook_node(nbformat.v4.new_notebook())


_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)


def describe_images(nb: Any) -> None:
    """Give every image without alt text one: the section it is in (the last heading before it)."""
    section = nb.metadata.get("title", "")

    def heading_of(text: Any, current: str) -> str:
        headings = _HEADING.findall(text if isinstance(text, str) else "".join(text))
        return headings[-1].replace("*", "").replace("`", "") if headings else current

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            section = heading_of(cell.source, section)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            section = heading_of(data.get("text/markdown", ""), section)
            for kind in ("image/png", "image/jpeg"):
                if kind in data:
                    output.setdefault("metadata", {}).setdefault(kind, {}).setdefault(
                        "alt", f"Chart: {section}"
                    )


def render_html(
    notebook: str | Path,
    html: str | Path,
    title: str | None = None,
    header: str | None = None,
    nav: list[tuple[str, str, bool]] | None = None,
    facts: list[str] | None = None,
) -> Path:
    """Render ``notebook`` to ``html``: code hidden, parameter cells removed, no network needed.

    The page opens with a title block: ``header`` (the project) and ``facts`` (the day, the date, rescue's
    version, the spec's hash); ``nav`` links home and the week's other pages, as (label, relative address,
    whether it is this page). All are escaped by the template.
    """
    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata.pop("widgets", None)  # widget state would pull the widget runtime from a CDN
    nb.metadata["title"] = title or nb.metadata.get("title") or Path(notebook).stem
    page = nb.metadata.setdefault("rescue", {})
    page["footer"] = f"Rendered by rescue {__version__}."
    page["header"] = header or ""
    page["facts"] = [str(fact) for fact in facts or []]
    page["css"] = page_css()
    page["nav"] = [list(link) for link in nav or [] if safe_link(link[1])]
    describe_images(nb)
    with _CONVERTING:
        body, _ = page_exporter().from_notebook_node(nb)
    out = Path(html)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(out)
    return out
