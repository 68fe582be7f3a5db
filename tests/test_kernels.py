"""The week's kernels, started ahead: warmed with their workbook's imports, nothing else left behind."""

from __future__ import annotations

import queue
import signal
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync

from rescue.kernels import EXIT_S, Kernels, LocalKernelManager, ReadyClient, WarmKernel, workbook_imports
from rescue.week import workbooks_dir

DAY1 = workbooks_dir() / "day1_production_gap.ipynb"


def test_workbook_imports_lists_the_modules_in_order_and_skips_magics(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%pip install nothing\nimport os"),
            nbformat.v4.new_code_cell("import json\nfrom rescue import gap, tables\nfrom . import x\nx = 1"),
            nbformat.v4.new_markdown_cell("import sys"),
        ]
    )
    path = tmp_path / "wb.ipynb"
    nbformat.write(nb, str(path))
    assert workbook_imports(path) == ["json", "rescue", "rescue.gap", "rescue.tables"]


def _run(manager, code: str) -> dict:
    client = manager.client()
    client.start_channels()
    run_sync(client.wait_for_ready)(timeout=60)
    reply = run_sync(client.execute_interactive)(code, user_expressions={"r": "result"}, timeout=60)
    return reply["content"]["user_expressions"]["r"]["data"]["text/plain"]


def test_a_warm_kernel_has_its_imports_and_no_name_of_them_and_is_stopped() -> None:
    kernel = WarmKernel(DAY1, workbooks_dir())
    try:
        manager = kernel.ready()
        assert manager is not None
        result = _run(
            manager,
            "import sys\nresult = ('rescue.gap' in sys.modules, 'gap' in dir(), 'Markdown' in dir(), "
            "any('warm' in n for n in dir()), get_ipython().execution_count)",
        )
        # the workbook's modules are loaded, no name is bound, and the warm-up took no execution count: this is
        # the first cell (the count read after it ran is 2)
        assert result == "(True, False, False, False, 2)"
    finally:
        kernel.retire()
        kernel.close(wait_s=5)
    assert not kernel.manager.has_kernel or not kernel.manager.provisioner


def _stopped(kernel: WarmKernel) -> bool:
    return kernel._warm is None and (
        kernel.manager.provisioner is None or kernel.manager.provisioner.process is None
    )


def _workbook(folder: Path, name: str) -> Path:
    path = folder / name
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import json")]), str(path))
    return path


def test_kernels_ahead_keep_the_ones_still_wanted_and_stop_everything_on_leaving(tmp_path: Path) -> None:
    a, b, c = (_workbook(tmp_path, f"{n}.ipynb") for n in "abc")
    with Kernels(tmp_path) as kernels:
        kernels.ahead(a, b)
        first, second = kernels._ahead
        assert kernels.take(a) is first  # the one started ahead for it
        kernels.ahead(b, c)
        assert kernels._ahead[0] is second and [k.workbook for k in kernels._ahead] == [b, c]
        third = kernels._ahead[1]
        assert first.ready() is not None
        kernels.done(first)
        kernels.ahead(c)  # b is no longer next: its kernel is stopped, c's is started anew
        assert _stopped(second) and _stopped(third) and [k.workbook for k in kernels._ahead] == [c]
        fourth = kernels._ahead[0]
        other = kernels.take(a)  # not the one started ahead: that one is stopped
        assert other is not fourth and _stopped(fourth) and not kernels._ahead
        kernels.done(other)
    assert [_stopped(k) for k in (first, second, third, fourth, other)] == [True] * 5


class _Channel:
    """A channel that hands out the given messages, then is empty."""

    def __init__(self, *messages: dict) -> None:
        self.messages = list(messages)

    async def get_msg(self, timeout: float | None = None) -> dict:
        if not self.messages:
            raise queue.Empty
        return self.messages.pop(0)


def _msg(kind: str, parent: str, **content: str) -> dict:
    return {"msg_type": kind, "parent_header": {"msg_id": parent}, "content": content, "header": {}}


def _client(shell: _Channel, iopub: _Channel) -> ReadyClient:
    client = ReadyClient()
    client._shell_channel, client._iopub_channel = shell, iopub
    client._handle_kernel_info_reply = lambda reply: None
    return client


@pytest.mark.parametrize(
    ("iopub", "ready"),
    [
        # the idle of the answered request, after another request's messages: ready
        (
            [
                _msg("status", "old", execution_state="idle"),
                _msg("status", "a", execution_state="busy"),
                _msg("status", "a", execution_state="idle"),
            ],
            True,
        ),
        ([_msg("status", "a", execution_state="busy")], False),  # busy only: IOPub fell silent, ask again
        ([], False),  # nothing over IOPub: not subscribed yet, ask again
    ],
)
def test_the_ready_client_waits_for_the_idle_of_the_answered_request(iopub: list, ready: bool) -> None:
    client = _client(_Channel(_msg("kernel_info_reply", "a")), _Channel(*iopub))
    assert run_sync(client._answered)() is ready


def test_the_ready_client_is_not_ready_without_a_kernel_info_reply() -> None:
    client = _client(
        _Channel(_msg("execute_reply", "a")), _Channel(_msg("status", "a", execution_state="idle"))
    )
    assert run_sync(client._answered)() is False
    assert run_sync(_client(_Channel(), _Channel())._answered)() is False


def test_papermill_runs_a_notebook_on_the_ready_client_and_sees_every_output(tmp_path: Path) -> None:
    """The client of the week's kernels: papermill's notebook client gets one, and no output is lost."""
    import papermill

    cells = [nbformat.v4.new_code_cell(f"print({i})") for i in range(3)]
    source, ran = tmp_path / "nb.ipynb", tmp_path / "ran.ipynb"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(source))
    assert isinstance(LocalKernelManager().client(), ReadyClient)
    papermill.execute_notebook(
        str(source), str(ran), kernel_manager_class=LocalKernelManager, progress_bar=False, log_output=False
    )
    outputs = [c.outputs[0]["text"] for c in nbformat.read(str(ran), as_version=4).cells]
    assert outputs == ["0\n", "1\n", "2\n"]


def test_a_retired_kernel_that_hangs_in_its_shutdown_is_terminated(tmp_path: Path) -> None:
    """ipykernel 7 sometimes hangs in its shutdown: a retired kernel still running EXIT_S after its shutdown
    request is terminated at the next day's end (or the week's), never waited for."""
    book = _workbook(tmp_path, "a.ipynb")
    with Kernels(tmp_path) as kernels:
        first = kernels.take(book)
        manager = first.ready()
        assert manager is not None
        _run(
            manager, "import atexit, time\natexit.register(time.sleep, 600)\nresult = 1"
        )  # hangs as it exits
        process = manager.provisioner.process
        kernels.done(first)
        second = kernels.take(book)
        assert second.ready() is not None
        time.sleep(EXIT_S + 0.2)
        assert process.poll() is None and first.hung()
        kernels.done(second)  # the day's end: the hung kernel is sent SIGTERM, not waited for
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGTERM
    assert _stopped(first) and _stopped(second)
