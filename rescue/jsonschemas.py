"""jsonschema, imported once for the whole package before anything else imports it (nbformat included).

``rescue/__init__`` imports this module first, so that every kernel of the week, the ``rescue`` command and a
JupyterLab session get jsonschema without compiling ``rfc3987_syntax``'s grammar (see :func:`import_jsonschema`),
whichever of rescue's modules, or nbformat, asks for jsonschema first.
"""

from __future__ import annotations

import importlib.util
import sys
import types


def import_jsonschema() -> types.ModuleType:
    """jsonschema, without compiling the IRI grammar of ``rfc3987_syntax`` until an ``iri`` format is checked.

    Importing jsonschema imports its format checker, which imports ``rfc3987_syntax`` when it is installed (it
    comes with jupyter-events' ``jsonschema[format-nongpl]``); that module compiles an Earley grammar as it is
    imported: about 1.5 s in every workbook's kernel, and more at its exit. rescue's schemas hold no IRI
    format and validate without a format checker. While jsonschema is imported, ``rfc3987_syntax`` is a
    stand-in whose ``is_valid_syntax`` imports the real module when first called, so a format checker still
    checks ``iri`` and ``iri-reference`` as before; afterwards the name is the real module's again.
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules or not _installed("rfc3987_syntax"):
        import jsonschema

        return jsonschema

    def is_valid_syntax(term: str, value: str) -> bool:
        from rfc3987_syntax import is_valid_syntax as check  # the real module: the stand-in is gone

        return check(term, value)

    stand_in = types.ModuleType("rfc3987_syntax", "rescue's stand-in while jsonschema is imported")
    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    sys.modules["rfc3987_syntax"] = stand_in
    try:
        import jsonschema
    finally:
        if sys.modules.get("rfc3987_syntax") is stand_in:
            del sys.modules["rfc3987_syntax"]
    return jsonschema


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


jsonschema = import_jsonschema()
