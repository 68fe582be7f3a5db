"""Debian's chromium for the browser tests: where it is, how it is started, and what its absence means (a skip
on a developer's machine, a failure in CI, where ./dev test installs it). No browser is ever downloaded."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"  # screenshots a reviewer looks at, and those of failures
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip


def require_chromium() -> None:
    """Skip without Debian's chromium, or fail when the CI environment variable says this is CI."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail("Debian's chromium is not installed (./dev test installs it)")
    pytest.skip("no /usr/bin/chromium")


@contextlib.contextmanager
def launched() -> Iterator[Any]:
    """A playwright browser on Debian's chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
