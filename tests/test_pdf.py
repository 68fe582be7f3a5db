"""The readout as a PDF: Debian's chromium prints rescue's pages offline; without one, a message says how to get it.

The printing tests drive the real ``/usr/bin/chromium`` (skipped without it, failed in CI) and read the PDF's text
with pypdf. The failure paths use small shell scripts standing in for chromium (``RESCUE_CHROMIUM``).
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from rescue import pdf as pdf_module
from rescue.cli import main
from rescue.pdf import PdfFailed, PdfUnavailable, find_chromium, print_pdf, readout_pdf
from rescue.render import page_css
from tests.conftest import FIXTURES

CHROMIUM = Path("/usr/bin/chromium")
PHRASE = "The zebra crossing closes on Tuesdays"


def _ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Path:
    if not CHROMIUM.exists():
        if _ci():
            pytest.fail("Debian's chromium is not installed (./dev test installs it)")
        pytest.skip("no /usr/bin/chromium")
    monkeypatch.setenv("RESCUE_CHROMIUM", str(CHROMIUM))
    return CHROMIUM


def pdf_text(pdf: Path) -> str:
    """The text of every page: chromium compresses its text streams and writes glyph ids, so pypdf reads them."""
    try:
        from pypdf import PdfReader
    except ImportError:
        if _ci():
            pytest.fail("pypdf is not installed: it belongs in the test extra")
        pytest.skip("pypdf is not installed")
    return "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write_page(path: Path, body: str = f"<h1>Readout</h1><p>{PHRASE}.</p>") -> Path:
    """A self-contained page in rescue's style: its header's nav is hidden in print (``rescue.css``)."""
    path.write_text(
        f"""<!doctype html><html><head><meta charset="utf-8"><title>Test page</title>
<style>{page_css()}</style></head>
<body class="rescue-page"><header class="rescue-header"><nav><a href="index.html">ONLY ON SCREEN</a></nav></header>
{body}</body></html>""",
        encoding="utf-8",
    )
    return path


def fake_chromium(tmp_path: Path, script: str) -> Path:
    """A stand-in for chromium: a shell script (``$@`` are the arguments chromium would get)."""
    path = tmp_path / "fake-chromium"
    path.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# writes a minimal PDF where chromium would, then whatever follows
PRINTS = (
    'for a; do case "$a" in --print-to-pdf=*) printf "%%PDF-1.4 fake" > "${a#--print-to-pdf=}";; esac; done'
)


# printing with the real chromium


def test_a_page_with_rescue_css_prints_its_text_with_the_print_styles(tmp_path: Path, chromium: Path) -> None:
    page = write_page(tmp_path / "page.html")
    pdf = print_pdf(page)
    assert pdf == tmp_path / "page.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert PHRASE in text
    assert "ONLY ON SCREEN" not in text  # the @media print styles hid the nav
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html", "page.pdf"]  # no .tmp left behind


def test_cli_prints_an_existing_page(tmp_path: Path, chromium: Path) -> None:
    (tmp_path / "out").mkdir()
    page = write_page(tmp_path / "out" / "readout.html")
    result = run("render", "--pdf", str(page))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {tmp_path / 'out' / 'readout.pdf'}"
    assert PHRASE in pdf_text(tmp_path / "out" / "readout.pdf")


def _readout_notebook(path: Path) -> Path:
    """The Day 5 readout as its workbook shows it, from the sample project's readout artifact."""
    from rescue.readout.display import decision_badge, decision_markdown, diagnosis_table, plan_table

    readout = json.loads((FIXTURES / "artifacts" / "pharma-feedback" / "readout.json").read_text("utf-8"))

    def shown(data: dict[str, str]) -> nbformat.NotebookNode:
        cell = nbformat.v4.new_code_cell("display(...)")
        cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
        return cell

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# The readout"),
        shown({"text/html": decision_badge(readout).data}),
        shown({"text/markdown": decision_markdown(readout)}),
        nbformat.v4.new_markdown_cell("## Why it stalled"),
        shown({"text/html": diagnosis_table(readout).data}),
        nbformat.v4.new_markdown_cell("## The rebuild plan"),
        shown({"text/html": plan_table(readout).data}),
    ]
    nbformat.write(nb, str(path))
    return path


