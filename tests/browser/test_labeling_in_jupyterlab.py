"""A real JupyterLab in a real browser: run the Day 3 workbook, label with the keyboard alone, restart, nothing lost.

JupyterLab runs on 127.0.0.1 from this environment; Debian's chromium is driven by Python playwright
(``executable_path=/usr/bin/chromium``; no browser is downloaded). Screenshots of a failure are kept in
``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import ARTIFACTS, launched, require_chromium
from tests.conftest import REPO, copy_rag_sample


@pytest.fixture
def lab(tmp_path: Path):
    require_chromium()
    root = tmp_path / "root"
    shutil.copytree(REPO / "workbooks", root / "workbooks")
    shutil.copytree(REPO / "sample_data" / "pharma-feedback", root / "sample_data" / "pharma-feedback")
    copy_rag_sample(root / "sample_data")  # its stub on a free port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    log = open(tmp_path / "jupyterlab.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.news_url=",
         "--ServerApp.port_retries=0", "--ServerApp.open_browser=False", "--allow-root",
         "--LabApp.extension_manager=readonly"],
        stdout=log, stderr=subprocess.STDOUT, cwd=root,
        # a private settings/workspace/runtime state: the test sees the same JupyterLab on every machine
        env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
             "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.terminate()
        pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text()[-2000:])
    yield {"base": base, "token": token, "root": root}
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _label_events(root: Path, project: str = "pharma-feedback") -> list[tuple[str, str, str, str]]:
    ledger = root / "out" / "jupyter" / project / "ledger.sqlite"
    if not ledger.exists():
        return []
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as con:
        return con.execute(
            "SELECT item, action, coalesce(label, ''), labeler FROM label_events ORDER BY id"
        ).fetchall()


def _restart_kernel(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Restart Kernel(…|\.\.\.)$")).click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)


def _open(page, lab, notebook: str) -> None:
    page.goto(f"{lab['base']}/lab/tree/workbooks/{notebook}?token={lab['token']}")
    page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
    _accept_kernel_dialog(page)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)


def _accept_kernel_dialog(page) -> None:
    """A fresh JupyterLab may ask which kernel to start: accept the notebook's own (Python 3)."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    try:
        dialog.wait_for(timeout=8_000)
    except Exception:  # no dialog: the kernel started on its own
        return
    dialog.locator(".jp-mod-accept").click()


def _run_all(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


@contextlib.contextmanager
def _page(request) -> Iterator[Any]:
    """A page in Debian's chromium; on failure a full-page screenshot lands in test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    with launched() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            yield page
        except Exception:
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
            raise


def _type_name(page, name: str) -> None:
    """The widget asks the labeler's name once; it has the keyboard's focus, so typing is enough."""
    page.get_by_text("Who is labeling?").first.wait_for(timeout=120_000)
    field = page.locator(".rescue-labeler-name input")
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('.rescue-labeler-name')",
                           timeout=15_000)  # fmt: skip
    assert field.evaluate("el => el === document.activeElement")
    page.keyboard.type(name)
    page.keyboard.press("Enter")


def _press(page, key: str, progress: Any) -> None:
    before = progress.inner_text()
    page.keyboard.press(key)
    page.wait_for_function("([el, text]) => el.innerText !== text", arg=[progress.element_handle(), before],
                           timeout=15_000)  # fmt: skip


@pytest.mark.slow
def test_label_with_the_keyboard_alone_see_a_failed_save_and_survive_a_restart(lab, request) -> None:
    with _page(request) as page:
        _open(page, lab, "day3_eval_set.ipynb")
        _run_all(page)
        _type_name(page, "Ana Lima")
        keys = page.locator(".rescue-keys input")
        keys.wait_for(timeout=30_000)
        page.wait_for_function("() => document.activeElement && document.activeElement.closest('.rescue-keys')",
                               timeout=15_000)  # fmt: skip
        progress = page.locator(".widget-html-content", has_text="labeled by").first
        for key in ("1", "1", "3", "2", "1"):  # five items, no mouse
            _press(page, key, progress)
        page.get_by_text("5 of 300 labeled by Ana Lima").first.wait_for(timeout=15_000)
        events = _label_events(lab["root"])
        assert [(e[1], e[2], e[3]) for e in events] == [("label", lab_, "Ana Lima") for lab_ in
                                                        ("positive", "positive", "negative", "neutral", "positive")]  # fmt: skip
        assert len({e[0] for e in events}) == 5  # five different items
        page.screenshot(path=str(ARTIFACTS / "labeling-widget.png"))

        # another process holds the ledger: the save fails, and the widget says so (not only the log console)
        ledger = lab["root"] / "out" / "jupyter" / "pharma-feedback" / "ledger.sqlite"
        lock = sqlite3.connect(str(ledger), timeout=1, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            page.keyboard.press("1")
            page.get_by_text("Not saved").first.wait_for(timeout=30_000)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert len(_label_events(lab["root"])) == 5
        page.screenshot(path=str(ARTIFACTS / "labeling-widget-failed-save.png"))

        # restart the kernel: the labels are on disk, the name is remembered, the widget resumes after them
        _restart_kernel(page)
        _run_all(page)
        page.get_by_text("5 of 300 labeled by Ana Lima").first.wait_for(timeout=120_000)
        assert page.get_by_text("Who is labeling?").count() == 0


@pytest.mark.slow
def test_grade_answers_on_the_rubric_in_jupyterlab(lab, request) -> None:
    """The RAG sample's Day 3: the PoC answers through its local stub, a person grades two answers on both
    criteria by clicking, the kernel restarts, the grades are in the ledger and grading resumes after them."""
    import nbformat

    path = lab["root"] / "workbooks" / "day3_eval_set.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source = params.source.replace("pharma-feedback", "drug-answers")
    nbformat.write(nb, str(path))
    with _page(request) as page:
        _open(page, lab, "day3_eval_set.ipynb")
        _run_all(page)
        _type_name(page, "Ben Okafor")
        progress = page.locator(".widget-html-content", has_text="answers graded by").first
        progress.wait_for(timeout=120_000)
        page.get_by_text("Retrieved context").first.wait_for()
        for n in (1, 2):
            page.get_by_role("button", name="pass").nth(0).click()  # answers_question
            page.get_by_role("button", name="fail").nth(1).click()  # grounded
            page.get_by_role("button", name="pass").nth(2).click()  # faithful
            page.wait_for_function(
                f"() => document.body.innerText.includes('{n} of 60 answers graded')", timeout=15_000
            )
        events = _label_events(lab["root"], "drug-answers")
        assert [e[1:3] for e in events] == [("label", "pass"), ("label", "fail"), ("label", "pass")] * 2
        assert len({e[0] for e in events}) == 2  # two answers
        _restart_kernel(page)
        _run_all(page)
        page.get_by_text("2 of 60 answers graded by").first.wait_for(timeout=120_000)
        assert len(_label_events(lab["root"], "drug-answers")) == 6
