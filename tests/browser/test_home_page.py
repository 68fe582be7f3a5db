"""The audit's home page in Debian's chromium: every link leads somewhere, every page says what it is.

The week runs once on the sample project; chromium (driven by playwright, no browser downloaded) opens
``index.html`` offline and follows every link on it, and every link of every page it reaches. Screenshots of
the home page and of the readout's first screen are kept in ``test-artifacts/`` for a reviewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from rescue import __version__
from rescue.week import DAYS, run_week
from tests.browser.chromium import ARTIFACTS, launched
from tests.conftest import copy_sample


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("home")
    out = base / "out"
    run_week(copy_sample(base), out, progress=False)
    return out


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with launched() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        context.route("**/*", lambda route: route.abort() if not route.request.url.startswith(("file:", "data:"))
                      else route.continue_())  # fmt: skip  # offline: nothing leaves the machine
        yield context.new_page()


def _local(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


def _follow(page: Any, url: str) -> str:
    """Open ``url`` as a click would; a file chromium does not show (a log, a PDF) downloads instead."""
    try:
        response = page.goto(url)
    except Exception as exc:  # playwright: "Download is starting"
        if "Download is starting" not in str(exc):
            raise
        return "download"
    assert response is None or response.ok, url
    return "shown"


@pytest.mark.slow
def test_the_home_page_links_every_day_and_every_page_says_what_it_is(week: Path, page: Any) -> None:
    home = (week / "index.html").as_uri()
    page.goto(home)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"))
    assert page.locator(".rescue-badge").inner_text().strip() == "NO-GO"
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    targets = {link.split("#")[0] for link in links}
    # each day's page and artifact, the PDF, the audit log: all linked, all there
    expected = {f"{d.artifact}.{ext}" for d in DAYS for ext in ("html", "json")} | {
        "readout.pdf",
        "audit-log.jsonl",
    }
    assert expected <= {_local(t).name for t in targets}
    seen: set[str] = set()
    queue = sorted(targets)
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        assert url.startswith("file://"), url  # the pages link only to one another
        assert _local(url).is_file(), f"a link leads nowhere: {url}"
        if _follow(page, url) == "shown" and url.endswith(".html"):
            header = page.locator(".rescue-header")
            text = header.inner_text()
            assert "pharma-feedback-triage" in text and f"rescue {__version__}" in text, url
            assert re.search(r"spec sha256 [0-9a-f]{12}", text) and re.search(
                r"audit of \d{4}-\d{2}-\d{2}", text
            )
            assert header.locator("a", has_text="Home").count() == 1, url
            page_links = page.eval_on_selector_all(
                "header a[href]", "els => els.map(e => e.href.split('#')[0])"
            )
            queue += [u for u in page_links if u not in seen]
    assert {_local(u).name for u in seen} >= {f"{d.artifact}.html" for d in DAYS} | {"index.html"}


@pytest.mark.slow
def test_the_readouts_first_screen(week: Path, page: Any) -> None:
    """What a manager sees first: the project, the decision as a badge, the blockers; kept as a screenshot."""
    page.goto((week / "readout.html").as_uri())
    badge = page.locator(".rescue-badge")
    assert badge.inner_text().strip() == "NO-GO" and badge.is_visible()
    box = badge.bounding_box()
    assert box is not None and box["y"] + box["height"] < 800  # on the first screen, without scrolling
    heading_px = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('h2')).fontSize)")
    assert float(badge.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) > heading_px
    page.screenshot(path=str(ARTIFACTS / "readout-first-screen.png"))
    page.emulate_media(media="print")  # grey print: the badge keeps its words and its border
    assert badge.evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"
    page.emulate_media(media="screen")
