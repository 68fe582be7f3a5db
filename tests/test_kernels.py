"""The week's kernels, started ahead: warmed with their workbook's imports, nothing else left behind."""

from __future__ import annotations

from pathlib import Path

import nbformat

from rescue.kernels import Kernels, WarmKernel, workbook_imports
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
    from jupyter_core.utils import run_sync

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


def test_kernels_one_ahead_stop_everything_on_leaving(tmp_path: Path) -> None:
    with Kernels(workbooks_dir()) as kernels:
        first = kernels.take(DAY1)
        kernels.ahead(DAY1)
        ahead = kernels._ahead
        assert first.ready() is not None
        kernels.done(first)
    for kernel in (first, ahead):
        assert kernel is not None and kernel._warm is None
        assert kernel.manager.provisioner is None or kernel.manager.provisioner.process is None
