"""A rendered page as a PDF, printed by Debian's chromium, headless and offline.

rescue never downloads a browser. It uses the first of: ``RESCUE_CHROMIUM`` (a Chromium or Chrome binary; when
it is set, nothing else is tried), ``chromium`` or ``chromium-browser`` on PATH, ``/usr/bin/chromium``. With none
of them, printing is :class:`PdfUnavailable`, whose message says how to get one; :func:`readout_pdf` (for
``rescue week``) then prints nothing and says so by returning None.

How a page is printed:

- from its ``file://`` URL, by a chromium with a private profile (``--user-data-dir``) and a private HOME, both
  deleted afterwards: nothing of the user's browser is read, nothing is left behind;
- offline: background networking, component updates and sync are off and no host name resolves (the pages are
  self-contained and run no JavaScript: there is nothing to fetch; chromium's own switch for JavaScript,
  ``--blink-settings=scriptEnabled=false``, makes headless printing write nothing, so it is not used);
- with the page's own ``@media print`` styles (``rescue.css``), without chromium's header and footer;
- in a process group of its own, killed whole at ``timeout_s`` (chromium's helper processes would outlive it);
- into ``<name>.pdf.tmp``, checked to start with ``%PDF``, then moved into place: no reader sees half a file.

A failure is :class:`PdfFailed`, naming the page and the last lines chromium wrote to stderr. chromium is not
given rescue's environment (only PATH and the locale), so neither it nor the message can show a secret.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .errors import RescueError

CHROMIUM_ENV = "RESCUE_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
PASSED_ENV = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-pdf-header-footer",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--no-default-browser-check",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
STDERR_LINES = 12
# chromium's chatter on a machine without a desktop session: never the reason a print failed
_NOISE = ("dbus/", "unexpected operator", "Fontconfig")


class PdfUnavailable(RescueError):
    """No chromium to print with: the message says how to get one."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(
            f"cannot print a PDF: {reason}. Install Debian's chromium (`apt-get install chromium`) "
            f"or set {CHROMIUM_ENV} to a Chromium or Chrome binary; the HTML page is there either way"
        )


class PdfFailed(RescueError):
    """chromium did not print ``page``: it failed, timed out or wrote no PDF. ``stderr`` is its last lines."""

    def __init__(self, page: str | Path, problem: str, stderr: str = ""):
        self.page = str(page)
        self.problem = problem
        self.stderr = stderr
        tail = f"\nchromium said:\n{stderr}" if stderr else ""
        super().__init__(f"cannot print {self.page} to PDF: {problem}{tail}")


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_chromium() -> Path | None:
    """The chromium to print with, or None: ``$RESCUE_CHROMIUM`` when set (and then only it), else chromium or
    chromium-browser on PATH, else ``/usr/bin/chromium``."""
    chosen = os.environ.get(CHROMIUM_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        return path if _runnable(path) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return DEBIAN_CHROMIUM if _runnable(DEBIAN_CHROMIUM) else None


def _unavailable() -> PdfUnavailable:
    chosen = os.environ.get(CHROMIUM_ENV)
    if chosen:
        return PdfUnavailable(f"{CHROMIUM_ENV} is {chosen!r}, which is not an executable file")
    return PdfUnavailable(f"no chromium found ({', '.join(CHROMIUM_NAMES)} on PATH, {DEBIAN_CHROMIUM})")


def _stderr_tail(log: Path) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line for line in text.splitlines() if line.strip() and not any(n in line for n in _NOISE)]
    return "\n".join(lines[-STDERR_LINES:])


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def print_pdf(html: str | Path, pdf: str | Path | None = None, timeout_s: float = 60) -> Path:
    """Print the page ``html`` to ``pdf`` (default: beside it, same name, ``.pdf``) with a headless chromium;
    at most ``timeout_s`` seconds. Raises :class:`PdfUnavailable` without chromium, :class:`PdfFailed` when it
    fails, times out or writes no PDF."""
    page = Path(html).resolve()
    out = Path(pdf) if pdf is not None else page.with_suffix(".pdf")
    if not page.is_file():
        raise PdfFailed(page, "no such page")
    chromium = find_chromium()
    if chromium is None:
        raise _unavailable()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="rescue-chromium-", ignore_cleanup_errors=True) as private:
        env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
        env["HOME"] = private
        sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []  # chromium refuses to run its sandbox as root
        command = [
            str(chromium),
            *CHROMIUM_FLAGS,
            *sandbox,
            f"--user-data-dir={Path(private) / 'profile'}",
            f"--print-to-pdf={tmp.resolve()}",
            page.as_uri(),
        ]
        log = Path(private) / "stderr.log"
        started = time.monotonic()
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
                cwd=private,
                start_new_session=True,  # its own process group: killed whole, helpers included
            )
            try:
                code = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                proc.wait()
                tmp.unlink(missing_ok=True)
                raise PdfFailed(
                    page, f"chromium ({chromium}) did not finish within {timeout_s:g} s", _stderr_tail(log)
                ) from None
            finally:
                _kill_group(proc)  # a helper left behind by a chromium that exited
        problem = _check_pdf(tmp, code, chromium, time.monotonic() - started)
        if problem:
            tmp.unlink(missing_ok=True)
            raise PdfFailed(page, problem, _stderr_tail(log))
    tmp.replace(out)
    return out


def _check_pdf(tmp: Path, code: int, chromium: Path, elapsed_s: float) -> str | None:
    if code != 0:
        return f"chromium ({chromium}) exited with code {code} after {elapsed_s:.1f} s"
    try:
        with open(tmp, "rb") as f:
            head = f.read(5)
    except FileNotFoundError:
        return f"chromium ({chromium}) exited without writing a PDF"
    if head != b"%PDF-":
        return f"chromium ({chromium}) wrote a file that is not a PDF (it starts with {head!r})"
    return None


def readout_pdf(out: str | Path, timeout_s: float = 60) -> Path | None:
    """Print ``out/readout.html`` to ``out/readout.pdf`` when there is a chromium; None, without an error, when
    there is none (or no readout page yet). A chromium that fails still raises :class:`PdfFailed`."""
    page = Path(out) / "readout.html"
    if not page.is_file() or find_chromium() is None:
        return None
    return print_pdf(page, page.with_suffix(".pdf"), timeout_s)