def test_a_rendered_readout_prints_with_cli_and_for_the_week(tmp_path: Path, chromium: Path) -> None:
    out = tmp_path / "out"
    result = run(
        "render",
        str(_readout_notebook(tmp_path / "r.ipynb")),
        str(out / "readout.html"),
        "--title",
        "Readout",
        "--pdf",
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"wrote {out / 'readout.html'}", f"wrote {out / 'readout.pdf'}"]
    text = " ".join(pdf_text(out / "readout.pdf").split())
    for seen in (
        "NO-GO",
        "Why it stalled",
        "Data only in the demo",
        "The rebuild plan",
        "Rendered by rescue",
    ):
        assert seen in text, seen
    (out / "readout.pdf").unlink()
    assert readout_pdf(out) == out / "readout.pdf" and (out / "readout.pdf").read_bytes().startswith(b"%PDF-")


# chromium absent, failing or hanging


def test_without_chromium_the_error_says_how_to_get_one(tmp_path: Path, monkeypatch) -> None:
    page = write_page(tmp_path / "page.html")
    monkeypatch.delenv("RESCUE_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(pdf_module, "DEBIAN_CHROMIUM", tmp_path / "no-chromium")
    assert find_chromium() is None
    with pytest.raises(PdfUnavailable, match=r"apt-get install chromium.*RESCUE_CHROMIUM"):
        print_pdf(page)
    assert readout_pdf(tmp_path) is None  # no chromium: the week goes on without a PDF
    result = run("render", "--pdf", str(page))
    assert result.exit_code == 2
    assert "error: cannot print a PDF: no chromium found" in result.output
    assert "apt-get install chromium" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "page.pdf").exists()


def test_rescue_chromium_naming_nothing_is_unavailable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RESCUE_CHROMIUM", str(tmp_path / "missing" / "chrome"))
    assert find_chromium() is None  # RESCUE_CHROMIUM chosen: nothing else is tried
    with pytest.raises(PdfUnavailable, match="RESCUE_CHROMIUM is .*missing/chrome.*apt-get install chromium"):
        print_pdf(write_page(tmp_path / "page.html"))
    # rendering with --pdf: the page is written, then the PDF is refused with exit 2
    notebook = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(PHRASE)]), str(notebook))
    result = run("render", str(notebook), str(tmp_path / "n.html"), "--pdf")
    assert result.exit_code == 2 and "apt-get install chromium" in result.output
    assert (tmp_path / "n.html").exists() and not (tmp_path / "n.pdf").exists()


def test_find_chromium_prefers_rescue_chromium_then_path(tmp_path: Path, monkeypatch) -> None:
    chosen = fake_chromium(tmp_path, "exit 0")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    on_path = fake_chromium(bin_dir, "exit 0").rename(bin_dir / "chromium-browser")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("RESCUE_CHROMIUM", str(chosen))
    assert find_chromium() == chosen
    monkeypatch.delenv("RESCUE_CHROMIUM")
    assert find_chromium() == on_path
    chosen.chmod(0o644)
    monkeypatch.setenv("RESCUE_CHROMIUM", str(chosen))
    assert find_chromium() is None  # not executable


