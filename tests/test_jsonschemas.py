"""jsonschema comes without compiling rfc3987_syntax's IRI grammar, whatever a workbook imports first."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from rescue.kernels import workbook_imports
from rescue.week import DAYS, workbooks_dir

CHECK_IRIS = (
    "import jsonschema\n"
    "assert 'rfc3987_syntax.syntax_helpers' not in sys.modules, 'the grammar was compiled on import'\n"
    "checker = jsonschema.FormatChecker()\n"
    "assert checker.conforms('https://example.org/ä?q=1#f', 'iri')\n"
    "assert not checker.conforms('no iri', 'iri') and not checker.conforms(':', 'iri-reference')\n"
    "assert checker.conforms('#f', 'iri-reference')\n"
    "assert sys.modules['rfc3987_syntax'].__name__ == 'rfc3987_syntax'\n"
    "assert hasattr(sys.modules['rfc3987_syntax'], 'syntax_parser'), 'the real module'\n"
)


@pytest.mark.parametrize("first", [d.workbook for d in DAYS] + ["rescue.week", "nbformat-after-rescue"])
def test_no_workbook_import_compiles_the_iri_grammar_and_iris_are_still_checked(first: str) -> None:
    """Each workbook's imports, in its own order in a fresh interpreter (as its kernel runs them), leave the
    grammar uncompiled (about 0.85 s a kernel); so does the ``rescue`` command's week module. A format checker
    then checks ``iri`` as jsonschema always did."""
    if importlib.util.find_spec("rfc3987_syntax") is None:
        pytest.skip("rfc3987_syntax is not installed: jsonschema checks no IRI format")
    if first.endswith(".ipynb"):
        modules = workbook_imports(workbooks_dir() / first)
        assert any(m.startswith("rescue") for m in modules), modules
    else:
        modules = ["rescue.week"] if first == "rescue.week" else ["rescue", "nbformat"]
    script = "import importlib, sys\n" + "".join(
        f"try:\n    importlib.import_module({m!r})\nexcept ImportError:\n    pass\n" for m in modules
    )
    ran = subprocess.run(
        [sys.executable, "-c", script + CHECK_IRIS], capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