def test_chromium_is_run_offline_with_a_private_profile(tmp_path: Path, monkeypatch) -> None:
    args, seen_env = tmp_path / "args.txt", tmp_path / "env.txt"
    script = f'printf "%s\\n" "$@" > {args}; env > {seen_env}; {PRINTS}'
    monkeypatch.setenv("RESCUE_CHROMIUM", str(fake_chromium(tmp_path, script)))
    monkeypatch.setenv("RESCUE_TEST_TOKEN", "not-for-chromium")
    page = write_page(tmp_path / "page.html")
    assert print_pdf(page, tmp_path / "pdfs" / "day5.pdf") == tmp_path / "pdfs" / "day5.pdf"
    assert (tmp_path / "pdfs" / "day5.pdf").read_bytes() == b"%PDF-1.4 fake"
    got = args.read_text().splitlines()
    for flag in ("--headless", "--no-pdf-header-footer", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"):  # fmt: skip
        assert flag in got, flag
    assert ("--no-sandbox" in got) == (os.geteuid() == 0)
    assert got[-1] == page.resolve().as_uri() and got[-1].startswith("file:///")
    profile = Path(next(a for a in got if a.startswith("--user-data-dir=")).split("=", 1)[1])
    assert not profile.exists() and not profile.parent.exists()  # the private profile is deleted afterwards
    assert "RESCUE_TEST_TOKEN" not in seen_env.read_text()  # chromium is not given rescue's environment
    assert not list((tmp_path / "pdfs").glob("*.tmp"))


def test_a_hanging_chromium_is_killed_at_the_timeout(tmp_path: Path, monkeypatch) -> None:
    pid_file = tmp_path / "sleep.pid"
    # the sleep is a child of the script, as chromium's helpers are children of chromium: both are killed
    monkeypatch.setenv(
        "RESCUE_CHROMIUM", str(fake_chromium(tmp_path, f"sleep 30 & echo $! > {pid_file}; wait"))
    )
    page = write_page(tmp_path / "readout.html")
    started = time.monotonic()
    with pytest.raises(PdfFailed, match=r"cannot print .*readout\.html to PDF: .* did not finish within 1 s"):
        print_pdf(page, timeout_s=1)
    assert time.monotonic() - started < 5
    assert not (tmp_path / "readout.pdf").exists() and not list(tmp_path.glob("*.tmp"))
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pid), "chromium's child outlived the timeout"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie is dead, waiting for its reaper


def test_a_failing_chromium_names_the_page_and_its_last_words(tmp_path: Path, monkeypatch) -> None:
    script = 'echo "token: $RESCUE_TEST_TOKEN" >&2; echo "FATAL: cannot open the page" >&2; exit 3'
    monkeypatch.setenv("RESCUE_CHROMIUM", str(fake_chromium(tmp_path, script)))
    monkeypatch.setenv("RESCUE_TEST_TOKEN", "sk-not-shown")
    page = write_page(tmp_path / "readout.html")
    (tmp_path / "readout.pdf").write_bytes(b"%PDF- the previous print")
    with pytest.raises(PdfFailed) as failed:
        print_pdf(page)
    message = str(failed.value)
    assert str(page) in message and "exited with code 3" in message
    assert message.endswith("chromium said:\ntoken: \nFATAL: cannot open the page")
    assert "sk-not-shown" not in message
    assert (tmp_path / "readout.pdf").read_bytes() == b"%PDF- the previous print"  # untouched
    result = run("render", "--pdf", str(page))
    assert result.exit_code == 2 and "FATAL: cannot open the page" in result.output


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("exit 0", "exited without writing a PDF"),
        (PRINTS.replace("%%PDF-1.4 fake", "<html>"), "is not a PDF"),
    ],
)
def test_no_pdf_written_is_a_failure(tmp_path: Path, monkeypatch, script: str, problem: str) -> None:
    monkeypatch.setenv("RESCUE_CHROMIUM", str(fake_chromium(tmp_path, script)))
    with pytest.raises(PdfFailed, match=problem):
        print_pdf(write_page(tmp_path / "page.html"))
    assert not (tmp_path / "page.pdf").exists() and not list(tmp_path.glob("*.tmp"))


def test_a_missing_page_and_wrong_cli_forms(tmp_path: Path) -> None:
    with pytest.raises(PdfFailed, match="no such page"):
        print_pdf(tmp_path / "none.html")
    assert readout_pdf(tmp_path) is None  # no readout page yet (a week run without Day 5)
    notebook = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(notebook))
    alone = run("render", str(notebook))
    assert alone.exit_code == 2 and "give HTML" in alone.output
    not_a_page = run("render", "--pdf", str(notebook))
    assert not_a_page.exit_code == 2 and "--pdf alone prints an HTML page" in not_a_page.output
    page = write_page(tmp_path / "p.html")
    titled = run("render", "--pdf", str(page), "--title", "T")
    assert titled.exit_code == 2 and "--title is for rendering" in titled.output
